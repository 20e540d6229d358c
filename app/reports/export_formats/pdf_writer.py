"""PDF: the rows as a table laid out by Typst (``templates/exports/table.typ``), A4 landscape.

A PDF is laid out as a whole, so it cannot be streamed: the formatted rows are held in memory and the
document is compiled at the end. ``max_rows`` caps that (5,000 by default); beyond it
:class:`ExportTooLarge` tells the user to choose CSV or XLSX. Every value is formatted here, in Python, to
its Italian text (``1.234,56 €``, ``30/06/2025``); the template only lays it out. Column widths are computed
here too: amounts, numbers and dates get the width of their longest value, text columns share the rest.

Typst runs in a child process (``typst_render.py``) by default: its layout caches are large (about 60 KB
per row of 10 columns) and the typst package keeps them for the next ten compilations, which a web worker
must not accumulate; a child gives the memory back when it exits. Measured here on a busy 2-CPU machine:
100 rows 0.1 s (the child included); 20,000 rows (``max_rows``, ~480 pages) 12 s with a 1.3 GB child.

Fonts: Titillium Web (the font of the Italian public-administration design system) when its TTFs are in
``static/vendor/bootstrap-italia/fonts-ttf``, else DejaVu Sans from the system. A missing font family only
produces a Typst warning, logged at debug level; it never fails the export.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess  # nosec B404 (a fixed command, see _compile_in_child)
import sys
from collections.abc import Iterable, Iterator, Sequence, Sized
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typst

from app.reports.export_formats.spec import (
    DISPLAY_FORMATTERS,
    TOTAL_LABEL,
    ExportSpec,
    ExportTooLarge,
    Totals,
    iter_values,
    xml_safe_text,
)
from app.reports.formatting import format_datetime_it

log = logging.getLogger(__name__)

PDF_MAX_ROWS = 5_000  # ~125 pages, ~3 s, ~360 MB in the Typst child; larger sets: CSV or XLSX
PDF_TIMEOUT_SECONDS = 300
_PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = _PROJECT_ROOT / "templates" / "exports" / "table.typ"
FONT_DIRS = tuple(path for path in (_PROJECT_ROOT / "static" / "vendor" / "bootstrap-italia" / "fonts-ttf",)
                  if path.is_dir())  # Titillium Web, vendored by scripts/vendor.sh
_RENDER_SCRIPT = Path(__file__).with_name("typst_render.py")

# Geometry of table.typ, used to size the columns: A4 landscape minus 1.2 cm margins, 8 pt text.
_LINE_PT = (29.7 - 2 * 1.2) / 2.54 * 72
_EM_PT = 8.0
_CHAR_EM = 0.62  # an average digit/letter width in DejaVu Sans and Titillium, with a little room
_INSET_PT = 6.0
_BOLD = 1.08
_MIN_TEXT_CHARS = 8


class PdfRenderError(RuntimeError):
    """Typst failed or timed out while laying out the PDF."""


def write_pdf(
    rows: Iterable[Any],
    spec: ExportSpec,
    *,
    max_rows: int = PDF_MAX_ROWS,
    generated_at: datetime | None = None,
    font_paths: Sequence[str | Path] | None = None,
    isolate: bool = True,
) -> Iterator[bytes]:
    """Yield ``rows`` as one PDF document (a single chunk).

    :raise ExportTooLarge: more than ``max_rows`` rows; raised on the first ``next()``, before any byte.
    :raise PdfRenderError: Typst failed (see :func:`render_pdf`).
    """
    yield render_pdf(
        rows, spec, max_rows=max_rows, generated_at=generated_at, font_paths=font_paths, isolate=isolate
    )


def render_pdf(
    rows: Iterable[Any],
    spec: ExportSpec,
    *,
    max_rows: int = PDF_MAX_ROWS,
    generated_at: datetime | None = None,
    font_paths: Sequence[str | Path] | None = None,
    isolate: bool = True,
) -> bytes:
    """The PDF of ``rows`` as bytes. ``isolate=False`` compiles in this process (faster for tiny documents,
    but the Typst caches then stay in this process).

    :raise ExportTooLarge: more than ``max_rows`` rows.
    :raise PdfRenderError: Typst failed or took longer than ``PDF_TIMEOUT_SECONDS``.
    """
    data = json.dumps(
        table_data(rows, spec, max_rows=max_rows, generated_at=generated_at), ensure_ascii=False
    )
    fonts = [str(path) for path in (FONT_DIRS if font_paths is None else font_paths)]
    if isolate and sys.executable:
        pdf, warnings = _compile_in_child(data, fonts)
    else:
        try:
            pdf, typst_warnings = typst.compile_with_warnings(
                str(TEMPLATE), sys_inputs={"data": data}, font_paths=fonts
            )
        except typst.TypstError as exc:
            raise PdfRenderError(f"Typst: {getattr(exc, 'message', exc)}") from exc
        warnings = [getattr(w, "message", None) or str(w) for w in typst_warnings]
    for message in warnings:
        log.log(logging.DEBUG if "font" in message.lower() else logging.WARNING, "typst: %s", message)
    return pdf


def _compile_in_child(data: str, fonts: list[str]) -> tuple[bytes, list[str]]:
    command = [sys.executable, str(_RENDER_SCRIPT), str(TEMPLATE), *fonts]
    try:
        # bandit B603: argv is this interpreter, our render script and template and the font paths of the
        # configuration, no shell; the untrusted data goes in on stdin
        done = subprocess.run(  # nosec B603
            command, input=data.encode("utf-8"), capture_output=True, timeout=PDF_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PdfRenderError(f"Typst did not finish in {PDF_TIMEOUT_SECONDS} s") from exc
    lines = done.stderr.decode("utf-8", "replace").splitlines()
    warnings = []
    for line in lines:
        try:
            warnings.append(json.loads(line)["warning"])
        except (ValueError, KeyError, TypeError):
            continue
    if done.returncode != 0:
        raise PdfRenderError(f"Typst failed (exit {done.returncode}): {' '.join(lines)[-2000:]}")
    return done.stdout, warnings


def table_data(
    rows: Iterable[Any],
    spec: ExportSpec,
    *,
    max_rows: int = PDF_MAX_ROWS,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON document ``table.typ`` reads: title, headers, alignments, widths, formatted rows and totals.

    :raise ExportTooLarge: more than ``max_rows`` rows. A sized ``rows`` (a list) is checked before reading;
        an iterator is read until row ``max_rows + 1`` and no further.
    """
    if isinstance(rows, Sized) and len(rows) > max_rows:
        raise ExportTooLarge("PDF", max_rows=max_rows, rows=len(rows))
    formatters = [DISPLAY_FORMATTERS[column.kind] for column in spec.columns]
    longest = [0] * len(spec.columns)
    totals = Totals(spec)
    formatted: list[list[str]] = []
    for values in iter_values(rows, spec):
        if len(formatted) == max_rows:
            raise ExportTooLarge("PDF", max_rows=max_rows)
        totals.add(values)
        cells = ["" if v is None else _clean(fmt(v)) for fmt, v in zip(formatters, values, strict=True)]
        for index, cell in enumerate(cells):
            if len(cell) > longest[index]:
                longest[index] = len(cell)
        formatted.append(cells)
    totals_row = None
    if totals.enabled:
        totals_row = [
            TOTAL_LABEL if i == totals.label_index else ("" if v is None else formatters[i](v))
            for i, v in enumerate(totals.row())
        ]
        longest = [max(n, round(len(cell) * _BOLD)) for n, cell in zip(longest, totals_row, strict=True)]
    return {
        "title": _clean(spec.title),
        "generated_at": format_datetime_it(generated_at or datetime.now(UTC)),
        "headers": [_clean(column.header) for column in spec.columns],
        "alignments": ["right" if column.is_numeric else "left" for column in spec.columns],
        "widths": column_fractions(spec, longest),
        "rows": formatted,
        "totals": totals_row,
    }


