"""Italian text for the embedded backends: words, Snowball stems, stop words and highlights built in Python.

SQLite's FTS5 has no Italian stemmer, so the SQLite backend stores the Snowball stems of the text (PyStemmer,
the same algorithm as PostgreSQL's `italian` configuration and Elasticsearch's `italian` analyzer) and stems
the query the same way; the highlight marks the original words whose stem is a query stem.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable

import Stemmer

# the Snowball Italian stop words (PostgreSQL's tsearch_data/italian.stop)
STOP_WORDS = frozenset(
    [
        "ad", "al", "allo", "ai", "agli", "all", "agl", "alla", "alle", "con", "col", "coi", "da", "dal",
        "dallo", "dai", "dagli", "dall", "dagl", "dalla", "dalle", "di", "del", "dello", "dei", "degli",
        "dell", "degl", "della", "delle", "in", "nel", "nello", "nei", "negli", "nell", "negl", "nella",
        "nelle", "su", "sul", "sullo", "sui", "sugli", "sull", "sugl", "sulla", "sulle", "per", "tra",
        "contro", "io", "tu", "lui", "lei", "noi", "voi", "loro", "mio", "mia", "miei", "mie", "tuo",
        "tua", "tuoi", "tue", "suo", "sua", "suoi", "sue", "nostro", "nostra", "nostri", "nostre",
        "vostro", "vostra", "vostri", "vostre", "mi", "ti", "ci", "vi", "lo", "la", "li", "le", "gli",
        "ne", "il", "un", "uno", "una", "ma", "ed", "se", "perché", "anche", "come", "dov", "dove", "che",
        "chi", "cui", "non", "più", "quale", "quanto", "quanti", "quanta", "quante", "quello", "quelli",
        "quella", "quelle", "questo", "questi", "questa", "queste", "si", "tutto", "tutti", "a", "c", "e",
        "i", "l", "o", "ho", "hai", "ha", "abbiamo", "avete", "hanno", "abbia", "abbiate", "abbiano",
        "avrò", "avrai", "avrà", "avremo", "avrete", "avranno", "avrei", "avresti", "avrebbe", "avremmo",
        "avreste", "avrebbero", "avevo", "avevi", "aveva", "avevamo", "avevate", "avevano", "ebbi",
        "avesti", "ebbe", "avemmo", "aveste", "ebbero", "avessi", "avesse", "avessimo", "avessero",
        "avendo", "avuto", "avuta", "avuti", "avute", "sono", "sei", "è", "siamo", "siete", "sia",
        "siate", "siano", "sarò", "sarai", "sarà", "saremo", "sarete", "saranno", "sarei", "saresti",
        "sarebbe", "saremmo", "sareste", "sarebbero", "ero", "eri", "era", "eravamo", "eravate", "erano",
        "fui", "fosti", "fu", "fummo", "foste", "furono", "fossi", "fosse", "fossimo", "fossero",
        "essendo", "faccio", "fai", "facciamo", "fanno", "faccia", "facciate", "facciano", "farò",
        "farai", "farà", "faremo", "farete", "faranno", "farei", "faresti", "farebbe", "faremmo",
        "fareste", "farebbero", "facevo", "facevi", "faceva", "facevamo", "facevate", "facevano", "feci",
        "facesti", "fece", "facemmo", "faceste", "fecero", "facessi", "facesse", "facessimo", "facessero",
        "facendo", "sto", "stai", "sta", "stiamo", "stanno", "stia", "stiate", "stiano", "starò",
        "starai", "starà", "staremo", "starete", "staranno", "starei", "staresti", "starebbe", "staremmo",
        "stareste", "starebbero", "stavo", "stavi", "stava", "stavamo", "stavate", "stavano", "stetti",
        "stesti", "stette", "stemmo", "steste", "stettero", "stessi", "stesse", "stessimo", "stessero",
        "stando",
    ]
)

WORD = re.compile(r"\w+")
# C0 controls other than tab, newline, form feed and carriage return: never part of a document's text, and the
# PostgreSQL backend uses two of them as highlight markers
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
MARK_START, MARK_STOP = "\x02", "\x03"
ELLIPSIS = " … "
SCAN_CHARS = 100_000  # with one fragment found, a highlight stops looking for a second one past this

_stemmer = Stemmer.Stemmer("italian")


def clean(text: str) -> str:
    """The text without the control characters a document never needs (markers cannot be forged)."""
    return CONTROL.sub(" ", text or "")


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text or "")]


def stems(text: str) -> list[str]:
    """The Snowball stems of the text's words, stop words left out (what the index stores, in order)."""
    return _stemmer.stemWords([w for w in words(text) if w not in STOP_WORDS])


