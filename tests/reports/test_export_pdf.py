import logging

import pypdfium2 as pdfium
import pytest

from app.reports.export_formats.pdf_writer import layout_columns, render_pdf, table_data
from app.reports.exports import Column, ExportSpec, ExportTooLarge, write_pdf
from app.reports.formatting import format_eur, format_int


def pdf_pages_text(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            text_page = page.get_textpage()
            pages.append(text_page.get_text_bounded())
            text_page.close()
            page.close()
        return pages
    finally:
        document.close()


@pytest.fixture(scope="module")
def sample_pdf_text(spec, row_factory, generated_at):
    """The sample PDF, rendered once for the module (a Typst child process takes a moment)."""
    pdf = b"".join(write_pdf(row_factory(500), spec, generated_at=generated_at))
    assert pdf.startswith(b"%PDF-")
    return pdf_pages_text(pdf)


def test_pdf_has_title_date_and_page_numbers_on_every_page(sample_pdf_text):
    pages = sample_pdf_text
    assert len(pages) > 5
    for number, text in enumerate(pages, start=1):
        assert "Posizioni da verificare" in text
        assert "Generato il 30/06/2025 14:00" in text
        assert f"Pagina {number} di {len(pages)}" in text
        assert "Codice posizione" in text, "the column headings repeat on every page"


def test_pdf_shows_cells_formatted_in_italian(sample_pdf_text, sample_rows):
    text = " ".join(sample_pdf_text).replace("\r\n", " ")
    for row in sample_rows[:60]:
        assert row["code"] in text
        if row["amount_cents"] is not None:
            assert format_eur(row["amount_cents"]) in text
    assert 'Società "Alfa"; S.r.l.' in text
    assert "Caffè <&> Più & C." in text
    assert "1.234.567.890," in text  # a large amount with Italian thousands separators


def test_pdf_ends_with_the_italian_totals(sample_pdf_text, sample_rows, totals_of):
    totals = totals_of(sample_rows)
    last_page = sample_pdf_text[-1]
    assert "Totale" in last_page
    assert format_eur(totals["amount_cents"]) in last_page
    assert format_int(totals["installments"]) in last_page


def test_pdf_refuses_too_many_rows_from_a_list_with_the_count(spec, sample_rows):
    with pytest.raises(ExportTooLarge, match=r"^Troppe righe per il PDF \(500\): usare CSV o XLSX$"):
        next(write_pdf(sample_rows, spec, max_rows=100))


def test_pdf_stops_reading_an_iterator_after_the_cap(spec, row_factory):
    read = 0

    def rows():
        nonlocal read
        for row in row_factory(10_000):
            read += 1
            yield row

    with pytest.raises(
        ExportTooLarge, match=r"Troppe righe per il PDF \(oltre 100\): usare CSV o XLSX"
    ) as error:
        next(write_pdf(rows(), spec, max_rows=100))
    assert error.value.max_rows == 100
    assert read == 101


def test_pdf_of_no_rows_says_so(spec):
    (text,) = pdf_pages_text(render_pdf([], spec))
    assert "Nessuna riga da esportare." in text
    assert "Pagina 1 di 1" in text


def test_pdf_in_process_is_the_same_document(spec, sample_rows, generated_at, caplog):
    rows = sample_rows[:30]
    caplog.set_level(logging.DEBUG, logger="app.reports.export_formats.pdf_writer")
    isolated = render_pdf(rows, spec, generated_at=generated_at)
    in_process = render_pdf(rows, spec, generated_at=generated_at, isolate=False)
    assert pdf_pages_text(isolated) == pdf_pages_text(in_process)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], "only font warnings are expected"


def test_pdf_text_never_runs_as_typst_markup(generated_at):
    spec = ExportSpec('#panic("no") *grassetto*', [Column("t", "Testo $x$")], "t")
    rows = [('#panic("boom") = titolo _corsivo_ `raw` <label> @ref \\ fine',), ("nul\x00 ok",)]
    (text,) = pdf_pages_text(render_pdf(rows, spec, generated_at=generated_at))
    assert '#panic("no") *grassetto*' in text
    assert '#panic("boom") = titolo _corsivo_ `raw` <label> @ref \\ fine' in text
    assert "nul ok" in text


def test_table_data_is_formatted_in_python(spec, sample_rows, generated_at):
    data = table_data(sample_rows[:3], spec, generated_at=generated_at)
    assert data["generated_at"] == "30/06/2025 14:00"
    assert data["alignments"] == ["left", "left", "right", "right", "left", "left", "right"]
    assert data["rows"][1][3] == format_eur(sample_rows[1]["amount_cents"])
    assert 0.999 < sum(data["widths"]) <= 1


def test_number_columns_get_the_width_of_their_longest_value():
    spec = ExportSpec("T", [Column("t", "Testo"), Column("a", "Importo", "money")], "t")
    narrow = layout_columns(spec, [5, 5], [5, 5], [2, 2]).fractions
    wide = layout_columns(spec, [5, 10], [5, 10], [2, 2]).fractions
    assert wide[1] > narrow[1]
    assert sum(wide) <= 1


def test_many_number_columns_shrink_to_fit_the_line():
    spec = ExportSpec("T", [Column(f"a{i}", f"Importo {i}", "money") for i in range(30)], "t")
    layout = layout_columns(spec, [6] * 30, [6] * 30, [3] * 30)
    assert 0.999 < sum(layout.fractions) <= 1
    assert layout.orientation == "landscape" and layout.font_pt < 8
