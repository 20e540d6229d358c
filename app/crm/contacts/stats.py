"""The statistics' chart data (Chart.js, read from a JSON element by static/js/crm-stats.js) and export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from app.crm.contacts.queries import StatRow
from app.reports.exports import Column, ExportSpec


def chart_data(rows: list[StatRow], dimension_label: str) -> dict[str, Any]:
    return {
        "title": f"Contatti per {dimension_label.lower()}",
        "labels": [r.label for r in rows],
        "contacts": [r.contacts for r in rows],
        "minutes": [round(r.duration_seconds / 60) for r in rows],
    }


def spec(dimension_label: str) -> ExportSpec:
    return ExportSpec(
        title=f"Contatti per {dimension_label.lower()}",
        filename_stem="statistiche_contatti",
        columns=[
            Column("voce", dimension_label),
            Column("contatti", "Contatti", "int"),
            Column("minuti", "Durata totale (minuti)", "int"),
        ],
        totals=["contatti", "minuti"],
    )


def export_rows(rows: Iterable[StatRow]) -> Iterator[dict[str, Any]]:
    for r in rows:
        yield {"voce": r.label, "contatti": r.contacts, "minuti": round(r.duration_seconds / 60)}
