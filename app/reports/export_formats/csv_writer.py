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
from itertools import islice
from typing import Any

from app.reports.export_formats.spec import MACHINE_FORMATTERS, ExportSpec, Totals, iter_values

BOM = "\ufeff"
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_CHARS = frozenset(_FORMULA_TRIGGERS)
_BATCH_ROWS = 1000
_HUNDREDTHS = tuple(f".{i:02d}" for i in range(100))  # as app.engine.money.format_cents writes cents


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
    totals = Totals(spec)
    values: Iterator[Any] = iter_values(rows, spec)
    if include_totals and totals.enabled:
        values = _summed(values, totals)
    convert = row_converter(spec, escape_formulas=escape_formulas)
    cells = values if convert is None else map(convert, values)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quotechar='"', lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([column.header for column in spec.columns])
    while batch := list(islice(cells, _BATCH_ROWS)):
        writer.writerows(batch)
        yield _drain(buffer)
    if include_totals and totals.enabled:
        row = totals.row()
        writer.writerow(
            [
                "" if v is None else (v if i == totals.label_index else formatters[i](v))
                for i, v in enumerate(row)
            ]
        )
    yield _drain(buffer)


def _summed(values: Iterator[tuple[Any, ...]], totals: Totals) -> Iterator[tuple[Any, ...]]:
    for row in values:
        totals.add(row)
        yield row


def row_converter(spec: ExportSpec, *, escape_formulas: bool = True) -> Callable[[tuple], tuple] | None:
    """One function turning a normalised row into its CSV cells, compiled once per export; None when the
    row is written as it is.

    The hot loop of big exports does per cell only what its kind needs, inline, with no loop over columns:
    ``str`` and ``int`` cells are written by ``csv.writer`` as they are (``str()`` of an int is its machine
    form, ``None`` an empty field), text is checked for a formula trigger, and only money, dates, datetimes
    and percentages call their formatter. The function's source is made of column indexes only (no data, no
    names from the spec), so evaluating it runs nothing a user wrote.
    """
    namespace: dict[str, Any] = {"_T": _TRIGGER_CHARS, "_H": _HUNDREDTHS}
    cells = []
    plain = True
    for index, column in enumerate(spec.columns):
        value = f"r[{index}]"
        if column.kind == "int" or (column.kind == "text" and not escape_formulas):
            cells.append(value)
            continue
        plain = False
        v = f"v{index}"
        if column.kind == "text":
            cells.append(f'("\'" + {v} if ({v} := {value}) and {v}[0] in _T else {v})')
        elif column.kind == "money":  # format_cents inline for the usual non-negative amount (no call)
            namespace[f"f{index}"] = MACHINE_FORMATTERS["money"]
            cells.append(
                f"(None if ({v} := {value}) is None"
                f" else f'{{{v} // 100}}{{_H[{v} % 100]}}' if {v} >= 0 else f{index}({v}))"
            )
        else:
            namespace[f"f{index}"] = MACHINE_FORMATTERS[column.kind]
            cells.append(f"(None if ({v} := {value}) is None else f{index}({v}))")
    if plain:
        return None
    source = f"lambda r: ({', '.join(cells)},)"
    return eval(source, namespace)  # type: ignore[no-any-return] # nosec B307: built from indexes only


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def escape_formula(value: str) -> str:
    """The rule every CSV written for people follows (the exports, the riversamento): a leading ``'``."""
    return "'" + value if value.startswith(_FORMULA_TRIGGERS) else value
