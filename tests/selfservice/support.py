"""Helpers shared by the self-service tests and the security probe's world."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.core.errors import DomainError
from app.positions.models import Position

ACTOR = Actor.system("test self-service")


def plan_request_of_someone(session: Session, *, ente_id: int | None = None, not_taxpayer: int | None = None):
    """A rateazione request (status richiesta) of the first open position that admits a plan, of a taxpayer
    other than `not_taxpayer` (and of `ente_id` when given), submitted as that taxpayer would."""
    from app.plans.services import submit_request

    stmt = sa.select(Position).where(Position.state.not_in(("pagata", "sgravata"))).order_by(Position.id)
    if ente_id is not None:
        stmt = stmt.where(Position.ente_id == ente_id)
    if not_taxpayer is not None:
        stmt = stmt.where(Position.taxpayer_id != not_taxpayer)
    for position in session.scalars(stmt.limit(50)).all():
        principal = Principal(role="contribuente", ente_ids=frozenset(), taxpayer_id=position.taxpayer_id)
        for count in (6, 12, 1, 24, 36, 48, 60, 72):
            try:
                with session.begin_nested():
                    return submit_request(
                        session,
                        principal,
                        ACTOR,
                        [position.id],
                        installments=count,
                        first_due=dt.date.today() + dt.timedelta(days=30),
                    )
            except DomainError:
                continue
    raise AssertionError("no open position admits a plan")
