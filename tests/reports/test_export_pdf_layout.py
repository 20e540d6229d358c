"""The PDF export is readable: no two words print over each other, codes show as labels, years without
thousands separators, portrait for narrow tables and landscape for wide ones, headings on every page."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
import pytest

from app.engine.states import STATES
from app.positions.exports import POSITION_COLUMNS
from app.reports.exports import Column, ExportSpec, write_pdf

WIDE_SPEC = ExportSpec(
    title="Posizioni debitorie",
    columns=POSITION_COLUMNS,
    filename_stem="posizioni",
    totals=("original_cents", "paid_cents", "due_cents"),
)


def wide_rows(count: int) -> list[dict]:
    names = ("Bianchi Giovanni Maria Alessandro", "Società Cooperativa Agricola Della Valle S.r.l.", "Wu Li")
    states = list(STATES)
    return [
        {
            "ente": "R01",
            "entrata": "TASSA_AUTO",
            "id_posizione": f"TA-2019-{i:06d}",
            "codice_fiscale": "RSSMRA80A01H501U",
            "nominativo": names[i % 3],
            "anno": 2019 + i % 3,
            "descrizione": "Tassa automobilistica regionale anno 2019 veicolo AB123CD",
            "riferimento": f"AB123CD-2019-{i:05d}",
            "data_scadenza": dt.date(2020, 1, 31),
            "stato": states[i % len(states)],
            "original_cents": 123_456_789,
            "paid_cents": 1_234,
            "due_cents": 123_455_555,
        }
        for i in range(count)
    ]


def words_of(pdf: bytes) -> list[list[dict]]:
    """Each page's words in the order they are drawn: a word never continues across a jump back to the left,
    so two cells printed over each other stay two words with intersecting boxes."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_words(use_text_flow=True, x_tolerance=1) for page in document.pages]


def overlapping(words: list[dict], tolerance: float = 0.5) -> list[tuple[str, str]]:
    found = []
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            if (
                a["x0"] < b["x1"] - tolerance
                and b["x0"] < a["x1"] - tolerance
                and a["top"] < b["bottom"] - tolerance
                and b["top"] < a["bottom"] - tolerance
            ):
                found.append((a["text"], b["text"]))
    return found


@pytest.fixture(scope="module")
def wide_pdf() -> bytes:
    return b"".join(write_pdf(wide_rows(80), WIDE_SPEC))


def test_no_two_words_of_a_wide_table_overlap(wide_pdf) -> None:
    pages = words_of(wide_pdf)
    assert len(pages) > 1
    for number, words in enumerate(pages, start=1):
        assert overlapping(words) == [], f"page {number}"


def test_a_wide_table_is_landscape_with_its_headings_on_every_page(wide_pdf) -> None:
    with pdfplumber.open(io.BytesIO(wide_pdf)) as document:
        for page in document.pages:
            assert page.width > page.height
            text = page.extract_text()
            assert "Codice fiscale" in text and "Dovuto" in text


def test_years_without_separators_and_states_as_labels(wide_pdf) -> None:
    text = " ".join(" ".join(w["text"] for w in page) for page in words_of(wide_pdf))
    assert "2019" in text and "2.019" not in text and "2.020" not in text
    assert "Parzialmente" in text and "parzialmente_pagata" not in text
    assert "in_rateazione" not in text


def test_a_narrow_table_is_portrait() -> None:
    columns = [Column("stato", "Stato", labels=STATES), Column("n", "Posizioni", "int")]
    spec = ExportSpec("Stati", columns, "s")
    pdf = b"".join(write_pdf([{"stato": code, "n": 1234} for code in STATES], spec))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        assert page.height > page.width
        text = page.extract_text()
    assert "1.234" in text and "Parzialmente pagata" in text


def test_a_table_too_wide_for_any_text_size_still_never_overlaps() -> None:
    spec = ExportSpec("Larga", [Column(f"c{i}", f"Colonna {i}") for i in range(14)], "larga")
    rows = [{f"c{i}": f"CODICE-MOLTO-LUNGO-SENZA-SPAZI-{i}-{r}" for i in range(14)} for r in range(5)]
    pdf = b"".join(write_pdf(rows, spec))
    for words in words_of(pdf):
        assert overlapping(words) == []
