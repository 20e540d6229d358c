"""Column specs of the position lists, shared by screens and exports (one mechanism: reports.exports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.db import count_rows
from app.core.errors import NotFound
from app.engine.states import STATES as STATE_LABELS
from app.positions.amounts import today_rome, with_amount_due
from app.positions.models import COMPONENT_LABELS, MOVEMENT_KINDS, Movement
from app.positions.queries import get_position, list_movements, position_rows_stmt
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


LEDGER_COLUMNS = (
    Column("id", "N.", "int", grouping=False),
    Column("value_date", "Data valuta", "date"),
    Column("booked_dt", "Registrato", "datetime"),
    Column("kind", "Tipo", "text", labels=MOVEMENT_KINDS),
    Column("reverses_id", "Storno del n.", "int", grouping=False),
    Column("component", "Componente", "text", labels=COMPONENT_LABELS),
    Column("amount_cents", "Importo", "money"),
    Column("source", "Fonte", "text"),
)


def ledger_source(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterator[dict[str, Any]], Callable[[], int]]:
    """A position's ledger (`position_id`): the append-only movements, reversals included."""
    position = get_position(session, principal, params["position_id"])
    if position is None:
        raise NotFound("Posizione non trovata.")
    spec = ExportSpec(
        title=f"Movimenti contabili della posizione {position.external_id}",
        filename_stem=f"movimenti_{position.external_id}",
        columns=LEDGER_COLUMNS,
        totals=("amount_cents",),
    )

    def rows() -> Iterator[dict[str, Any]]:
        for m in list_movements(session, principal, position.id):
            yield {c.key: getattr(m, c.key) for c in LEDGER_COLUMNS}

    count = scoped(sa.select(Movement.id).where(Movement.position_id == position.id), Movement, principal)
    return spec, rows(), lambda: count_rows(session, count)


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
