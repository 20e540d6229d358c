"""Demo data of the plans (idempotent): one stored plan on the last notified R01 position of a generated
taxpayer (not one of the fixed demo people the tests use), so that the plans' screens and a card are not empty
(no act is issued: the seed stays fast)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.core.errors import DomainError
from app.plans.models import Plan

ACTOR = Actor.system("rateazione demo")


def seed_plans_demo(session: Session, fixed_cfs: tuple[str, ...]) -> int:
    from app.plans.services import decide, submit_request
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    if session.scalar(sa.select(Plan.id).limit(1)) is not None:
        return 0
    fixed = sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale.in_(fixed_cfs))
    positions = session.scalars(
        sa.select(Position)
        .where(Position.taxpayer_id.not_in(fixed), Position.state == "notificata")
        .order_by(Position.id.desc())
        .limit(20)
    ).all()
    first_due = dt.date.today().replace(day=1) + dt.timedelta(days=31)
    for position in positions:
        principal = Principal(role="admin", ente_ids=frozenset({position.ente_id}))
        for count in (4, 6, 12, 24, 36):
            try:
                with session.begin_nested():
                    request = submit_request(
                        session, principal, ACTOR, [position.id], installments=count, first_due=first_due
                    )
                    decide(session, principal, ACTOR, request.id, approve=True, note="piano demo")
                return 1
            except DomainError:
                continue
    return 0
