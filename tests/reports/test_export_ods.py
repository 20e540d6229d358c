import io
import shutil
import zipfile

import pytest
from lxml import etree

from app.reports.exports import Column, ExportSpec, write_ods
from app.reports.formatting import cents_to_machine, format_eur, format_int

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
needs_libreoffice = pytest.mark.skipif(
    shutil.which("libreoffice") is None, reason="LibreOffice is not installed"
)


def ods_package(rows, spec, **kwargs):
    return zipfile.ZipFile(io.BytesIO(b"".join(write_ods(rows, spec, **kwargs))))


def data_rows(content):
    table = content.find("office:body/office:spreadsheet/table:table", NS)
    return table.findall("table:table-row", NS)


def test_ods_package_starts_with_a_stored_mimetype(spec, sample_rows):
    data = b"".join(write_ods(iter(sample_rows), spec))
    assert data[30:38] == b"mimetype"
    assert data[38:84] == b"application/vnd.oasis.opendocument.spreadsheet"
    package = zipfile.ZipFile(io.BytesIO(data))
    first = package.infolist()[0]
    assert first.filename == "mimetype"
    assert first.compress_type == zipfile.ZIP_STORED
    assert first.extra == b""
    assert package.testzip() is None
    manifest = etree.fromstring(package.read("META-INF/manifest.xml"))
    paths = {entry.get(f"{{{NS['manifest']}}}full-path") for entry in manifest}
    assert {"/", "content.xml", "styles.xml", "meta.xml", "settings.xml"} <= paths
    for name in ("styles.xml", "meta.xml", "settings.xml"):
        etree.fromstring(package.read(name))


def test_ods_cells_carry_typed_values(spec, sample_rows):
    content = etree.fromstring(ods_package(iter(sample_rows), spec).read("content.xml"))
    rows = data_rows(content)
    assert len(rows) == len(sample_rows) + 1  # plus the totals; the header is in table-header-rows
    for element, row in zip(rows, sample_rows, strict=False):
        cells = element.findall("table:table-cell", NS)
        assert len(cells) == len(spec.columns)
        amount = cells[3]
        if row["amount_cents"] is None:
            assert amount.get(f"{OFFICE}value-type") is None
        else:
            assert amount.get(f"{OFFICE}value-type") == "currency"
            assert amount.get(f"{OFFICE}currency") == "EUR"
            assert amount.get(f"{OFFICE}value") == cents_to_machine(row["amount_cents"])
            assert amount.findtext("text:p", namespaces=NS) == format_eur(row["amount_cents"])
        due = cells[4]
        if row["due_date"] is not None:
            assert due.get(f"{OFFICE}value-type") == "date"
            assert due.get(f"{OFFICE}date-value") == row["due_date"].isoformat()
        text = cells[1]
        if row["taxpayer"] is not None:
            assert text.get(f"{OFFICE}value-type") == "string"


def test_ods_has_italian_currency_and_date_styles(spec, sample_rows):
    content = etree.fromstring(ods_package(sample_rows, spec).read("content.xml"))
    currency = content.find(".//number:currency-style[@style:name='N_EUR']", NS)
    assert currency.find("number:currency-symbol", NS).text == "€"
    assert currency.get(f"{{{NS['number']}}}language") == "it"
    assert currency.find("number:number", NS).get(f"{{{NS['number']}}}grouping") == "true"
    date_style = content.find(".//number:date-style[@style:name='N_DATE']", NS)
    parts = [child.tag.split("}")[1] for child in date_style]
    assert parts == ["day", "text", "month", "text", "year"]


def test_ods_totals_row_sums_with_a_formula(spec, sample_rows, totals_of):
    content = etree.fromstring(ods_package(sample_rows, spec).read("content.xml"))
    totals = totals_of(sample_rows)
    cells = data_rows(content)[-1].findall("table:table-cell", NS)
    assert cells[0].findtext("text:p", namespaces=NS) == "Totale"
    assert cells[3].get(f"{OFFICE}value") == cents_to_machine(totals["amount_cents"])
    assert cells[3].get(f"{TABLE}formula") == f"of:=SUM([.D2:.D{len(sample_rows) + 1}])"
    assert cells[2].get(f"{OFFICE}value") == str(totals["installments"])


def test_ods_text_is_escaped_and_cleaned():
    spec = ExportSpec("Prova <&>", [Column("t", "Testo")], "prova")
    rows = [("a <b> & \"c\" 'd'",), ("nul\x00 and bell\x07",), ("  lead",), ("x\ny",), ("a\tb",)]
    content = etree.fromstring(ods_package(rows, spec).read("content.xml"))
    paragraphs = [
        ["".join(p.itertext()) for p in cell.findall("text:p", NS)]
        for row in data_rows(content)
        for cell in row.findall("table:table-cell", NS)
    ]
    assert paragraphs[0] == ["a <b> & \"c\" 'd'"]
    assert paragraphs[1] == ["nul and bell"]
    assert paragraphs[3] == ["x", "y"]
    tab = data_rows(content)[4].find("table:table-cell/text:p", NS)
    assert tab.text == "a" and tab.find("text:tab", NS).tail == "b"
    lead = data_rows(content)[2].find("table:table-cell/text:p", NS)
    assert lead.find("text:s", NS).get(f"{{{NS['text']}}}c") == "2"


def test_ods_writes_content_row_by_row_without_reading_ahead(spec, row_factory):
    read = 0

    def rows():
        nonlocal read
        for row in row_factory(2000):
            read += 1
            yield row

    chunks = write_ods(rows(), spec)
    assert read == 0  # a generator: nothing happens until the first chunk is asked for
    b"".join(chunks)
    assert read == 2000


@needs_libreoffice
def test_ods_read_by_libreoffice_shows_the_rows_and_totals_in_italian(
    libreoffice_csv, spec, sample_rows, display, totals_of
):
    shown = libreoffice_csv["ods"]
    assert shown[0] == [column.header for column in spec.columns]
    # LibreOffice drops <text:tab/> when it loads any ODS cell, even one it saved itself; the tab is in the
    # file (test_ods_text_is_escaped_and_cleaned).
    expected = [[cell.replace("\t", "") for cell in display(row)] for row in sample_rows]
    assert shown[1:-1] == expected
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
