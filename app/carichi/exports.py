"""The liste di carico list's export as a source of the one export mechanism (app/reports/export_jobs.py):
the same function serves the download in the request and the job of a large export."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.carichi import queries
from app.carichi.models import Carico
from app.core.access import Principal, scoped
from app.core.db import count_rows
from app.reports.exports import Column, ExportSpec

CARICHI_SPEC = ExportSpec(
    title="Liste di carico",
    filename_stem="liste_di_carico",
    columns=(
        Column("id", "N.", "int", grouping=False),
        Column("ente", "Ente"),
        Column("entrata", "Entrata"),
        Column("file", "File", width=40),
        Column("received_date", "Ricevuta il", "date"),
        Column("rows_accepted", "Posizioni", "int"),
        Column("rows_rejected", "Scartate", "int"),
        Column("rows_duplicate", "Duplicate", "int"),
        Column("total_cents", "Totale", "money"),
    ),
    totals=("rows_accepted", "rows_rejected", "rows_duplicate", "total_cents"),
)


def carichi(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterable[Any], Callable[[], int]]:
    """Every lista di carico the user may see, newest first."""

    def rows() -> Iterator[dict[str, Any]]:
        for c in queries.list_carichi(session, principal, limit=None):
            yield {
                "id": c.id,
                "ente": c.ente.code,
                "entrata": c.entrata.code if c.entrata else "",
                "file": c.file_name or c.reference,
                "received_date": c.received_date,
                "rows_accepted": c.rows_accepted,
                "rows_rejected": c.rows_rejected,
                "rows_duplicate": c.rows_duplicate,
                "total_cents": c.total_cents,
            }

    return CARICHI_SPEC, rows(), lambda: count_rows(session, scoped(sa.select(Carico.id), Carico, principal))
