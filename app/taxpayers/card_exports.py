"""Column specs of the card's sections (timeline, addresses and contacts, links): one mechanism,
app.reports.exports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import EVENT_KINDS
from app.core.db import count_rows
from app.core.timeline import TIMELINE_GROUPS
from app.reports.exports import Column, ExportSpec


def timeline_spec(title: str) -> ExportSpec:
    return ExportSpec(
        title=title,
        filename_stem="cronologia",
        columns=(
            Column("quando", "Data e ora", "datetime"),
            Column("gruppo", "Gruppo", "text", labels=TIMELINE_GROUPS),
            Column("tipo", "Evento", "text", labels=EVENT_KINDS),
            Column("descrizione", "Descrizione", "text"),
            Column("operatore", "Operatore", "text"),
        ),
    )


def contacts_spec(title: str) -> ExportSpec:
    return ExportSpec(
        title=title,
        filename_stem="recapiti",
        columns=(
            Column("tipo", "Tipo", "text"),
            Column("valore", "Indirizzo o recapito", "text"),
            Column("dal", "In vigore dal", "datetime"),
            Column("al", "Fino al", "datetime"),
            Column("fonte", "Fonte", "text"),
        ),
    )


def relations_spec(title: str) -> ExportSpec:
    return ExportSpec(
        title=title,
        filename_stem="collegamenti",
        columns=(
            Column("collegamento", "Collegamento", "text"),
            Column("codice_fiscale", "Codice fiscale", "text"),
            Column("nominativo", "Nominativo", "text"),
            Column("dal", "Dal", "date"),
            Column("al", "Al", "date"),
            Column("fonte", "Fonte", "text"),
        ),
    )


def timeline(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterable[Any], Callable[[], int]]:
    """The card's timeline (`taxpayer_id`, optional `group`) as a source of the one export mechanism
    (app/reports/export_jobs.py): the download in the request and the job of a large export."""
    from app.taxpayers import queries

    taxpayer = queries.get_taxpayer(session, principal, params["taxpayer_id"])
    group = params.get("group") or None
    title = f"Cronologia di {taxpayer.display_name} ({taxpayer.codice_fiscale})"
    if group:
        title += f" – {TIMELINE_GROUPS[group]}"

    def count() -> int:
        position_ids = queries.visible_position_ids(session, principal, taxpayer.id)
        return count_rows(session, queries.timeline_stmt(principal, taxpayer.id, position_ids, group=group))

    rows = queries.timeline_rows(session, principal, taxpayer.id, group=group)
    return timeline_spec(title), rows, count
