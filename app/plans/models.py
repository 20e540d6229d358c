"""A taxpayer's request of a rateazione (PlanRequest): the positions, the amount and the schedule the engine
simulated, then the back office's decision. The stored plan lifecycle (installments with their notices,
decadenza) is a later issue: an approval records the decision and the simulated schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime

REQUEST_STATUSES: dict[str, str] = {
    "richiesta": "Richiesta",
    "approvata": "Approvata",
    "respinta": "Respinta",
}


class PlanRequest(CreatedMixin, Base):
    __tablename__ = "plan_requests"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Cents)  # what the positions owed at the first due date
    installments: Mapped[int] = mapped_column(sa.SmallInteger)
    first_due: Mapped[dt.date] = mapped_column(sa.Date)
    # the engine's simulated plan (formats.md §4 installment-plan answer), kept as it was shown
    schedule: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    status: Mapped[str] = mapped_column(sa.String(12), default="richiesta")
    note: Mapped[str | None] = mapped_column(sa.String(1000))  # the taxpayer's
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_label: Mapped[str | None] = mapped_column(sa.String(120))
    decided_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.String(1000))

    positions: Mapped[list[PlanRequestPosition]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="PlanRequestPosition.position_id"
    )
    ente = relationship("Ente")
    taxpayer = relationship("Taxpayer")

    __table_args__ = (
        sa.CheckConstraint("status IN ('richiesta','approvata','respinta')", name="status"),
        sa.CheckConstraint("installments > 0", name="installments"),
        sa.CheckConstraint("amount_cents > 0", name="amount"),
        sa.Index("ix_plan_requests_status", "status", "created_dt"),
    )

    @property
    def status_label(self) -> str:
        return REQUEST_STATUSES.get(self.status, self.status)


class PlanRequestPosition(Base):
    """A position the request covers (its amount due at the first due date)."""

    __tablename__ = "plan_request_positions"

    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_requests.id", ondelete="CASCADE"), primary_key=True
    )
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), primary_key=True, index=True)
    amount_cents: Mapped[int] = mapped_column(Cents)

    request: Mapped[PlanRequest] = relationship(back_populates="positions")
    position = relationship("Position")


# Who sees what (app.core.access): a request belongs to its ente and its taxpayer; its positions go with it.
register_scope(PlanRequest, ente=PlanRequest.ente_id, taxpayer=PlanRequest.taxpayer_id)
register_scope(
    PlanRequestPosition,
    ente=through(PlanRequestPosition.request_id),
    taxpayer=through(PlanRequestPosition.request_id),
)
