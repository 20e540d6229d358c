"""A taxpayer's request of a rateazione (PlanRequest): the positions, the amount and the schedule the engine
simulated, then the back office's decision; an approval makes the stored Plan with its installments (each with
its pagoPA notice number), the payments allocated per installment, the decadenza."""

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
    # four eyes (the ente's setting): the first approval, then a second user's makes the plan
    first_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    first_approved_by_label: Mapped[str | None] = mapped_column(sa.String(120))
    first_approved_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

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


PLAN_STATUSES: dict[str, str] = {
    "attivo": "Attivo",
    "decaduto": "Decaduto",
    "estinto": "Pagato",
    "annullato": "Annullato",
}
INSTALLMENT_STATUSES: dict[str, str] = {
    "da_pagare": "Da pagare",
    "parziale": "Pagata in parte",
    "pagata": "Pagata",
    "sostituita": "Sostituita dalla proroga",
}


class Plan(CreatedMixin, Base):
    """A stored rateazione: born from an approved request, its installments each with a pagoPA notice number;
    `attivo` until paid (`estinto`) or forfeited (`decaduto`, the residual due at once)."""

    __tablename__ = "plans"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_requests.id"), unique=True)
    regime: Mapped[str] = mapped_column(sa.String(20))
    amount_cents: Mapped[int] = mapped_column(Cents)  # the plan's total (capital + interest of the schedule)
    first_due: Mapped[dt.date] = mapped_column(sa.Date)
    approved_date: Mapped[dt.date] = mapped_column(sa.Date)
    approved_by_label: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(12), default="attivo")
    accoglimento_act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))
    sollecito_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    sollecito_act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))
    decadenza_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    decadenza_reason: Mapped[str | None] = mapped_column(sa.String(600))
    residual_cents: Mapped[int | None] = mapped_column(Cents)
    decadenza_act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))
    last_check: Mapped[dt.date | None] = mapped_column(sa.Date)  # the daily decadenza check's last day
    # the proroga (L. 160/2019 c. 797, once): its date, the comprovato peggioramento, who granted it
    proroga_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    proroga_reason: Mapped[str | None] = mapped_column(sa.String(600))
    proroga_by_label: Mapped[str | None] = mapped_column(sa.String(120))
    # its act, the comunicazione di accoglimento della proroga (None: not issued, the proroga stands)
    proroga_act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))
    # the annulment before any payment (the amounts the approval fixed are reversed)
    annulled_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    annulled_reason: Mapped[str | None] = mapped_column(sa.String(600))

    installments: Mapped[list[PlanInstallment]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanInstallment.number"
    )
    positions: Mapped[list[PlanPosition]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanPosition.position_id"
    )
    request: Mapped[PlanRequest] = relationship()
    ente = relationship("Ente")
    taxpayer = relationship("Taxpayer")
    proroga_act = relationship("Act", foreign_keys=[proroga_act_id])

    __table_args__ = (
        sa.CheckConstraint("status IN ('attivo','decaduto','estinto','annullato')", name="status"),
        sa.CheckConstraint("amount_cents > 0", name="amount"),
        sa.Index("ix_plans_status", "status", "ente_id"),
    )

    @property
    def status_label(self) -> str:
        return PLAN_STATUSES.get(self.status, self.status)

    @property
    def live_installments(self) -> list[PlanInstallment]:
        """The installments in force (those a proroga replaced are kept for the record only)."""
        return [i for i in self.installments if i.status != "sostituita"]

    @property
    def paid_cents(self) -> int:
        return sum(i.paid_cents for i in self.live_installments)

    @property
    def unpaid_cents(self) -> int:
        return self.amount_cents - self.paid_cents


class PlanPosition(Base):
    """A position the plan covers; the first one carries the installments' notice numbers."""

    __tablename__ = "plan_positions"

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), primary_key=True, index=True)
    amount_cents: Mapped[int] = mapped_column(Cents)
    state_before: Mapped[str] = mapped_column(sa.String(20))  # the position's state when the plan began
    # the ledger movements the approval booked (app.plans.fixing), reversed when the plan is annulled
    movement_ids: Mapped[list[int] | None] = mapped_column(JsonDoc)

    plan: Mapped[Plan] = relationship(back_populates="positions")
    position = relationship("Position")


class PlanInstallment(Base):
    """One installment: its due date, amount, its own pagoPA notice number (app/payments/notices.py, item kind
    `rata`) and what the payments allocated to it (`app.plans.allocation`)."""

    __tablename__ = "plan_installments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(sa.SmallInteger)
    due_date: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    capital_cents: Mapped[int] = mapped_column(Cents)
    interest_cents: Mapped[int] = mapped_column(Cents)
    amount_cents: Mapped[int] = mapped_column(Cents)
    notice_id: Mapped[int | None] = mapped_column(sa.BigInteger, sa.ForeignKey("notice_numbers.id"))
    notice_number: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    paid_cents: Mapped[int] = mapped_column(Cents, default=0)
    paid_date: Mapped[dt.date | None] = mapped_column(sa.Date)  # the day it was paid in full
    status: Mapped[str] = mapped_column(sa.String(10), default="da_pagare")

    plan: Mapped[Plan] = relationship(back_populates="installments")

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "number"),
        sa.CheckConstraint("status IN ('da_pagare','parziale','pagata','sostituita')", name="status"),
        sa.CheckConstraint("amount_cents = capital_cents + interest_cents", name="amount"),
        sa.CheckConstraint("paid_cents >= 0", name="paid"),
    )

    @property
    def status_label(self) -> str:
        return INSTALLMENT_STATUSES.get(self.status, self.status)

    def overdue(self, on: dt.date) -> bool:
        return self.status not in ("pagata", "sostituita") and self.due_date < on


register_scope(Plan, ente=Plan.ente_id, taxpayer=Plan.taxpayer_id)
register_scope(PlanPosition, ente=through(PlanPosition.plan_id), taxpayer=through(PlanPosition.plan_id))
register_scope(
    PlanInstallment, ente=through(PlanInstallment.plan_id), taxpayer=through(PlanInstallment.plan_id)
)