def stem_text(text: str) -> str:
    return " ".join(stems(text))


def query_stems(query: str) -> list[str]:
    """The distinct stems of a query, in order (every one must be found: AND)."""
    return list(dict.fromkeys(stems(query)))


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def from_marked(marked: str, start: str = MARK_START, stop: str = MARK_STOP) -> str:
    """Text with start/stop markers around the matches -> HTML: the text escaped, the matches in <em>."""
    out: list[str] = []
    for i, part in enumerate(marked.split(start)):
        if i == 0:
            out.append(escape(part.replace(stop, "")))
            continue
        inner, _, rest = part.partition(stop)
        out.append(f"<em>{escape(inner)}</em>{escape(rest.replace(stop, ''))}")
    return "".join(out)


def normalize_html(fragment: str) -> str:
    """An HTML fragment whose only tags are <em>/</em> (e.g. Elasticsearch's html encoder, which also writes
    `&#x2F;`) rewritten with the same escaping as the other backends."""
    marked = fragment.replace("<em>", MARK_START).replace("</em>", MARK_STOP)
    return from_marked(html.unescape(marked))


def highlight(text: str, wanted: Collection[str], *, before: int = 8, after: int = 22,
              fragments: int = 2) -> str:
    """Up to `fragments` windows of the text around the words whose stem is in `wanted`, the words in <em>,
    the rest HTML-escaped; without a match, the start of the text. The text is read only as far as the last
    window (an OCR text can run to hundreds of pages) and each distinct word is stemmed once."""
    tokens: list[re.Match[str]] = []
    marks: set[int] = set()
    windows: list[tuple[int, int]] = []
    is_match: dict[str, bool] = {}
    more = False
    for m in WORD.finditer(text):
        done = len(windows) == fragments or m.start() > SCAN_CHARS
        if windows and done and len(tokens) >= windows[-1][1]:
            more = True
            break
        i = len(tokens)
        tokens.append(m)
        word = m.group().lower()
        if word not in is_match:
            is_match[word] = word not in STOP_WORDS and _stemmer.stemWord(word) in wanted
        if is_match[word]:
            marks.add(i)
            if len(windows) < fragments and (not windows or i >= windows[-1][1]):
                windows.append((max(0, i - before), i + after))
    if not tokens:
        return escape(text[:200].strip())
    windows = [(first, min(last, len(tokens))) for first, last in windows or [(0, before + after)]]
    parts = []
    for first, last in windows:
        out, pos = [], 0 if first == 0 else tokens[first].start()  # punctuation before the first word too
        for i in range(first, last):
            m = tokens[i]
            out.append(escape(text[pos:m.start()]))
            out.append(f"<em>{escape(m.group())}</em>" if i in marks else escape(m.group()))
            pos = m.end()
        if last == len(tokens) and not more:
            out.append(escape(text[pos:].rstrip()))
        parts.append("".join(out))
    lead = "… " if windows[0][0] > 0 else ""
    tail = " …" if more or windows[-1][1] < len(tokens) else ""
    return lead + join_fragments(parts) + tail


def join_fragments(fragments: Iterable[str]) -> str:
    return ELLIPSIS.join(f for f in fragments if f)
