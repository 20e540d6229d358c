"""The measures taken on a position (sgravio, sospensione, discarico, annullamento) and the acts a sgravio
superseded. The ledger movements they write live in `app.positions.models.Movement`; a measure names them
through its `source`, and keeps who ordered it, the provvedimento and the reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.audit import EVENT_KINDS
from app.core.db import Base, Cents, CreatedMixin, JsonDoc

MEASURE_KINDS = {
    "sgravio": "Sgravio",
    "sospensione": "Sospensione",
    "discarico": "Discarico per inesigibilità",
    "annullamento": "Annullamento",
}
ORDERED_BY = {"regione": "Regione", "gestore": "Gestore del servizio"}
SUSPENSION_REASONS = {
    "ricorso": "Ricorso",
    "autotutela": "Autotutela",
    "ordine_regione": "Ordine della Regione",
}

EVENT_KINDS.update(
    {
        "position.amounts_fixed": "Importi fissati da un atto",
        "position.abatement_reversed": "Sgravio stornato",
        "position.written_off": "Discarico per inesigibilità",
        "position.annulled": "Annullamento",
    }
)


class Measure(CreatedMixin, Base):
    """One sgravio / sospensione / discarico / annullamento of a position. A suspension's revoca (and a
    sgravio's reversal) updates the row, which keeps its versions (`__versioned__`)."""

    __tablename__ = "position_measures"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    ordered_by: Mapped[str] = mapped_column(sa.String(12))
    reason: Mapped[str] = mapped_column(sa.String(500))
    suspension_reason: Mapped[str | None] = mapped_column(sa.String(16))
    act_number: Mapped[str | None] = mapped_column(sa.String(60))  # provvedimento n.
    act_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    value_date: Mapped[dt.date] = mapped_column(sa.Date)
    amount_cents: Mapped[int] = mapped_column(Cents, default=0)
    components: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # cents by component
    previous_state: Mapped[str] = mapped_column(sa.String(24))
    stops_interest: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    attempts: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)
    source: Mapped[str] = mapped_column(sa.String(200))  # "operatore", "variazioni n. 3", "API: ..."
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    user_label: Mapped[str] = mapped_column(sa.String(120))
    ended_on: Mapped[dt.date | None] = mapped_column(sa.Date)  # revoca / storno
    end_reason: Mapped[str | None] = mapped_column(sa.String(500))
    ended_by_label: Mapped[str | None] = mapped_column(sa.String(120))

    position = relationship("Position")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('sgravio','sospensione','discarico','annullamento')", name="kind"),
        sa.CheckConstraint("ordered_by IN ('regione','gestore')", name="ordered_by"),
        sa.CheckConstraint("amount_cents >= 0", name="amount"),
    )

    @property
    def kind_label(self) -> str:
        return MEASURE_KINDS[self.kind]

    @property
    def active(self) -> bool:
        return self.ended_on is None


class SupersededAct(Base):
    """An act issued before a sgravio on its position: its figures are "importi superati da sgravio"."""

    __tablename__ = "superseded_acts"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(sa.ForeignKey("position_measures.id"), index=True)
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("acts.id"), index=True)

    __table_args__ = (sa.UniqueConstraint("measure_id", "act_id"),)


register_scope(Measure, ente=through(Measure.position_id), taxpayer=through(Measure.position_id))
register_scope(
    SupersededAct, ente=through(SupersededAct.measure_id), taxpayer=through(SupersededAct.measure_id)
)
