"""Positions (one debt of one taxpayer) and the append-only ledger of their movements."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.db import Base, Cents, CreatedMixin, UTCDateTime, utcnow

COMPONENTS = ("capitale", "sanzioni", "interessi", "spese", "oneri")
COMPONENT_LABELS = {"capitale": "Capitale", "sanzioni": "Sanzioni", "interessi": "Interessi",
                    "spese": "Spese", "oneri": "Oneri di riscossione"}
# What a movement is. Sign convention: + increases what is owed, - decreases it.
MOVEMENT_KINDS = {
    "carico": "Carico",
    "sgravio": "Sgravio",
    "interessi": "Interessi maturati",
    "oneri": "Oneri di riscossione",
    "spese": "Spese",
    "pagamento": "Pagamento",
    "rimborso": "Rimborso",
}


class Position(CreatedMixin, Base):
    __tablename__ = "positions"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    entrata_id: Mapped[int] = mapped_column(sa.ForeignKey("entrate.id"))
    carico_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carichi.id"), index=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    external_id: Mapped[str] = mapped_column(sa.String(60))  # id_posizione of the lista di carico
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    description: Mapped[str | None] = mapped_column(sa.String(250))
    reference: Mapped[str | None] = mapped_column(sa.String(60), index=True)  # plate, act number...
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    notified_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.String(24), default="caricata")
    # a suspension whose entrata's rule stops interest (app/dynamics): none accrues after
    # `interest_stopped_on` (what accrued until then is booked that day) and it accrues again from
    # `interest_resumes_on` (the revoca)
    interest_stopped_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    interest_resumes_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    entrata = relationship("Entrata")
    ente = relationship("Ente")
    taxpayer = relationship("Taxpayer")

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "entrata_id", "external_id"),
        sa.Index("ix_positions_ente_state", "ente_id", "state"),
    )


class Movement(Base):
    """One append-only ledger line. Never updated or deleted (a database trigger refuses it):
    a correction is a new movement with the opposite sign that names what it reverses."""

    __tablename__ = "movements"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), index=True)
    component: Mapped[str] = mapped_column(sa.String(12))
    kind: Mapped[str] = mapped_column(sa.String(12))
    amount_cents: Mapped[int] = mapped_column(Cents)
    value_date: Mapped[dt.date] = mapped_column(sa.Date)
    booked_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(sa.String(200))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.ForeignKey("movements.id"), unique=True)

    position: Mapped[Position] = relationship()

    def reversal(self, *, source: str, user_id: int | None, value_date: dt.date | None = None) -> Movement:
        """The movement that cancels this one: the opposite amount on the same position, component and kind,
        naming it (`reverses_id`), on its value date unless another is given."""
        return Movement(
            position_id=self.position_id,
            component=self.component,
            kind=self.kind,
            amount_cents=-self.amount_cents,
            value_date=value_date or self.value_date,
            reverses_id=self.id,
            source=source[:200],
            user_id=user_id,
        )

    __table_args__ = (
        sa.CheckConstraint("amount_cents <> 0", name="nonzero"),
        sa.CheckConstraint(
            "component IN ('capitale','sanzioni','interessi','spese','oneri')", name="component"),
        sa.CheckConstraint(
            "kind IN ('carico','sgravio','interessi','oneri','spese','pagamento','rimborso')", name="kind"),
    )


# Who sees what (app.core.access): a position belongs to its ente and its taxpayer, a movement to its
# position.
register_scope(Position, ente=Position.ente_id, taxpayer=Position.taxpayer_id)
register_scope(Movement, ente=through(Movement.position_id), taxpayer=through(Movement.position_id))
