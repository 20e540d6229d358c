"""Column specs of the card's sections (timeline, addresses and contacts, links): one mechanism,
app.reports.exports."""

from __future__ import annotations

from app.core.audit import EVENT_KINDS
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
