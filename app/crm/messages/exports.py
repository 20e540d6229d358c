"""The messages list's export as a source of the one export mechanism (app/reports/export_jobs.py): the
filters travel as `MessageFilters.as_args()`, so the same function serves the download in the request and the
job of a large export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.db import count_rows
from app.crm.messages import queries
from app.crm.messages.models import CHANNELS, PURPOSES, STATUSES
from app.reports.exports import Column, ExportSpec

EXPORT_SPEC = ExportSpec(
    title="Messaggi ai contribuenti",
    filename_stem="messaggi",
    columns=(
        Column("creato", "Creato", "datetime"),
        Column("ente", "Ente", "text"),
        Column("codice_fiscale", "Codice fiscale", "text"),
        Column("nominativo", "Nominativo", "text"),
        Column("canale", "Canale", "text", labels=CHANNELS),
        Column("destinatario", "Destinatario", "text"),
        Column("finalita", "Finalità", "text", labels=PURPOSES),
        Column("oggetto", "Oggetto", "text"),
        Column("stato", "Stato", "text", labels=STATUSES),
        Column("motivo", "Motivo", "text"),
        Column("tentativi", "Tentativi", "int"),
        Column("inviato", "Inviato il", "datetime"),
        Column("id_fornitore", "Id del fornitore", "text"),
    ),
)


def messages(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterable[Any], Callable[[], int]]:
    filters = queries.MessageFilters.from_args(params)
    rows = queries.export_rows(session, principal, filters)
    return EXPORT_SPEC, rows, lambda: count_rows(session, queries.messages_stmt(principal, filters))
