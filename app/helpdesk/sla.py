"""The SLA of a ticket, from the parameter rows: the business calendar (office hours valid on a day, Italian
national holidays through `holidays`, local holidays), the urgency class valid when the ticket was opened,
and the evaluation of both clocks (first response and resolution) at an instant. Never commits.

- response: runs from opened_dt to first_response_dt (taken in charge, or the first public answer);
- resolution: runs from opened_dt to the resolution (resolved is a pause state);
- both are paused while the ticket is in_attesa, trasferito, risolto or chiuso.

A breach is recorded once with the business minutes late (`*_late_minutes`), updated while the clock runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.calendar import is_italian_holiday
from app.helpdesk import clock
from app.helpdesk.models import BusinessHours, LocalHoliday, SlaPolicy, Ticket


def policies(session: Session, day: dt.date) -> list[SlaPolicy]:
    """The urgency classes valid on `day`, most urgent first."""
    return list(
        session.scalars(
            sa.select(SlaPolicy)
            .where(
                SlaPolicy.valid_from <= day, sa.or_(SlaPolicy.valid_to.is_(None), SlaPolicy.valid_to >= day)
            )
            .order_by(SlaPolicy.rank, SlaPolicy.valid_from.desc())
        )
    )


def policy_for(session: Session, code: str, day: dt.date) -> SlaPolicy | None:
    for policy in policies(session, day):
        if policy.code == code:
            return policy
    return None


def calendar(session: Session, day: dt.date) -> clock.BusinessCalendar:
    """The desk's calendar with the office hours valid on `day` (the rows in force then)."""
    rows = session.scalars(
        sa.select(BusinessHours).where(
            BusinessHours.valid_from <= day,
            sa.or_(BusinessHours.valid_to.is_(None), BusinessHours.valid_to >= day),
        )
    )
    hours: dict[int, list[clock.Interval]] = {}
    for row in rows:
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    local = list(session.scalars(sa.select(LocalHoliday.day)))
    return clock.standard_calendar(hours, local, is_italian_holiday)


@dataclass(frozen=True, slots=True)
class Clocks:
    response_elapsed: int
    response_target: int
    response_due: dt.datetime | None
    response_late: int
    resolution_elapsed: int
    resolution_target: int
    resolution_due: dt.datetime | None
    resolution_late: int
    warn_before: int


def pauses_of(ticket: Ticket) -> list[clock.Pause]:
    return [(p.started_dt, p.ended_dt) for p in ticket.pauses]


def evaluate(session: Session, ticket: Ticket, at: dt.datetime) -> Clocks | None:
    """Both clocks of the ticket at `at` (None when its urgency class has no policy: a configuration error
    shown on the page)."""
    opened_day = ticket.opened_dt.astimezone(clock.ROME).date()
    policy = policy_for(session, ticket.urgency, opened_day)
    if policy is None:
        return None
    cal = calendar(session, opened_day)
    pauses = pauses_of(ticket)
    response_end = ticket.first_response_dt or at
    # the response clock pauses too (waiting on the requester before any answer)
    response_elapsed = clock.elapsed(cal, ticket.opened_dt, response_end, pauses)
    response_due = clock.deadline(cal, ticket.opened_dt, policy.response_minutes, pauses)
    resolution_elapsed = clock.elapsed(cal, ticket.opened_dt, at, pauses)
    resolution_due = clock.deadline(cal, ticket.opened_dt, policy.resolution_minutes, pauses)
    return Clocks(
        response_elapsed=response_elapsed,
        response_target=policy.response_minutes,
        response_due=response_due,
        response_late=max(0, response_elapsed - policy.response_minutes),
        resolution_elapsed=resolution_elapsed,
        resolution_target=policy.resolution_minutes,
        resolution_due=resolution_due,
        resolution_late=max(0, resolution_elapsed - policy.resolution_minutes),
        warn_before=policy.warn_before_minutes,
    )


def refresh(session: Session, ticket: Ticket, at: dt.datetime) -> tuple[list[str], list[str]]:
    """Store the clocks' state on the ticket; the clocks that newly need a warning and that newly breached
    (`response`, `resolution`), for the caller to record and notify."""
    clocks = evaluate(session, ticket, at)
    if clocks is None:
        return [], []
    ticket.response_due_dt = clocks.response_due
    ticket.resolution_due_dt = clocks.resolution_due
    warnings: list[str] = []
    breaches: list[str] = []
    checks = (
        (
            "response",
            clocks.response_elapsed,
            clocks.response_target,
            clocks.response_late,
            ticket.first_response_dt is None,
        ),
        (
            "resolution",
            clocks.resolution_elapsed,
            clocks.resolution_target,
            clocks.resolution_late,
            ticket.is_open,
        ),
    )
    for name, spent, target, late, running in checks:
        if late > 0:
            if getattr(ticket, f"{name}_late_minutes") is None:
                breaches.append(name)
            # a stopped clock's minutes are frozen (paused, answered, resolved): the value stays right
            setattr(ticket, f"{name}_late_minutes", late)
        elif running and not getattr(ticket, f"{name}_warned") and target - spent <= clocks.warn_before:
            setattr(ticket, f"{name}_warned", True)
            warnings.append(name)
    if not ticket.is_open and ticket.resolved_dt is not None:
        ticket.resolution_minutes = clocks.resolution_elapsed
    return warnings, breaches
