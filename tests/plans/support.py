"""A stored plan on a demo position, with dates fixed (the services take the day: nothing reads the clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor

FIRST_DUE = dt.date(2026, 1, 31)
APPROVED_ON = dt.date(2026, 1, 10)


@dataclass
class World:
    principal: Principal
    actor: Actor
    position: Any
    request: Any
    plan: Any


def office(session: Session, username: str = "backoffice") -> tuple[Principal, Actor]:
    from app.auth.models import User
    from app.core.access import principal_of

    user = session.scalars(sa.select(User).where(User.username == username)).one()
    return principal_of(user), Actor(user_id=user.id, label=user.display_name)


def plan_position(session: Session, *, low: int = 10_001, high: int = 50_000, skip: int = 0) -> Any:
    """A notified R01 position (regime l160), untouched by payments, owing between `low` and `high` cents at
    FIRST_DUE (100.01-500.00 euro: 2 to 4 installments)."""
    from app.enti.models import Ente
    from app.payments.models import Payment
    from app.positions.amounts import amounts_due
    from app.positions.models import Position

    rows = list(
        session.scalars(
            sa.select(Position)
            .join(Ente, Ente.id == Position.ente_id)
            .where(
                Ente.code == "R01",
                Position.state == "notificata",
                ~sa.exists().where(Payment.position_id == Position.id),
            )
            .order_by(Position.id)
            .limit(300)
        )
    )
    dues = amounts_due(session, rows, FIRST_DUE)
    found = [p for p in rows if low <= dues[p.id].total_cents <= high and dues[p.id].error is None]
    return found[skip]


def approved_plan(
    session: Session, store: Any, *, installments: int = 3, skip: int = 0, file_store: bool = True
) -> World:
    from app.plans.services import decide, submit_request

    principal, actor = office(session)
    position = plan_position(session, skip=skip)
    request = submit_request(
        session, principal, actor, [position.id], installments=installments, first_due=FIRST_DUE
    )
    decision = decide(
        session,
        principal,
        actor,
        request.id,
        approve=True,
        note="ok",
        on=APPROVED_ON,
        file_store=str(store) if file_store else None,
    )
    assert decision.plan is not None and decision.act_error is None, decision.act_error
    return World(principal, actor, position, request, decision.plan)


def events(session: Session, kind: str, position_id: int) -> list[Any]:
    from app.core.audit import Event

    return list(
        session.scalars(
            sa.select(Event).where(Event.kind == kind, Event.position_id == position_id).order_by(Event.id)
        )
    )


def act_pdf(session: Session, store: Any, act_id: int) -> bytes:
    from app.archive.models import Document
    from app.atti.models import Act
    from app.jobs.files import path_of

    act = session.get(Act, act_id)
    document = session.get(Document, act.document_id)
    return path_of(str(store), document.file_path).read_bytes()
