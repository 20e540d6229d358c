"""What the reminder rules of app/crm/messages read of the stored plans: the installments falling due on a
day, unpaid, of active plans, each with the position that carries its notice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.plans.models import Plan, PlanInstallment, PlanPosition
from app.positions.models import Position


@dataclass(frozen=True, slots=True)
class DueInstallment:
    position_id: int
    plan_id: int
    number: int
    due_date: dt.date
    due_cents: int  # what is still to pay of it
    notice_number: str | None


def installments_due(
    session: Session, *, ente_id: int, entrata_id: int | None, on: dt.date
) -> list[DueInstallment]:
    carrier = (
        sa.select(sa.func.min(PlanPosition.position_id))
        .where(PlanPosition.plan_id == Plan.id)
        .correlate(Plan)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            carrier,
            Plan.id,
            PlanInstallment.number,
            PlanInstallment.due_date,
            PlanInstallment.amount_cents - PlanInstallment.paid_cents,
            PlanInstallment.notice_number,
        )
        .join(Plan, Plan.id == PlanInstallment.plan_id)
        .where(
            Plan.ente_id == ente_id,
            Plan.status == "attivo",
            PlanInstallment.due_date == on,
            PlanInstallment.status.not_in(("pagata", "sostituita")),
        )
        .order_by(Plan.id)
    )
    rows = [DueInstallment(*row) for row in session.execute(stmt)]
    if entrata_id is not None and rows:
        keep = set(
            session.scalars(
                sa.select(Position.id).where(
                    Position.id.in_([r.position_id for r in rows]), Position.entrata_id == entrata_id
                )
            )
        )
        rows = [r for r in rows if r.position_id in keep]
    return rows
