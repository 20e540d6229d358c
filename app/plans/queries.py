"""Reads of rateazione requests, always through the scoping helper."""

from __future__ import annotations

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
