"""Codes and years in every format: people's formats (PDF, XLSX, ODS) show labels and years without thousands
separators; machine formats (CSV, XML) keep the codes other systems match on."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest

from app.reports.exports import Column, ExportSpec, write_export
from tests.reports.readers import _ods_rows, column_values

LABELS = {"in_rateazione": "In rateazione", "pagata": "Pagata"}
SPEC = ExportSpec(
    "Stati",
    [
        Column("stato", "Stato", labels=LABELS),
        Column("anno", "Anno", "int", grouping=False),
        Column("n", "Posizioni", "int"),
    ],
    "stati",
)
ROWS = [
    {"stato": "in_rateazione", "anno": 2019, "n": 12345},
    {"stato": "pagata", "anno": 2020, "n": 1},
    {"stato": "codice_ignoto", "anno": 2021, "n": 2},
]


def export(fmt: str) -> bytes:
    return b"".join(write_export(ROWS, SPEC, fmt, generated_at=datetime(2026, 1, 1, tzinfo=UTC)))


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_machine_formats_keep_the_codes(fmt) -> None:
    content = export(fmt)
    assert column_values(fmt, content, "Stato", "stato") == ["in_rateazione", "pagata", "codice_ignoto"]
    assert column_values(fmt, content, "Anno", "anno") == ["2019", "2020", "2021"]


def test_xlsx_shows_labels_and_plain_years() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(export("xlsx"))).worksheets[0]
    assert [sheet.cell(r, 1).value for r in (2, 3, 4)] == ["In rateazione", "Pagata", "codice_ignoto"]
    assert sheet.cell(2, 2).value == 2019 and sheet.cell(2, 2).number_format == "0"
    assert sheet.cell(2, 3).number_format == "#,##0"  # a count keeps its separators


def test_ods_shows_labels_and_plain_years() -> None:
    rows = _ods_rows(export("ods"))
    assert rows[1][:3] == ["In rateazione", "2019", "12.345"]
    assert rows[3][0] == "codice_ignoto"


def test_labels_and_grouping_only_where_they_mean_something() -> None:
    with pytest.raises(ValueError, match="labels are for text columns"):
        Column("n", "N", "int", labels=LABELS)
    with pytest.raises(ValueError, match="grouping applies to int columns"):
        Column("d", "Data", "date", grouping=False)
