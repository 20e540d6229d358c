"""Read an export back, whatever its format, as the column the test checks (each format by its own reader)."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pdfplumber
from lxml import etree

TOTAL = "Totale"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def column_values(fmt: str, content: bytes, header: str, key: str) -> list[str]:
    """The values of one column, data rows only (no heading, no "Totale" row), as text.

    ``header`` names the column in CSV/XLSX/ODS/ODT, ``key`` in XML. A PDF has no cells: its words are
    returned and the caller looks for its values among them.
    """
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8").lstrip("\ufeff")), delimiter=";"))
        return _data(rows, header)
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        return _data(rows, header)
    if fmt in ("ods", "odt"):  # the spreadsheet's table and the text document's table read alike
        return _data(_ods_rows(content), header)
    if fmt == "xml":
        root = etree.fromstring(content, parser=_SAFE)
        return [
            next((value.text or "" for value in row if value.get("name") == key), "")
            for row in root.iter("{*}row")
        ]
    if fmt == "pdf":
        with pdfplumber.open(io.BytesIO(content)) as document:
            return [
                word["text"]
                for page in document.pages
                for word in page.extract_words(use_text_flow=True, x_tolerance=1)
            ]
    raise ValueError(fmt)


def _data(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:] if row and TOTAL not in row[:3] and any(row)]


def _ods_rows(content: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        root = etree.fromstring(package.read("content.xml"), parser=_SAFE)
    rows = []
    for row in root.iter(f"{{{_NS['table']}}}table-row"):
        cells: list[str] = []
        for cell in row.iter(f"{{{_NS['table']}}}table-cell"):
            repeat = int(cell.get(f"{{{_NS['table']}}}number-columns-repeated", "1"))
            text = "\n".join("".join(p.itertext()) for p in cell.iter(f"{{{_NS['text']}}}p"))
            cells.extend([text] * repeat)
        rows.append(cells)
    return rows
