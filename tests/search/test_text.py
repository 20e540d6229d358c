"""The Python side of the SQLite backend: Snowball stems and highlights built from the original text."""

from __future__ import annotations

from search import text as it


def test_stems_join_inflections_and_drop_stop_words() -> None:
    assert it.query_stems("i pignoramenti della tassa automobilistica") == ["pignor", "tass", "automobilist"]
    assert it.stems("PIGNORAMENTO, Pignoramenti!") == ["pignor", "pignor"]


def test_highlight_marks_inflections_and_escapes_the_rest() -> None:
    wanted = set(it.query_stems("pignoramenti"))
    assert it.highlight('<b>Pignoramento</b> & "altro"', wanted) == (
        "&lt;b&gt;<em>Pignoramento</em>&lt;/b&gt; &amp; &quot;altro&quot;")
    assert it.highlight("nessuna corrispondenza <qui>", wanted) == "nessuna corrispondenza &lt;qui&gt;"


def test_highlight_of_a_long_text_finds_a_late_match_and_stops_after_an_early_one() -> None:
    wanted = set(it.query_stems("pignoramento"))
    filler = "parola varia diversa " * 50_000
    late = it.highlight(filler + "il pignoramento finale", wanted)
    assert late.startswith("… ") and late.endswith("<em>pignoramento</em> finale")
    early = it.highlight("pignoramento " + filler + " pignoramenti", wanted)
    assert early.startswith("<em>pignoramento</em> parola") and early.endswith(" …")
    assert early.count("<em>") == 1  # the second match lies past SCAN_CHARS


def test_from_marked_and_normalize_html_agree_on_escaping() -> None:
    assert it.from_marked("a < \x02b\x03 & 'c'") == "a &lt; <em>b</em> &amp; &#x27;c&#x27;"
    es = "a &lt; <em>b</em> &amp; &#x2F; &#39;c&#39;"  # Elasticsearch's html encoder
    assert it.normalize_html(es) == "a &lt; <em>b</em> &amp; / &#x27;c&#x27;"
