"""Reads of rateazione requests and stored plans, always through the scoping helper."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from app.core.access import Principal, scoped
from app.plans.models import PlanRequest, PlanRequestPosition


def requests_stmt(principal: Principal, *, status: str | None = None) -> sa.Select:
    stmt = sa.select(PlanRequest).options(
        joinedload(PlanRequest.taxpayer), joinedload(PlanRequest.ente), selectinload(PlanRequest.positions)
    )
    if status:
        stmt = stmt.where(PlanRequest.status == status)
    return scoped(stmt, PlanRequest, principal).order_by(PlanRequest.created_dt.desc(), PlanRequest.id.desc())


def list_requests(
    session: Session, principal: Principal, *, status: str | None = None, limit: int = 200
) -> list[PlanRequest]:
    return list(session.scalars(requests_stmt(principal, status=status).limit(limit)).unique())


def get_request(session: Session, principal: Principal, request_id: int) -> PlanRequest | None:
    stmt = (
        sa.select(PlanRequest)
        .where(PlanRequest.id == request_id)
        .options(
            selectinload(PlanRequest.positions).joinedload(PlanRequestPosition.position),
            joinedload(PlanRequest.taxpayer),
        )
    )
    return session.scalars(scoped(stmt, PlanRequest, principal)).first()


# --- stored plans ------------------------------------------------------------------------------------------


def plans_stmt(
    principal: Principal, *, status: str | None = None, taxpayer_id: int | None = None
) -> sa.Select:
    from app.plans.models import Plan

    stmt = sa.select(Plan).options(
        joinedload(Plan.taxpayer), joinedload(Plan.ente), selectinload(Plan.installments)
    )
    if status:
        stmt = stmt.where(Plan.status == status)
    if taxpayer_id is not None:
        stmt = stmt.where(Plan.taxpayer_id == taxpayer_id)
    return scoped(stmt, Plan, principal).order_by(Plan.created_dt.desc(), Plan.id.desc())


def list_plans(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    taxpayer_id: int | None = None,
    limit: int = 200,
) -> list[Any]:
    stmt = plans_stmt(principal, status=status, taxpayer_id=taxpayer_id).limit(limit)
    return list(session.scalars(stmt).unique())


def get_plan(session: Session, principal: Principal, plan_id: int) -> Any:
    from app.plans.models import Plan, PlanPosition

    stmt = (
        sa.select(Plan)
        .where(Plan.id == plan_id)
        .options(
            selectinload(Plan.installments),
            selectinload(Plan.positions).joinedload(PlanPosition.position),
            joinedload(Plan.taxpayer),
            joinedload(Plan.ente),
        )
    )
    return session.scalars(scoped(stmt, Plan, principal)).first()


def plan_json(plan: Any) -> dict[str, Any]:
    """A plan as the API answers it (amounts in euro with 2 decimals, dates ISO)."""
    from app.engine.money import format_cents

    return {
        "id": plan.id,
        "ente": plan.ente.code,
        "codice_fiscale": plan.taxpayer.codice_fiscale,
        "status": plan.status,
        "regime": plan.regime,
        "amount": format_cents(plan.amount_cents),
        "paid": format_cents(plan.paid_cents),
        "approved_date": plan.approved_date.isoformat(),
        "first_due": plan.first_due.isoformat(),
        "positions": [link.position.external_id for link in plan.positions],
        "sollecito_date": plan.sollecito_date.isoformat() if plan.sollecito_date else None,
        "decadenza_date": plan.decadenza_date.isoformat() if plan.decadenza_date else None,
        "residual": format_cents(plan.residual_cents) if plan.residual_cents is not None else None,
        "proroga_date": plan.proroga_date.isoformat() if plan.proroga_date else None,
        "proroga_act_id": plan.proroga_act_id,
        "annulled_date": plan.annulled_date.isoformat() if plan.annulled_date else None,
        "installments": [
            {
                "n": i.number,
                "due": i.due_date.isoformat(),
                "capital": format_cents(i.capital_cents),
                "interest": format_cents(i.interest_cents),
                "amount": format_cents(i.amount_cents),
                "paid": format_cents(i.paid_cents),
                "status": i.status,
                "notice_number": i.notice_number,
                "paid_date": i.paid_date.isoformat() if i.paid_date else None,
            }
            for i in plan.installments
        ],
    }
