"""The position monitor's "Procedure" section (app/monitor/sections.py): every step of the fermi, ipoteche,
pignoramenti and insinuazioni started on the position, with dates, costs and their source."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.monitor.sections import Section, register_section
from app.positions.models import Position
from app.procedures.machine import KINDS, OPERATIONS, state_label
from app.procedures.models import Procedure, ProcedureStep
from app.reports.exports import Column


def step_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    stmt = scoped(
        sa.select(Procedure, ProcedureStep)
        .join(ProcedureStep, ProcedureStep.procedure_id == Procedure.id)
        .where(Procedure.position_id == position.id)
        .order_by(Procedure.id, ProcedureStep.step_date, ProcedureStep.id),
        Procedure,
        principal,
    )
    return [
        {
            "procedura": procedure.kind,
            "fase": step.operation,
            "stato": state_label(procedure.kind, step.to_state),
            "data": step.step_date,
            "attende_fino_al": step.due_date,
            "spese_cents": step.cost_cents,
            "fonte_spese": step.cost_source,
        }
        for procedure, step in session.execute(stmt)
    ]


register_section(
    Section(
        "procedure",
        "Procedure cautelari ed esecutive",
        (
            Column("procedura", "Procedura", labels=KINDS),
            Column("fase", "Fase", labels=OPERATIONS),
            Column("stato", "Stato"),
            Column("data", "Data", "date"),
            Column("attende_fino_al", "Termine", "date"),
            Column("spese_cents", "Spese", "money"),
            Column("fonte_spese", "Fonte delle spese"),
        ),
        step_rows,
        order=58,
        totals=("spese_cents",),
        empty="Nessuna procedura.",
    )
)
