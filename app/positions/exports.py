"""Column specs of the position lists, shared by screens and exports (one mechanism: reports.exports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.db import count_rows
from app.engine.states import STATES as STATE_LABELS
from app.positions.amounts import today_rome, with_amount_due
from app.positions.queries import position_rows_stmt
from app.reports.exports import Column, ExportSpec, export_response

TAXPAYER_KINDS = {"PF": "Persona fisica", "PG": "Persona giuridica"}

POSITION_COLUMNS = (
    Column("ente", "Ente", "text"),
    Column("entrata", "Entrata", "text"),
    Column("id_posizione", "Id posizione", "text"),
    Column("codice_fiscale", "Codice fiscale", "text"),
    Column("nominativo", "Nominativo", "text"),
    Column("anno", "Anno", "int", grouping=False),
    Column("descrizione", "Descrizione", "text"),
    Column("riferimento", "Riferimento", "text"),
    Column("data_scadenza", "Scadenza", "date"),
    Column("stato", "Stato", "text", labels=STATE_LABELS),
    Column("original_cents", "Importo originario", "money"),
    Column("paid_cents", "Pagato", "money"),
    Column("due_cents", "Dovuto", "money"),
)

TAXPAYER_SEARCH_SPEC = ExportSpec(
    title="Ricerca contribuenti",
    columns=(
        Column("codice_fiscale", "Codice fiscale", "text"),
        Column("tipo", "Tipo", "text", labels=TAXPAYER_KINDS),
        Column("nominativo", "Nominativo", "text"),
        Column("data_nascita", "Data di nascita", "date"),
    ),
    filename_stem="contribuenti",
)


def position_source(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterator[dict[str, Any]], Callable[[], int]]:
    """The positions export (spec, rows, count) for `params` (title, filters, as_of): the direct export and
    the export job (app/reports/export_jobs.py) both read it."""
    spec = ExportSpec(
        title=params["title"],
        columns=POSITION_COLUMNS,
        filename_stem="posizioni",
        totals=("original_cents", "paid_cents", "due_cents"),
    )
    filters = {k: params.get(k) for k in ("taxpayer_id", "ente_code", "state") if params.get(k) is not None}
    stmt = position_rows_stmt(principal, **filters)
    as_of = dt.date.fromisoformat(params["as_of"])

    def rows() -> Iterator[dict[str, Any]]:
        found = (dict(r) for r in session.execute(stmt.execution_options(yield_per=1000)).mappings())
        yield from with_amount_due(session, found, as_of)

    return spec, rows(), lambda: count_rows(session, stmt)


def positions_export(
    session: Session,
    principal: Principal,
    fmt: str,
    *,
    title: str,
    as_of: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    **filters: Any,
) -> Any:
    params = {"title": title, "as_of": (as_of or today_rome()).isoformat(), **filters}
    spec, rows, _count = position_source(session, principal, params)
    return export_response(rows, spec, fmt, generated_at=generated_at)
