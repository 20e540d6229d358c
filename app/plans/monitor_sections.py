"""The position monitor's "Piano di rateazione" section (app/monitor/sections.py): the installments of the
stored plans that include the position, with their notice numbers, payments and state."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.monitor.sections import Section, register_section
from app.plans.models import INSTALLMENT_STATUSES, PLAN_STATUSES, Plan, PlanInstallment, PlanPosition
from app.positions.models import Position
from app.reports.exports import Column


def installment_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    stmt = scoped(
        sa.select(Plan, PlanInstallment)
        .join(PlanPosition, PlanPosition.plan_id == Plan.id)
        .join(PlanInstallment, PlanInstallment.plan_id == Plan.id)
        .where(PlanPosition.position_id == position.id)
        .order_by(Plan.id, PlanInstallment.number),
        Plan,
        principal,
    )
    return [
        {
            "piano": plan.id,
            "stato_piano": plan.status,
            "rata": item.number,
            "scadenza": item.due_date,
            "importo_cents": item.amount_cents,
            "pagato_cents": item.paid_cents,
            "codice_avviso": item.notice_number,
            "stato": item.status,
        }
        for plan, item in session.execute(stmt)
    ]


register_section(
    Section(
        "piano",
        "Piano di rateazione",
        (
            Column("piano", "Piano n.", "int", grouping=False),
            Column("stato_piano", "Stato del piano", labels=PLAN_STATUSES),
            Column("rata", "Rata", "int", grouping=False),
            Column("scadenza", "Scadenza", "date"),
            Column("importo_cents", "Importo", "money"),
            Column("pagato_cents", "Pagato", "money"),
            Column("codice_avviso", "Codice avviso"),
            Column("stato", "Stato", labels=INSTALLMENT_STATUSES),
        ),
        installment_rows,
        order=55,
        totals=("importo_cents", "pagato_cents"),
        empty="Nessun piano di rateazione.",
    )
)
