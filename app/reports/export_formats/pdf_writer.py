"""PDF: the rows as a table laid out by Typst (``templates/exports/table.typ``) on A4, portrait or landscape.

A PDF is laid out as a whole, so it cannot be streamed: the formatted rows are held in memory and the
document is compiled at the end. ``max_rows`` caps that (5,000 by default); beyond it
:class:`ExportTooLarge` tells the user to choose CSV or XLSX. Every value is formatted here, in Python, to
its Italian text (``1.234,56 €``, ``30/06/2025``, labels for codes, years without separators); the template
only lays it out. Column widths are computed here too, from the content measured with the font's advance
widths (:class:`FontMetrics`): numbers and dates never wrap, a text column is never narrower than its longest
word, and nothing prints over its neighbour (:func:`layout_columns`). Measured for 5,000 rows of 13 columns:
0.6 s to format and measure, 3 s in all. The column headings repeat on every page.

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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typst

from app.reports.export_formats.spec import (
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
FONT_DIRS = tuple(
    path
    for path in (_PROJECT_ROOT / "static" / "vendor" / "bootstrap-italia" / "fonts-ttf",)
    if path.is_dir()
)  # Titillium Web, vendored by scripts/vendor.sh
_RENDER_SCRIPT = Path(__file__).with_name("typst_render.py")

# Geometry of table.typ: A4 minus 1.2 cm side margins, 8 pt text (down to 5.5 pt for very wide tables).
_CM_PT = 72 / 2.54
_LINE_PT = {"landscape": (29.7 - 2 * 1.2) * _CM_PT, "portrait": (21.0 - 2 * 1.2) * _CM_PT}
_FONT_PT = 8.0
_MIN_FONT_PT = 5.5
_INSET_PT = 6.0  # 3 pt of padding each side of a cell
_SLACK = 1.04  # kerning and rounding: a measured width never quite fills its box
_ZWSP = "\u200b"  # a break opportunity Typst honours inside a word too long for its column
_FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


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
        table_data(rows, spec, max_rows=max_rows, generated_at=generated_at, font_paths=font_paths),
        ensure_ascii=False,
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
    font_paths: Sequence[str | Path] | None = None,
) -> dict[str, Any]:
    """The JSON document ``table.typ`` reads: title, headers, alignments, widths, page orientation, text size,
    formatted rows and totals.

    Every value is shown as people read it (:meth:`Column.display`: labels for codes, Italian numbers, years
    without separators). The columns are sized from the measured width of their content (see
    :func:`layout_columns`).

    :raise ExportTooLarge: more than ``max_rows`` rows. A sized ``rows`` (a list) is checked before reading;
        an iterator is read until row ``max_rows + 1`` and no further.
    """
    if isinstance(rows, Sized) and len(rows) > max_rows:
        raise ExportTooLarge("PDF", max_rows=max_rows, rows=len(rows))
    metrics = FontMetrics.for_dirs(FONT_DIRS if font_paths is None else font_paths)
    columns = spec.columns
    natural = [0.0] * len(columns)  # widest line of any cell, in em
    unbreakable = [0.0] * len(columns)  # widest word of any cell, in em
    totals = Totals(spec)
    formatted: list[list[str]] = []
    for values in iter_values(rows, spec):
        if len(formatted) == max_rows:
            raise ExportTooLarge("PDF", max_rows=max_rows)
        totals.add(values)
        cells = ["" if v is None else _clean(c.display(v)) for c, v in zip(columns, values, strict=True)]
        for index, cell in enumerate(cells):
            if cell:
                line, word = metrics.measure(cell)
                natural[index] = max(natural[index], line)
                unbreakable[index] = max(unbreakable[index], word)
        formatted.append(cells)
    totals_row = None
    if totals.enabled:
        totals_row = [
            TOTAL_LABEL if i == totals.label_index else ("" if v is None else columns[i].display(v))
            for i, v in enumerate(totals.row())
        ]
        for index, cell in enumerate(totals_row):
            if cell:
                line, word = metrics.measure(cell, bold=True)
                natural[index] = max(natural[index], line)
                unbreakable[index] = max(unbreakable[index], word)
    headers = [_clean(column.header) for column in columns]
    header_words = [metrics.measure(header, bold=True)[1] for header in headers]
    layout = layout_columns(spec, natural, unbreakable, header_words)
    if layout.break_words:
        formatted = [_breakable(row, layout, metrics) for row in formatted]
    return {
        "title": _clean(spec.title),
        "generated_at": format_datetime_it(generated_at or datetime.now(UTC)),
        "headers": headers,
        "alignments": ["right" if column.is_numeric else "left" for column in columns],
        "widths": layout.fractions,
        "flipped": layout.orientation == "landscape",
        "size": layout.font_pt,
        "rows": formatted,
        "totals": totals_row,
    }


class FontMetrics:
    """Advance widths of the PDF's fonts (Titillium Web, else DejaVu Sans), in em, per character.

    Widths are summed per character (kerning ignored, hence ``_SLACK``); each character is measured once.
    Without a font file or Pillow, an average of 0.62 em per character is assumed.
    """

    _cache: dict[tuple[str, ...], FontMetrics] = {}

    def __init__(self, regular: str | None, bold: str | None) -> None:
        self._fonts: list[Any] = [None, None]
        try:
            from PIL import ImageFont

            for index, path in enumerate((regular, bold)):
                if path:
                    self._fonts[index] = ImageFont.truetype(path, 1000, layout_engine=ImageFont.Layout.BASIC)
        except (ImportError, OSError):  # pragma: no cover - Pillow comes with pdfplumber
            log.info("PDF export: font metrics unavailable, column widths estimated")
        self._advance: tuple[dict[str, float], dict[str, float]] = ({}, {})

    @classmethod
    def for_dirs(cls, dirs: Sequence[str | Path]) -> FontMetrics:
        key = tuple(str(d) for d in dirs)
        if key not in cls._cache:
            regular = bold = None
            for directory in map(Path, dirs):
                regular = regular or _first(directory.glob("*titillium*regular.ttf"))
                bold = bold or _first(directory.glob("*titillium*-700.ttf"))
            if regular is None:
                regular, bold = (p if Path(p).is_file() else None for p in _FALLBACK_FONTS)
            cls._cache[key] = cls(regular and str(regular), (bold or regular) and str(bold or regular))
        return cls._cache[key]

    def width(self, text: str, *, bold: bool = False) -> float:
        advance = self._advance[bold]
        font = self._fonts[bold]
        total = 0.0
        for char in text:
            width = advance.get(char)
            if width is None:
                width = font.getlength(char) / 1000 if font is not None else 0.62
                advance[char] = width
            total += width
        return total * _SLACK

    def measure(self, text: str, *, bold: bool = False) -> tuple[float, float]:
        """(widest line, widest word) of ``text``, in em."""
        lines = text.split("\n")
        line = max(self.width(part, bold=bold) for part in lines)
        word = max((self.width(w, bold=bold) for part in lines for w in part.split()), default=0.0)
        return line, word


def _first(paths: Iterable[Path]) -> Path | None:
    return next(iter(sorted(paths)), None)


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    """Where the columns go: fractions of the line, page orientation, text size, and whether text columns
    must break inside words (a table too wide even at the smallest text size)."""

    fractions: list[float]
    orientation: str
    font_pt: float
    break_words: bool
    widths_pt: list[float]


def layout_columns(
    spec: ExportSpec, natural: Sequence[float], unbreakable: Sequence[float], header_words: Sequence[float]
) -> ColumnLayout:
    """Size the columns from their content (widths in em, measured at 1 em).

    Numbers, amounts and dates never wrap: their column is as wide as their widest value. A text column is at
    least as wide as its longest word and grows toward its longest line. A header wraps between its words,
    never inside one. Portrait when everything fits on one line of an A4 portrait page, else landscape; if
    the longest words still do not fit at 8 pt, the text shrinks (down to 5.5 pt), and beyond that text
    columns break inside their words rather than print over their neighbours.
    """
    columns = spec.columns
    insets = _INSET_PT * len(columns)
    minimum = [
        max(header, nat if column.kind != "text" else word)
        for column, nat, word, header in zip(columns, natural, unbreakable, header_words, strict=True)
    ]
    wanted = [max(m, nat) for m, nat in zip(minimum, natural, strict=True)]
    orientation = "portrait" if sum(wanted) * _FONT_PT + insets <= _LINE_PT["portrait"] else "landscape"
    line = _LINE_PT[orientation]
    font_pt = _FONT_PT
    if sum(minimum) * font_pt + insets > line:
        font_pt = max(_MIN_FONT_PT, math.floor((line - insets) / sum(minimum) * 10) / 10)
    widths = [m * font_pt + _INSET_PT for m in minimum]
    break_words = False
    spare = line - sum(widths)
    if spare >= 0:
        # max-min fair: the columns that need little to reach their longest line get it all, the others
        # share the rest equally (so as few columns as possible wrap, and none wraps much more than another)
        growth = [(w - m) * font_pt for w, m in zip(wanted, minimum, strict=True)]
        pending = sorted((i for i, g in enumerate(growth) if g > 0), key=growth.__getitem__)
        while pending:
            fair = spare / len(pending)
            if growth[pending[0]] <= fair:
                index = pending.pop(0)
                widths[index] += growth[index]
                spare -= growth[index]
                continue
            for index in pending:
                widths[index] += fair
            pending = []
        spare = line - sum(widths)
        text_indexes = [i for i, column in enumerate(columns) if column.kind == "text"]
        text_indexes = text_indexes or list(range(len(columns)))
        text_sum = sum(widths[i] for i in text_indexes)
        for i in text_indexes:
            widths[i] += spare * widths[i] / text_sum
    else:
        # even the longest words do not fit: text columns share what numbers leave, in proportion
        break_words = True
        fixed = sum(w for w, column in zip(widths, columns, strict=True) if column.kind != "text")
        text_total = sum(w for w, column in zip(widths, columns, strict=True) if column.kind == "text")
        room = max(line - fixed, 0.0)
        widths = [
            (w * room / text_total if text_total else w) if column.kind == "text" else w
            for w, column in zip(widths, columns, strict=True)
        ]
    total = sum(widths)
    fractions = [math.floor(width / total * 100_000) / 100_000 for width in widths]  # never over the line
    return ColumnLayout(fractions, orientation, font_pt, break_words, [f * line for f in fractions])


def _breakable(row: list[str], layout: ColumnLayout, metrics: FontMetrics) -> list[str]:
    """Words wider than their column get a break opportunity after every character (last resort)."""
    cells = []
    for cell, width in zip(row, layout.widths_pt, strict=True):
        room = (width - _INSET_PT) / layout.font_pt
        if cell and metrics.measure(cell)[1] > room:
            cell = " ".join(
                _ZWSP.join(word) if metrics.width(word) > room else word for word in cell.split(" ")
            )
        cells.append(cell)
    return cells


def _clean(text: str) -> str:
    # Control characters are dropped as for XML (Typst would print boxes); a tab becomes a space.
    return xml_safe_text(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
