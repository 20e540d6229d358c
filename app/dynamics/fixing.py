"""Amounts fixed by acts (issue 14 point 1): the interest accrued and the oneri computed at a date become
ledger movements (value date that day), so an act's figures stay what was notified while the amount due keeps
accruing from there by the entrata's rule (`app.positions.amounts`: the engine's quote starts from the last
booked interest). One small call from whoever fixes the amounts: the issue of an act
(`app.atti.services.issue_act`), a plan, a sgravio or a sospensione (which freeze the figures they change).
Payments already book what accrued when they reach the balance (`app.positions.amounts.crystallise`).
Never commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, Event, event_row, record_events
from app.core.db import insert_rows
from app.positions.amounts import INTEREST_KIND, ONERI_KIND, Due, accrual_source, amount_due, live_booking
from app.positions.models import Movement, Position
from app.reports.formatting import format_eur


def fixing_lines(due: Due) -> list[tuple[str, str, int]]:
    """(component, kind, cents) of what accrued and is not booked yet (nothing when the engine refused)."""
    if due.error is not None:
        return []
    lines = []
    if due.interest_cents > 0:
        lines.append(("interessi", INTEREST_KIND, due.interest_cents))
    if due.oneri_cents > 0:
        lines.append(("oneri", ONERI_KIND, due.oneri_cents))
    return lines


def _legal_source(due: Due, kind: str) -> str:
    if kind == ONERI_KIND:
        from app.positions.amounts import CHARGE_RULES

        return CHARGE_RULES.get(due.rule.oneri or "", due.rule.source)
    rates = sorted({s.get("source", "") for s in due.segments if s.get("source")})
    return "; ".join(p for p in (due.rule.source, *rates) if p)


def fix_amounts(
    session: Session,
    position: Position,
    on: dt.date,
    actor: Actor,
    *,
    reason: str,
    due: Due | None = None,
    payload: dict[str, Any] | None = None,
) -> list[Movement]:
    """Book at `on` the interest and oneri the engine computes for the position and the ledger does not hold
    yet; each movement's source names `reason` (e.g. the act) and the legal source of the figure. An event
    `position.amounts_fixed` when something was booked. Returns the movements (none: nothing had accrued)."""
    if _booked_after(session, position.id, on):
        return []  # a later booking already covers this date: booking again would count it twice
    due = due if due is not None else amount_due(session, position, on)
    rows = _movements(position, due, on, actor, reason)
    if not rows:
        return []
    session.add_all(rows)
    session.flush()
    _fixed_event(session, position, rows, on, actor, reason, payload)
    return rows


def _movements(position: Position, due: Due, on: dt.date, actor: Actor, reason: str) -> list[Movement]:
    return [
        Movement(
            position_id=position.id,
            component=component,
            kind=kind,
            amount_cents=cents,
            value_date=on,
            user_id=actor.user_id,
            source=accrual_source(kind, on, f"{reason}; {_legal_source(due, kind)}"),
        )
        for component, kind, cents in fixing_lines(due)
    ]


def _fixed_event(
    session: Session,
    position: Position,
    rows: list[Movement],
    on: dt.date,
    actor: Actor,
    reason: str,
    payload: dict[str, Any] | None,
) -> None:
    session.add(Event(**_fixed_event_row(position, rows, on, actor, reason, payload)))


def _fixed_event_row(
    position: Position,
    rows: list[Movement],
    on: dt.date,
    actor: Actor,
    reason: str,
    payload: dict[str, Any] | None,
) -> dict[str, Any]:
    total = sum(r.amount_cents for r in rows)
    return event_row(
        actor,
        "position.amounts_fixed",
        f"Importi fissati al {on:%d/%m/%Y} ({reason}): {format_eur(total)} di interessi e oneri"[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={
            **(payload or {}),
            "date": on.isoformat(),
            "movements": [r.id for r in rows],
            "cents": {r.component: r.amount_cents for r in rows},
        },
    )


def fix_amounts_many(
    session: Session,
    entries: list[tuple[Position, Due | None, str, dict[str, Any]]],
    on: dt.date,
    actor: Actor,
) -> None:
    """`fix_amounts` of many positions at the same date (a campaign's chunk of acts): one query for the
    later bookings, the movements inserted together (one executemany), one event per position that booked
    some (one executemany).
    `entries`: (position, the amount due at `on` or None, reason, payload)."""
    ids = [position.id for position, *_ in entries]
    later = set(
        session.scalars(
            sa.select(Movement.position_id)
            .where(Movement.position_id.in_(ids), Movement.value_date > on, live_booking())
            .distinct()
        )
    )
    booked: list[tuple[Position, list[Movement], str, dict[str, Any]]] = []
    for position, due, reason, payload in entries:
        if position.id in later:
            continue  # a later booking already covers this date
        if due is None or due.on != on or due.position_id != position.id:
            due = amount_due(session, position, on)
        rows = _movements(position, due, on, actor, reason)
        if rows:
            booked.append((position, rows, reason, payload))
    if not booked:
        return
    values = [_values(row) for _, rows, _, _ in booked for row in rows]
    ids = iter(insert_rows(session, Movement.__table__, values, ids=True))  # one executemany, no ORM flush
    for _, rows, _, _ in booked:
        for row in rows:
            row.id = next(ids)  # transient objects: only their figures and new ids are read below
    record_events(
        session,
        [
            _fixed_event_row(position, rows, on, actor, reason, payload)
            for position, rows, reason, payload in booked
        ],
    )


def _values(row: Movement) -> dict[str, Any]:
    return {
        "position_id": row.position_id,
        "component": row.component,
        "kind": row.kind,
        "amount_cents": row.amount_cents,
        "value_date": row.value_date,
        "user_id": row.user_id,
        "source": row.source,
    }


def _booked_after(session: Session, position_id: int, on: dt.date) -> bool:
    stmt = (
        sa.select(sa.func.count())
        .select_from(Movement)
        .where(Movement.position_id == position_id, Movement.value_date > on, live_booking())
    )
    return bool(session.scalar(stmt))


def fix_amounts_for_act(
    session: Session, act: Any, actor: Actor, *, due: Due | None = None
) -> list[Movement]:
    """The call of `issue_act`: an act with a payment fixes the figures it prints at its issue date (`due`:
    the amount due the act printed, when the caller has it)."""
    if not act.act_type.with_payment:
        return []
    position = session.get(Position, act.position_id)
    assert position is not None
    if due is not None and (due.on != act.issue_date or due.position_id != position.id):
        due = None
    return fix_amounts(
        session,
        position,
        act.issue_date,
        actor,
        reason=f"{act.act_type.name} prot. {act.protocol}",
        payload={"act": act.id},
        due=due,
    )
