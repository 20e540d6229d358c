"""Discarico per inesigibilità: the position declared uncollectable, with the collection attempts made (acts
issued with their notification, procedure steps), listed from the acts and events of the position, plus the
operator's notes. Refused without a documented attempt. The figures are fixed at its date (the amount
discharged); the debt stays in the ledger (the state "inesigibile" may be revoked when assets appear).
Annullamento: the position void, every live movement reversed, the position closed ("sgravata"), its acts
flagged. Never commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, Event, record_event
from app.dynamics.common import MeasureRequest, check, check_date, describe, locked, new_measure
from app.dynamics.fixing import fix_amounts
from app.dynamics.models import Measure
from app.dynamics.rules import refuse
from app.dynamics.sgravio import supersede_acts
from app.positions.models import Movement, Position
from app.positions.queries import balances
from app.reports.formatting import format_eur


def attempts_of(session: Session, position_id: int) -> list[dict[str, Any]]:
    """The collection attempts on record: each act issued (with its notification) and procedure step."""
    from app.atti.models import Act

    attempts: list[dict[str, Any]] = []
    for act in session.scalars(
        sa.select(Act).where(Act.position_id == position_id).order_by(Act.issue_date, Act.id)
    ):
        text = f"{act.act_type.name} prot. {act.protocol} del {act.issue_date:%d/%m/%Y}"
        if act.notified_date:
            text += f", notificato il {act.notified_date:%d/%m/%Y}"
        elif act.notification_outcome:
            text += f", esito {act.notification_outcome}"
        attempts.append({"kind": "atto", "id": act.id, "date": act.issue_date.isoformat(), "text": text})
    for event in session.scalars(
        sa.select(Event)
        .where(Event.position_id == position_id, Event.kind.like("procedure.%"))
        .order_by(Event.id)
    ):
        attempts.append(
            {
                "kind": "procedura",
                "id": event.id,
                "date": event.occurred_dt.date().isoformat(),
                "text": event.summary,
            }
        )
    return attempts


def write_off(
    session: Session,
    actor: Actor,
    position: Position,
    request: MeasureRequest,
    *,
    notes: str = "",
    today: dt.date,
) -> Measure:
    position = locked(session, position)
    check(position, "inesigibile", "discarico")
    attempts = attempts_of(session, position.id)
    if not attempts:
        raise refuse("discarico_tentativi", "Nessun atto o procedura sulla posizione")
    day = request.day(today)
    check_date(day, today)
    fix_amounts(session, position, day, actor, reason=f"discarico per inesigibilità {describe(request)}")
    amount = max(balances(session, [position.id])[position.id].due_cents, 0)
    if notes.strip():
        attempts.append({"kind": "nota", "date": day.isoformat(), "text": notes.strip()[:1000]})
    measure = new_measure(
        session, position, "discarico", request, actor, day, amount_cents=amount, attempts=attempts
    )
    position.state = "inesigibile"
    record_event(
        session,
        actor,
        "position.written_off",
        f"Discarico per inesigibilità di {format_eur(amount)} ({describe(request)}): {request.reason}"[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={
            "measure": measure.id,
            "cents": amount,
            "attempts": len(attempts),
            "previous_state": measure.previous_state,
        },
    )
    session.flush()
    return measure


def annul(
    session: Session, actor: Actor, position: Position, request: MeasureRequest, *, today: dt.date
) -> Measure:
    position = locked(session, position)
    ledger = balances(session, [position.id])[position.id]
    if ledger.paid_cents != 0:
        raise refuse("annullamento_pagato", f"Pagamenti per {format_eur(ledger.paid_cents)} sulla posizione")
    check(position, "sgravata", "annullamento")
    day = request.day(today)
    check_date(day, today)
    reversal = sa.orm.aliased(Movement)
    live = list(
        session.scalars(
            sa.select(Movement)
            .where(
                Movement.position_id == position.id,
                Movement.reverses_id.is_(None),
                ~sa.exists().where(reversal.reverses_id == Movement.id),
            )
            .order_by(Movement.id)
        )
    )
    source = (
        f"Annullamento {describe(request)}: {request.reason}"[:200]
        if request.source == "operatore"
        else f"{request.source}: {request.reason}"[:200]
    )
    rows = [m.reversal(source=source, user_id=actor.user_id, value_date=day) for m in live]
    session.add_all(rows)
    session.flush()
    measure = new_measure(
        session,
        position,
        "annullamento",
        request,
        actor,
        day,
        amount_cents=max(ledger.due_cents, 0),
        components={"movements": [r.id for r in rows]},
    )
    position.state = "sgravata"
    position.interest_stopped_on = None
    superseded = supersede_acts(session, position, measure)
    record_event(
        session,
        actor,
        "position.annulled",
        f"Annullamento della posizione ({describe(request)}): {request.reason}"[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={
            "measure": measure.id,
            "movements": len(rows),
            "superseded_acts": superseded,
            "previous_state": measure.previous_state,
        },
    )
    session.flush()
    return measure
