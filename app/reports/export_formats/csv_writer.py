"""CSV: the machine format.

Choices (they favour Excel in Italy without giving up machine readability):

- delimiter ``;``: Italian Excel uses ``,`` as the decimal separator and ``;`` as the list separator, so a
  ``;``-separated file opens in columns with a double click;
- UTF-8 with a BOM: without it Excel reads the file as Windows-1252 and garbles accented letters; Python
  reads it with ``encoding="utf-8-sig"``, LibreOffice and most tools skip it;
- ``\\r\\n`` line ends and minimal quoting (RFC 4180);
- machine values: amounts ``1234.56`` (dot, two decimals), integers without separators, dates
  ``YYYY-MM-DD``, datetimes ISO 8601 (with their offset if aware), percentages as the fraction (``0.0525``);
  an empty field is ``None``;
- text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) gets a
  leading ``'`` (OWASP "CSV injection"): names and notes come from imported data. Pass
  ``escape_formulas=False`` for a consumer that needs the raw text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from app.reports.export_formats.spec import MACHINE_FORMATTERS, ExportSpec, Totals, iter_values

BOM = "\ufeff"
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_CHARS = frozenset(_FORMULA_TRIGGERS)
_BATCH_ROWS = 1000


def write_csv(
    rows: Iterable[Any],
    spec: ExportSpec,
    *,
    include_totals: bool = False,
    escape_formulas: bool = True,
) -> Iterator[bytes]:
    """Stream ``rows`` as CSV bytes (see the module docstring for the format).

    The "Totale" row is written only with ``include_totals=True``: a machine consumer would take it for data.
    """
    formatters: list[Callable[[Any], str]] = [
        escape_formula if escape_formulas and column.kind == "text" else MACHINE_FORMATTERS[column.kind]
        for column in spec.columns
    ]
    # The hot loop of big exports does per cell only what a normalised value needs: str and int cells are
    # written by csv.writer as they are (str() of an int is its machine form, None an empty field), text is
    # checked for a formula trigger inline, and only money, dates, datetimes and percentages call a formatter.
    calls = [
        (index, MACHINE_FORMATTERS[column.kind])
        for index, column in enumerate(spec.columns)
        if column.kind not in ("text", "int")
    ]
    texts = [index for index, column in enumerate(spec.columns) if escape_formulas and column.kind == "text"]
    totals = Totals(spec)
    summing = include_totals and totals.enabled
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quotechar='"', lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([column.header for column in spec.columns])
    pending = 0
    for values in iter_values(rows, spec):
        if summing:
            totals.add(values)
        cells = list(values)
        for index, fmt in calls:
            value = cells[index]
            if value is not None:
                cells[index] = fmt(value)
        for index in texts:
            value = cells[index]
            if value and value[0] in _TRIGGER_CHARS:
                cells[index] = "'" + value
        writer.writerow(cells)
        pending += 1
        if pending == _BATCH_ROWS:
            yield _drain(buffer)
            pending = 0
    if include_totals and totals.enabled:
        cells = totals.row()
        writer.writerow(
            [
                "" if v is None else (v if i == totals.label_index else formatters[i](v))
                for i, v in enumerate(cells)
            ]
        )
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def escape_formula(value: str) -> str:
    """The rule every CSV written for people follows (the exports, the riversamento): a leading ``'``."""
    return "'" + value if value.startswith(_FORMULA_TRIGGERS) else value
