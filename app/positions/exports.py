"""Column specs of the position lists, shared by screens and exports (one mechanism: reports.exports)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
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


def positions_export(session: Session, principal: Principal, fmt: str, *, title: str, **filters: Any) -> Any:
    spec = ExportSpec(
        title=title,
        columns=POSITION_COLUMNS,
        filename_stem="posizioni",
        totals=("original_cents", "paid_cents", "due_cents"),
    )
    stmt = position_rows_stmt(principal, **filters)
    rows = (dict(r) for r in session.execute(stmt.execution_options(yield_per=1000)).mappings())
    return export_response(with_amount_due(session, rows, today_rome()), spec, fmt)
