"""Reads of procedures, always through the scoping helper."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from app.core.access import Principal, scoped
from app.procedures.machine import MACHINES
from app.procedures.models import Procedure, ProcedureStep


def procedures_stmt(
    principal: Principal,
    *,
    kind: str | None = None,
    state: str | None = None,
    open_only: bool = False,
    taxpayer_id: int | None = None,
    position_id: int | None = None,
) -> sa.Select:
    stmt = sa.select(Procedure).options(
        joinedload(Procedure.taxpayer), joinedload(Procedure.ente), joinedload(Procedure.position)
    )
    if kind:
        stmt = stmt.where(Procedure.kind == kind)
    if state:
        stmt = stmt.where(Procedure.state == state)
    if open_only:
        stmt = stmt.where(Procedure.closed_on.is_(None))
    if taxpayer_id is not None:
        stmt = stmt.where(Procedure.taxpayer_id == taxpayer_id)
    if position_id is not None:
        stmt = stmt.where(Procedure.position_id == position_id)
    return scoped(stmt, Procedure, principal).order_by(Procedure.started_on.desc(), Procedure.id.desc())


def list_procedures(
    session: Session, principal: Principal, *, limit: int = 200, offset: int = 0, **filters: object
) -> list[Procedure]:
    stmt = procedures_stmt(principal, **filters).options(selectinload(Procedure.steps))  # type: ignore[arg-type]
    return list(session.scalars(stmt.limit(limit).offset(offset)).unique())


def get_procedure(session: Session, principal: Principal, procedure_id: int) -> Procedure | None:
    stmt = (
        sa.select(Procedure)
        .where(Procedure.id == procedure_id)
        .options(
            selectinload(Procedure.steps).joinedload(ProcedureStep.act),
            selectinload(Procedure.steps).joinedload(ProcedureStep.document),
            joinedload(Procedure.taxpayer),
            joinedload(Procedure.position),
            joinedload(Procedure.insolvency),
        )
    )
    return session.scalars(scoped(stmt, Procedure, principal)).first()


def state_choices(kind: str | None) -> list[tuple[str, str]]:
    kinds = [kind] if kind in MACHINES else list(MACHINES)
    seen: dict[str, str] = {}
    for k in kinds:
        for code, label in MACHINES[k].states.items():
            seen.setdefault(code, label)
    return list(seen.items())


def as_json(procedure: Procedure) -> dict[str, object]:
    """The API's view of a procedure (`Procedure` schema of app/api/openapi.py)."""
    from app.reports.formatting import cents_to_machine

    return {
        "id": procedure.id,
        "kind": procedure.kind,
        "state": procedure.state,
        "state_label": procedure.state_label,
        "ente": procedure.ente.code,
        "position": {"id": procedure.position_id, "id_posizione": procedure.position.external_id},
        "codice_fiscale": procedure.taxpayer.codice_fiscale,
        "started_on": procedure.started_on.isoformat(),
        "deadline": procedure.deadline.isoformat() if procedure.deadline else None,
        "closed_on": procedure.closed_on.isoformat() if procedure.closed_on else None,
        "amount": cents_to_machine(procedure.amount_cents),
        "costs": cents_to_machine(procedure.costs_cents),
        "outcome": procedure.outcome,
        "steps": [
            {
                "operation": s.operation,
                "state": s.to_state,
                "date": s.step_date.isoformat(),
                "due_date": s.due_date.isoformat() if s.due_date else None,
                "cost": cents_to_machine(s.cost_cents) if s.cost_cents is not None else None,
                "cost_source": s.cost_source,
                "act_protocol": s.act.protocol if s.act is not None else None,
                "note": s.note,
            }
            for s in procedure.steps
        ],
    }
