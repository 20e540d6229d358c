"""The dashboard's PDF: the panels' charts as Typst rectangles and their tables (analytics/dashboard.typ).

Every figure is formatted here in Italian (the Column's own display); the template only draws. Bar lengths are
integer permille of the panel's largest value, so no float is computed from money.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import typst

from app.analytics.dashboards import Panel
from app.reports.export_formats.pdf_writer import FONT_DIRS, PdfRenderError
from app.reports.formatting import format_datetime_it

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "analytics" / "dashboard.typ"
COLORS = ("#0066cc", "#5c6f82", "#008055", "#cc7a00")
_FALLBACK_FONTS = ("/usr/share/fonts/truetype/dejavu",)


def _text(column: Any, value: Any) -> str:
    return "" if value is None else column.display(value)


def _numeric(column: Any, value: Any) -> int:
    if value is None:
        return 0
    if column.kind == "percent":
        return int(value * 10000)
    return int(value)


def panel_data(panel: Panel) -> dict[str, Any]:
    series = [panel.column(key) for key in panel.series]
    labels = panel.labels()
    peak = max((abs(_numeric(c, row.get(c.key))) for row in panel.rows for c in series), default=0)
    bars = []
    for label, row in zip(labels, panel.rows, strict=True):
        values = []
        for column in series:
            number = abs(_numeric(column, row.get(column.key)))
            values.append(
                {
                    "permille": (number * 1000 // peak) if peak else 0,
                    "text": _text(column, row.get(column.key)),
                }
            )
        bars.append({"label": label, "values": values})
    totals = None
    if panel.totals:
        totals = ["Totale" if i == 0 else "" for i in range(len(panel.columns))]
        for index, column in enumerate(panel.columns):
            if column.key in panel.totals:
                totals[index] = column.display(sum(int(r.get(column.key) or 0) for r in panel.rows))
    return {
        "title": panel.title,
        "note": panel.note,
        "legend": [{"label": c.header, "color": COLORS[i % len(COLORS)]} for i, c in enumerate(series)],
        "bars": bars,
        "headers": [c.header for c in panel.columns],
        "alignments": ["right" if c.is_numeric else "left" for c in panel.columns],
        "rows": [[_text(c, row.get(c.key)) for c in panel.columns] for row in panel.rows],
        "totals": totals,
    }


def render_dashboard_pdf(panels: Sequence[Panel], *, subtitle: str, generated_at: datetime) -> bytes:
    data = json.dumps(
        {
            "title": "Cruscotto della riscossione",
            "subtitle": subtitle,
            "generated_at": format_datetime_it(generated_at),
            "panels": [panel_data(p) for p in panels],
        },
        ensure_ascii=False,
    )
    fonts = [str(p) for p in FONT_DIRS] or list(_FALLBACK_FONTS)
    try:
        # a few pages: compiled in this process (the table exports use a child for their large documents)
        return typst.compile(str(TEMPLATE), sys_inputs={"data": data}, font_paths=fonts)
    except typst.TypstError as exc:
        raise PdfRenderError(f"Typst: {getattr(exc, 'message', exc)}") from exc
