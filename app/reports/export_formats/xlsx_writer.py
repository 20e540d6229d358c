"""XLSX through XlsxWriter in ``constant_memory`` mode.

XlsxWriter flushes each row to a temporary file as soon as the next one starts, so memory stays flat whatever
the row count. It needs a seekable file to build the zip, so the workbook goes to a spooled temporary file
(in memory up to 16 MiB, then on disk) whose bytes are yielded once the workbook is closed.

Cells are real values: numbers with ``#,##0.00 "€"`` for money (Excel/LibreOffice show them with the
reader's separators, ``1.234,56 €`` in Italy), ``#,##0`` for integers, ``0.00%`` for percentages, dates as
``dd/mm/yyyy``. The header row is bold, frozen, filterable and repeated on printed pages; the "Totale" row
holds ``SUM`` formulas together with the exact sums as their cached values.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name

from app.reports.export_formats.spec import (
    TOTAL_LABEL,
    ExportSpec,
    ExportTooLarge,
    Totals,
    iter_values,
    sheet_name,
    xml_safe_text,
)
from app.reports.formatting import to_local_naive

XLSX_MAX_ROWS = 1_048_576
_CHUNK = 64 * 1024
_SPOOL_MAX = 16 * 1024 * 1024
_NUM_FORMATS = {
    "int": "#,##0",
    "year": "0",
    "money": '#,##0.00 "€"',
    "percent": "0.00%",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}


def _spreadsheet_number(cents: int) -> float:
    """The float a spreadsheet cell stores for an amount of ``cents``: the one place money becomes a float.

    A spreadsheet number cell is an IEEE 754 double, and XlsxWriter's ``write_number`` takes a float (written
    with 16 significant digits). ``cents / 100`` is correctly rounded (Python divides the integers exactly,
    then rounds once), so it is the double nearest to the exact amount: every amount below 2**46 euros
    (about 70 thousand billion) reads back as the same value to two decimals. Excel and LibreOffice *show*
    15 significant digits, so amounts display exactly up to 9.999.999.999.999,99 €. Totals are summed as
    integer cents, never as floats.
    """
    return cents / 100


def _spreadsheet_fraction(value: Decimal) -> float:
    """A percentage fraction (``Decimal("0.0525")``) as the float of a ``0.00%`` cell (not money)."""
    return float(value)


def write_xlsx(
    rows: Iterable[Any], spec: ExportSpec, *, generated_at: datetime | None = None
) -> Iterator[bytes]:
    """Stream ``rows`` as an XLSX workbook with one sheet; yields the file in 64 KiB chunks at the end.

    :raise ExportTooLarge: more rows than a worksheet holds (1,048,576 with header and totals).
    """
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX) as spool:
        _build(spool, rows, spec, generated_at)
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk


def _build(target: Any, rows: Iterable[Any], spec: ExportSpec, generated_at: datetime | None) -> None:
    workbook = Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        _fill(workbook, rows, spec, generated_at)
    except BaseException:
        with contextlib.suppress(Exception):  # release the temporary files; the first error is the one to see
            workbook.close()
        raise
    workbook.close()


def _fill(workbook: Workbook, rows: Iterable[Any], spec: ExportSpec, generated_at: datetime | None) -> None:
    properties: dict[str, Any] = {"title": xml_safe_text(spec.title), "comments": "Esattoria"}
    if generated_at is not None:
        properties["created"] = to_local_naive(generated_at)
    workbook.set_properties(properties)
    sheet = workbook.add_worksheet(sheet_name(spec.title))
    header_format = workbook.add_format(
        {"bold": True, "bg_color": "#D9E2F3", "bottom": 1, "text_wrap": True, "valign": "top"}
    )
    formats = {kind: workbook.add_format({"num_format": code}) for kind, code in _NUM_FORMATS.items()}
    total_formats = {
        kind: workbook.add_format({"num_format": code, "bold": True, "top": 1})
        for kind, code in _NUM_FORMATS.items()
    }
    total_label_format = workbook.add_format({"bold": True, "top": 1})

    for index, column in enumerate(spec.columns):
        sheet.set_column(index, index, column.display_width)
    sheet.freeze_panes(1, 0)
    sheet.repeat_rows(0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_footer("&CPagina &P di &N")
    for index, column in enumerate(spec.columns):
        sheet.write_string(0, index, column.header, header_format)

    totals = Totals(spec)
    write_row = _row_writer(sheet, spec, formats, totals)
    row_index = 0
    for values in iter_values(rows, spec):
        row_index += 1
        if row_index >= XLSX_MAX_ROWS - totals.enabled:
            raise ExportTooLarge("foglio XLSX", max_rows=XLSX_MAX_ROWS - 1 - totals.enabled, hint="usare CSV")
        write_row(row_index, values)
    last_data_row = row_index

    sheet.autofilter(0, 0, last_data_row, len(spec.columns) - 1)
    if totals.enabled:
        total_row = last_data_row + 1
        for col_index, value in enumerate(totals.row()):
            kind = spec.columns[col_index].number_style
            if col_index == totals.label_index:
                sheet.write_string(total_row, col_index, TOTAL_LABEL, total_label_format)
            elif value is None:
                sheet.write_blank(total_row, col_index, None, total_label_format)
            else:
                cached = _spreadsheet_number(value) if kind == "money" else value
                if last_data_row:
                    letter = xl_col_to_name(col_index)
                    formula = f"=SUM({letter}2:{letter}{last_data_row + 1})"
                    sheet.write_formula(total_row, col_index, formula, total_formats[kind], cached)
                else:
                    sheet.write_number(total_row, col_index, cached, total_formats[kind])


def _row_writer(
    sheet: Any, spec: ExportSpec, formats: dict[str, Any], totals: Totals
) -> Callable[[int, tuple[Any, ...]], None]:
    """One function writing a normalised row's cells (and adding its totals), compiled once per export.

    Per cell one XlsxWriter call, inline: no loop over the columns, no lambda frame per number, the label
    looked up in place. XlsxWriter's public write_* methods wrap the _write_* ones in a decorator that
    accepts "A1" references (a try/int() per call); the rows here always give numeric coordinates, so the
    wrapped methods are called directly. Same cells, same bytes. The function's source is made of column
    indexes and fixed names only (no data, nothing from the spec's text).
    """
    namespace: dict[str, Any] = {
        "ws": getattr(sheet, "_write_string", sheet.write_string),
        "wn": getattr(sheet, "_write_number", sheet.write_number),
        "wd": getattr(sheet, "_write_datetime", sheet.write_datetime),
        "local": to_local_naive,
        "fraction": _spreadsheet_fraction,
        "S": totals.sums,
    }
    width = len(spec.columns)
    lines = ["def write_row(i, r):", f"    {', '.join(f'v{c}' for c in range(width))}, = r"]
    for c, column in enumerate(spec.columns):
        v = f"v{c}"
        namespace[f"F{c}"] = formats.get(column.number_style)
        kind = column.kind
        if kind == "text" and column.labels is not None:
            namespace[f"L{c}"] = column.labels
            call = f"ws(i, {c}, L{c}.get({v}, {v}))"
        elif kind == "text":
            call = f"ws(i, {c}, {v})"
        elif kind == "int":
            call = f"wn(i, {c}, {v}, F{c})"
        elif kind == "money":
            call = f"wn(i, {c}, {v} / 100, F{c})"  # _spreadsheet_number
        elif kind == "percent":
            call = f"wn(i, {c}, fraction({v}), F{c})"
        elif kind == "date":
            call = f"wd(i, {c}, {v}, F{c})"
        elif kind == "datetime":
            call = f"wd(i, {c}, local({v}), F{c})"
        else:
            raise ValueError(f"unknown kind {kind!r}")
        lines.append(f"    if {v} is not None:")
        lines.append(f"        {call}")
        if c in totals.sums:
            lines.append(f"        S[{c}] += {v}")
    exec(compile("\n".join(lines), "<xlsx row writer>", "exec"), namespace)  # nosec B102: indexes only
    return namespace["write_row"]  # type: ignore[no-any-return]
