"""The outcome of each check of a taxpayer on a public registry (ANPR C001, INAD): the card's "Verifiche
anagrafiche" shows the last one per registry; a check younger than the refresh period is not repeated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.access import register_scope, through
from app.core.audit import EVENT_KINDS
from app.core.db import Base, JsonDoc, UTCDateTime, utcnow
from app.core.timeline import register_event_group

REGISTRIES = {
    "anpr": "ANPR (Anagrafe nazionale della popolazione residente)",
    "inad": "INAD (Indice nazionale dei domicili digitali)",
}
# The source written on the data a check records (address version, deceased date, domicilio digitale)
SOURCES = {
    "anpr": "ANPR C001 servizioNotifica (art. 62 CAD, DPCM 194/2014)",
    "inad": "INAD (art. 6-quater CAD)",
}
OUTCOMES = {
    "confermato": "Dati confermati",
    "aggiornato": "Dati aggiornati",
    "deceduto": "Contribuente deceduto",
    "non_trovato": "Non presente nel registro",
}


class RegistryCheck(Base):
    """One answered check (a refused or failed call leaves no row: nothing is written on an error)."""

    __tablename__ = "registry_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"))
    registry: Mapped[str] = mapped_column(sa.String(10))
    checked_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    summary: Mapped[str] = mapped_column(sa.String(500))
    source: Mapped[str] = mapped_column(sa.String(200))
    reference: Mapped[str | None] = mapped_column(sa.String(80))  # idOperazioneANPR, INAD `since`
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.CheckConstraint("registry IN ('anpr','inad')", name="registry"),
        sa.CheckConstraint("outcome IN ('confermato','aggiornato','deceduto','non_trovato')", name="outcome"),
        sa.Index("ix_registry_checks_taxpayer_registry", "taxpayer_id", "registry", "checked_dt"),
    )

    @property
    def registry_label(self) -> str:
        return REGISTRIES.get(self.registry, self.registry)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)


register_scope(RegistryCheck, ente=through(RegistryCheck.taxpayer_id), taxpayer=RegistryCheck.taxpayer_id)

EVENT_KINDS.update(
    {
        "registry.checked": "Verifica anagrafica",
        "registry.deceased": "Decesso rilevato da ANPR",
    }
)
register_event_group("registry.", "anagrafica")
