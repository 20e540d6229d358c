"""What a parameter's `source` may say: a legal citation, never a file, a web site or a research note.

The source of a legal number is shown to operators and taxpayers and returned by the API (the deadlines'
`source`), so it names the act: "D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)", "art. 2946 c.c.",
"L. 160/2019, art. 1 c. 803 lett. a", "Provv. Agenzia delle Entrate 23 maggio 2019 n. 148038". Where it was
found and what is still uncertain go in the row's `note`, which no screen shows.
"""

from __future__ import annotations

import re

#: A citation starts with the act (or the article of a code or act) it refers to.
ACT_START = re.compile(
    r"^(?:artt?\.\s*\d"                        # art. 2946 c.c., artt. 2943-2945 c.c.
    r"|D\.M\.\s|D\.L\.\s|D\.Lgs\.\s|D\.P\.R\.\s|D\.P\.C\.M\.\s|R\.D\.\s|L\.\s*(?:R\.\s*)?\d"
    r"|Provv\.\s|Provvedimento\s|Decreto\s|Legge\s|Regolamento\s|Delibera(?:zione)?\s|D\.G\.R\.\s"
    r"|Reg\.\s*\(?UE\)?\s)"
)
#: Things that are not part of a legal citation: addresses, file names, paths and research wording.
_NOT_A_CITATION = (
    (re.compile(r"https?:|://|\bwww\.", re.IGNORECASE), "un indirizzo web"),
    (re.compile(r"\b[a-z0-9-]+\.(?:it|com|org|net|eu|gov|info|int)\b", re.IGNORECASE), "un sito web"),
    (re.compile(r"\b[\w-]+\.(?:md|py|txt|html?|json|csv|pdf|xml|xlsx?|docx?)\b", re.IGNORECASE), "un file"),
    (re.compile(r"[A-Za-z_]\s*[/\\]|[/\\]\s*[A-Za-z_]|§"), "un percorso o un riferimento a un documento"),
    (re.compile(r"unconfirmed|ricordo|non verificat|da verificare|da confermare|\?|TODO", re.IGNORECASE),
     "una nota di lavoro"),
)
MAX_LENGTH = 500


def citation_error(text: str | None) -> str | None:
    """None when `text` is an acceptable legal citation, otherwise why not (Italian, for the form)."""
    value = (text or "").strip()
    if not value:
        return "Indica l'atto normativo da cui viene il valore."
    if len(value) > MAX_LENGTH:
        return f"Al massimo {MAX_LENGTH} caratteri."
    what = foreign_content(value)
    if what:
        return (
            f"Contiene {what}: indica solo l'atto normativo, es. «D.M. 13 dicembre 2021 (G.U. n. 297 del "
            "15/12/2021)» o «art. 2946 c.c.»; le note di lavoro non vanno nella fonte."
        )
    if not ACT_START.match(value):
        return (
            "Deve iniziare con l'atto normativo (art., D.M., D.L., D.Lgs., D.P.R., L., R.D., Provv., "
            "Regolamento, Delibera...), es. «D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)»."
        )
    return None


def foreign_content(text: str) -> str | None:
    """What `text` holds that no legal reference does ("un indirizzo web", "un file"...), or None."""
    for pattern, what in _NOT_A_CITATION:
        if pattern.search(text):
            return what
    return None


def is_legal_citation(text: str | None) -> bool:
    return citation_error(text) is None