def column_fractions(spec: ExportSpec, longest: Sequence[int]) -> list[float]:
    """Each column's share of the line (summing to 1).

    Numbers, amounts and dates never wrap: they get the width of their longest value (or of the longest word
    of their header). Text columns share what is left in proportion to their content, capped at the
    column's ``display_width``. If the fixed columns leave too little, every column shrinks in proportion.
    """
    widths: list[float] = []
    text_weights: dict[int, float] = {}
    for index, (column, length) in enumerate(zip(spec.columns, longest, strict=True)):
        header_word = max((len(word) for word in column.header.split()), default=0) * _BOLD
        if column.kind == "text":
            text_weights[index] = max(min(length, column.display_width), header_word, _MIN_TEXT_CHARS)
            widths.append(0.0)
        else:
            widths.append(max(length, header_word) * _CHAR_EM * _EM_PT + _INSET_PT)
    minimum_text = sum(_MIN_TEXT_CHARS * _CHAR_EM * _EM_PT + _INSET_PT for _ in text_weights)
    remaining = _LINE_PT - sum(widths)
    if text_weights and remaining > minimum_text:
        weight_sum = sum(text_weights.values())
        for index, weight in text_weights.items():
            widths[index] = remaining * weight / weight_sum
    else:
        for index, weight in text_weights.items():
            widths[index] = weight * _CHAR_EM * _EM_PT + _INSET_PT
    total = sum(widths)
    return [math.floor(width / total * 100_000) / 100_000 for width in widths]  # never over the line


def _clean(text: str) -> str:
    # Control characters are dropped as for XML (Typst would print boxes); a tab becomes a space.
    return xml_safe_text(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
