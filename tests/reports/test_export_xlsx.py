import io
import re
import shutil
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from app.reports.export_formats.xlsx_writer import _spreadsheet_number
from app.reports.exports import Column, ExportSpec, write_xlsx
from app.reports.formatting import format_eur, format_int

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
needs_libreoffice = pytest.mark.skipif(
    shutil.which("libreoffice") is None, reason="LibreOffice is not installed"
)


def open_workbook(data: bytes):
    package = zipfile.ZipFile(io.BytesIO(data))
    sheet = etree.fromstring(package.read("xl/worksheets/sheet1.xml"))
    styles = etree.fromstring(package.read("xl/styles.xml"))
    return package, sheet, styles


def number_format_of(styles, style_index: int) -> str:
    """The number format code of a cell style (``s`` attribute) in styles.xml."""
    xf = styles.findall("m:cellXfs/m:xf", NS)[style_index]
    format_id = xf.get("numFmtId")
    custom = styles.find(f"m:numFmts/m:numFmt[@numFmtId='{format_id}']", NS)
    return custom.get("formatCode") if custom is not None else f"builtin:{format_id}"


def cells_of_column(sheet, letter: str) -> dict[int, etree._Element]:
    cells = {}
    for cell in sheet.iterfind("m:sheetData/m:row/m:c", NS):
        match = re.fullmatch(r"([A-Z]+)(\d+)", cell.get("r"))
        if match.group(1) == letter:
            cells[int(match.group(2))] = cell
    return cells


def test_xlsx_is_a_workbook_with_a_frozen_filtered_header(spec, sample_rows, generated_at):
    package, sheet, _ = open_workbook(
        b"".join(write_xlsx(iter(sample_rows), spec, generated_at=generated_at))
    )
    assert "xl/workbook.xml" in package.namelist()
    pane = sheet.find("m:sheetViews/m:sheetView/m:pane", NS)
    assert pane.get("state") == "frozen" and pane.get("ySplit") == "1"
    assert sheet.find("m:autoFilter", NS).get("ref") == f"A1:G{len(sample_rows) + 1}"
    widths = [float(col.get("width")) for col in sheet.iterfind("m:cols/m:col", NS)]
    assert len(widths) == len(spec.columns) and widths[1] > 30


def test_xlsx_money_cells_are_numbers_in_euro_format(spec, sample_rows):
    _, sheet, styles = open_workbook(b"".join(write_xlsx(iter(sample_rows), spec)))
    amounts = cells_of_column(sheet, "D")
    for line, row in enumerate(sample_rows, start=2):
        cents = row["amount_cents"]
        if cents is None:
            assert line not in amounts
            continue
        cell = amounts[line]
        assert cell.get("t") is None, "a number cell has no type attribute"
        assert float(cell.findtext("m:v", namespaces=NS)) == cents / 100
        assert number_format_of(styles, int(cell.get("s"))) == '#,##0.00 "€"'


def test_xlsx_dates_are_date_cells(spec, sample_rows):
    _, sheet, styles = open_workbook(b"".join(write_xlsx(iter(sample_rows), spec)))
    dates = cells_of_column(sheet, "E")
    line, row = next((i, r) for i, r in enumerate(sample_rows, start=2) if r["due_date"] is not None)
    assert number_format_of(styles, int(dates[line].get("s"))) == "dd/mm/yyyy"
    serial = float(dates[line].findtext("m:v", namespaces=NS))
    assert serial == (row["due_date"] - date(1899, 12, 30)).days


def test_xlsx_totals_row_has_formulas_and_exact_cached_values(spec, sample_rows, totals_of):
    _, sheet, styles = open_workbook(b"".join(write_xlsx(iter(sample_rows), spec)))
    totals = totals_of(sample_rows)
    last = len(sample_rows) + 2
    amount = cells_of_column(sheet, "D")[last]
    assert amount.findtext("m:f", namespaces=NS) == f"SUM(D2:D{last - 1})"
    assert float(amount.findtext("m:v", namespaces=NS)) == totals["amount_cents"] / 100
    count = cells_of_column(sheet, "C")[last]
    assert int(float(count.findtext("m:v", namespaces=NS))) == totals["installments"]
    label = cells_of_column(sheet, "A")[last]
    assert label.findtext("m:is/m:t", namespaces=NS) == "Totale"


def test_xlsx_text_is_never_a_formula(spec, sample_rows):
    _, sheet, _ = open_workbook(b"".join(write_xlsx(iter(sample_rows), spec)))
    names = cells_of_column(sheet, "B")
    texts = {cell.findtext("m:is/m:t", namespaces=NS) for cell in names.values()}
    assert "=SOMMA(A1:A2)" in texts
    assert all(cell.find("m:f", NS) is None for cell in names.values())


def test_xlsx_of_no_rows_has_header_and_zero_totals(spec):
    _, sheet, _ = open_workbook(b"".join(write_xlsx([], spec)))
    assert cells_of_column(sheet, "D")[2].findtext("m:v", namespaces=NS) == "0"


@pytest.mark.parametrize("cents", [0, 1, -5, 123456, -123456, 999_999_999_999_999, 2**46 * 100 - 1])
def test_spreadsheet_number_reads_back_as_the_exact_amount(cents):
    assert Decimal(f"{_spreadsheet_number(cents):.2f}") == Decimal(cents).scaleb(-2)


def test_xlsx_sheet_name_comes_from_the_title():
    spec = ExportSpec("Riscossioni [2025]: elenco completo dei versamenti", [Column("a", "A")], "r")
    package = zipfile.ZipFile(io.BytesIO(b"".join(write_xlsx([("x",)], spec))))
    workbook = etree.fromstring(package.read("xl/workbook.xml"))
    assert workbook.find("m:sheets/m:sheet", NS).get("name") == "Riscossioni  2025   elenco comp"


@needs_libreoffice
def test_xlsx_read_by_libreoffice_shows_the_rows_and_totals_in_italian(
    libreoffice_csv, spec, sample_rows, display, totals_of
):
    shown = libreoffice_csv["xlsx"]
    assert shown[0] == [column.header for column in spec.columns]
    assert shown[1:-1] == [display(row) for row in sample_rows]
    totals = totals_of(sample_rows)
    assert shown[-1] == [
        "Totale",
        "",
        format_int(totals["installments"]),
        format_eur(totals["amount_cents"]),
        "",
        "",
        "",
    ]


def test_xlsx_with_control_characters_stays_well_formed():
    spec = ExportSpec("Titolo\x01", [Column("t", "Testo\x02")], "t")
    package, sheet, _ = open_workbook(b"".join(write_xlsx([("a\x00b\x07c",)], spec)))
    etree.fromstring(package.read("docProps/core.xml"))
    assert cells_of_column(sheet, "A")[2].findtext("m:is/m:t", namespaces=NS).startswith("a")
