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


def plan_position(session: Session, *, low: int = 10_001, high: int = 300_000, skip: int = 0) -> Any:
    """A notified R01 position (regime l160), untouched by payments, owing between `low` and `high` cents at
    FIRST_DUE (100.01-3,000.00 euro: 2 to 4 installments, or 5 to 12)."""
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
            .limit(1000)
        )
    )
    dues = amounts_due(session, rows, FIRST_DUE)
    found = [p for p in rows if low <= dues[p.id].total_cents <= high and dues[p.id].error is None]
    assert len(found) > skip, (len(rows), len(found), sorted(d.total_cents for d in dues.values())[:20])
    return found[skip]


def submit(session: Session, principal: Principal, actor: Actor, position: Any, installments: int = 3) -> Any:
    """The request of `installments` installments, or of the fewest the band admits otherwise."""
    from app.plans.services import PlanRefused, submit_request

    try:
        with session.begin_nested():
            return submit_request(
                session, principal, actor, [position.id], installments=installments, first_due=FIRST_DUE
            )
    except PlanRefused as exc:
        assert exc.allowed, exc.message
        return submit_request(
            session, principal, actor, [position.id], installments=exc.allowed["min"], first_due=FIRST_DUE
        )


def approved_plan(
    session: Session, store: Any, *, installments: int = 3, skip: int = 0, file_store: bool = True
) -> World:
    from app.plans.services import decide

    principal, actor = office(session)
    position = plan_position(session, skip=skip)
    request = submit(session, principal, actor, position, installments)
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


def plan_of_ente(session: Session, ente_id: int, *, not_taxpayer: int | None = None) -> Any:
    """A stored plan (no act) of the first notified position of the ente that admits one (the security probe's
    world: dates from today)."""
    from app.core.errors import DomainError
    from app.plans.services import decide, submit_request
    from app.positions.models import Position

    principal, actor = office(session, "admin")
    principal = Principal(role="admin", ente_ids=frozenset({ente_id}), user_id=actor.user_id)
    first_due = dt.date.today() + dt.timedelta(days=30)
    stmt = (
        sa.select(Position)
        .where(Position.ente_id == ente_id, Position.state.in_(("notificata", "scaduta")))
        .where(Position.taxpayer_id != (not_taxpayer or 0))
        .order_by(Position.id)
        .limit(50)
    )
    for position in session.scalars(stmt).all():
        for count in (2, 5, 13, 25, 37):
            try:
                with session.begin_nested():
                    request = submit_request(
                        session, principal, actor, [position.id], installments=count, first_due=first_due
                    )
                    decision = decide(session, principal, actor, request.id, approve=True, note=None)
                    return decision.plan
            except DomainError:
                continue
    raise AssertionError("no notified position admits a plan")
