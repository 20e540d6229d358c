"""The audit trail's and the card access log's exports as sources of the one export mechanism
(app/reports/export_jobs.py): the filters travel as `TrailFilters.as_args()`, so the same function serves the
download in the request and the job of a large export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.accountability import queries
from app.accountability.queries import TrailFilters
from app.core.access import Principal
from app.core.db import count_rows
from app.reports.exports import Column, ExportSpec

Export = tuple[ExportSpec, Iterable[Any], Callable[[], int]]

ACTION_LABELS = {
    "card": "Scheda contribuente",
    "card_payments": "Pagamenti della scheda",
    "card_documents": "Documenti della scheda",
    "archive_document": "Documento dell'archivio",
    "quietanza_pdf": "Quietanza (PDF)",
    "api_positions": "API: posizioni",
    "self_service": "Pagina del contribuente",
    "export_csv": "Esportazione CSV",
    "export_xlsx": "Esportazione XLSX",
    "export_ods": "Esportazione ODS",
    "export_pdf": "Esportazione PDF",
    "export_xml": "Esportazione XML",
}
EVENTS_SPEC = ExportSpec(
    title="Registro degli eventi",
    filename_stem="registro_eventi",
    columns=[
        Column("occurred_dt", "Quando", "datetime"),
        Column("kind", "Evento", width=30),
        Column("summary", "Descrizione", width=50),
        Column("actor", "Chi", width=24),
        Column("ente", "Ente"),
        Column("codice_fiscale", "Contribuente", width=18),
        Column("position_id", "Posizione (id)", "int", grouping=False),
    ],
)
ACCESS_SPEC = ExportSpec(
    title="Registro degli accessi alle schede",
    filename_stem="registro_accessi",
    columns=[
        Column("accessed_dt", "Quando", "datetime"),
        Column("user", "Chi", width=24),
        Column("action", "Che cosa", width=24, labels=ACTION_LABELS),
        Column("codice_fiscale", "Contribuente", width=18),
        Column("remote_addr", "Indirizzo", width=18),
    ],
)


def events(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    filters = TrailFilters.from_args(params)
    rows = queries.event_rows(session, principal, filters)
    return EVENTS_SPEC, rows, lambda: count_rows(session, queries.events_stmt(principal, filters))


def accesses(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    filters = TrailFilters.from_args(params)
    rows = queries.access_rows(session, principal, filters)
    return ACCESS_SPEC, rows, lambda: count_rows(session, queries.accesses_stmt(principal, filters))
