"""Sospensione (ricorso, autotutela, ordine della Regione) and its revoca. Never commits.

A suspension moves the position to "sospesa" through the engine's state machine, which stops escalation (no
act is issued on a suspended position: `app.atti.services.REFUSED_STATES`); where the entrata's rule says so
(`regola_dovuto` → `suspension.stops_interest`, the kinds that stop it) interest stops too: what accrued until
the suspension's date is booked that day and none accrues until the revoca, from whose date it runs again
(`Position.interest_stopped_on` / `interest_resumes_on`, read by the one quote path). The revoca resumes the
state the position had when suspended."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, Event, record_event
from app.dynamics.common import MeasureRequest, check, check_date, describe, locked, new_measure
from app.dynamics.fixing import fix_amounts
from app.dynamics.models import SUSPENSION_REASONS, Measure
from app.dynamics.rules import DynamicsRefused, refuse
from app.engine.states import STATES
from app.positions.amounts import due_rule
from app.positions.models import Position


def suspend(
    session: Session,
    actor: Actor,
    position: Position,
    reason_kind: str,
    request: MeasureRequest,
    *,
    today: dt.date,
) -> Measure:
    if reason_kind not in SUSPENSION_REASONS:
        raise DynamicsRefused(f"Motivo di sospensione sconosciuto: {reason_kind}.")
    rule_code = f"sospensione_{reason_kind}"
    position = locked(session, position)
    if position.state == "sospesa":
        raise refuse("sospensione_in_corso", "La posizione è già sospesa")
    check(position, "sospesa", rule_code)
    day = request.day(today)
    check_date(day, today)
    rule = due_rule(
        session,
        day,
        ente_id=position.ente_id,
        entrata_id=position.entrata_id,
        rate_table=position.entrata.interest_rate_table,
    )
    stops = rule.interest_start is not None and reason_kind in rule.suspension_stops_interest
    if stops:
        fix_amounts(session, position, day, actor, reason=f"sospensione {describe(request)}")
        position.interest_stopped_on = day
    measure = new_measure(
        session,
        position,
        "sospensione",
        request,
        actor,
        day,
        suspension_reason=reason_kind,
        stops_interest=stops,
    )
    previous = position.state
    position.state = "sospesa"
    label = SUSPENSION_REASONS[reason_kind]
    record_event(
        session,
        actor,
        "position.suspended",
        (
            f"Sospensione ({label}, {describe(request)}): {request.reason}"
            + ("; interessi sospesi" if stops else "")
        )[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={
            "measure": measure.id,
            "source": request.source,
            "previous_state": previous,
            "date": day.isoformat(),
            "reason": reason_kind,
            "stops_interest": stops,
            **(request.extra or {}),
        },
    )
    session.flush()
    return measure


def active_suspension(session: Session, position_id: int) -> Measure | None:
    return session.scalars(
        sa.select(Measure)
        .where(Measure.position_id == position_id, Measure.kind == "sospensione", Measure.ended_on.is_(None))
        .order_by(Measure.id.desc())
        .limit(1)
    ).first()


def _state_before(session: Session, position: Position, measure: Measure | None) -> str:
    """The state the position had when suspended (a suspension recorded before this slice: its event)."""
    if measure is not None:
        return measure.previous_state
    payload = session.scalars(
        sa.select(Event.payload)
        .where(Event.position_id == position.id, Event.kind == "position.suspended")
        .order_by(Event.occurred_dt.desc(), Event.id.desc())
        .limit(1)
    ).first()
    previous = (payload or {}).get("previous_state")
    return previous or ("notificata" if position.notified_date else "scaduta")


def revoke(
    session: Session, actor: Actor, position: Position, request: MeasureRequest, *, today: dt.date
) -> Measure | None:
    """The revoca of the suspension in force; returns its measure (None for a suspension older than this
    slice, which has none)."""
    position = locked(session, position)
    if position.state != "sospesa":
        raise refuse(
            "revoca_non_sospesa",
            f"revoca non applicabile: la posizione non è sospesa "
            f"(stato «{STATES.get(position.state, position.state)}»)",
        )
    measure = active_suspension(session, position.id)
    day = request.day(today)
    check_date(day, today)
    if measure is not None and day < measure.value_date:
        raise refuse(
            "revoca_non_sospesa",
            f"La revoca ({day:%d/%m/%Y}) precede la sospensione ({measure.value_date:%d/%m/%Y})",
        )
    target = _state_before(session, position, measure)
    check(position, target, f"sospensione_{measure.suspension_reason}" if measure else "revoca_non_sospesa")
    if position.interest_stopped_on is not None:
        position.interest_resumes_on = day
        position.interest_stopped_on = None
    position.state = target
    if measure is not None:
        measure.ended_on = day
        measure.end_reason = request.reason[:500]
        measure.ended_by_label = actor.label[:120]
    record_event(
        session,
        actor,
        "position.suspension_revoked",
        f"Revoca della sospensione ({describe(request)}): {request.reason}"[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={
            "measure": measure.id if measure else None,
            "source": request.source,
            "state": target,
            "date": day.isoformat(),
            **(request.extra or {}),
        },
    )
    session.flush()
    return measure
