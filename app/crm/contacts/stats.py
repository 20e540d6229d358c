"""The statistics' chart data (Chart.js, read from a JSON element by static/js/crm-stats.js) and export."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.crm.contacts import queries
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


def statistics_source(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterable[Any], Callable[[], int]]:
    """The statistics (`StatsFilter.as_args()` + `dimension`) as a source of the one export mechanism
    (app/reports/export_jobs.py). One row per value of the dimension: the count runs the grouped query."""
    dimension = params.get("dimension") or "canale"
    if dimension not in queries.DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    filters = queries.StatsFilter.from_args(params)

    def found() -> list[StatRow]:
        return queries.contact_statistics(session, principal, dimension, filters)

    def rows() -> Iterator[dict[str, Any]]:
        yield from export_rows(found())

    return spec(queries.DIMENSIONS[dimension]), rows(), lambda: len(found())
