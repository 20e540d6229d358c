"""Sgravio (abatement), total or partial, by an operator, an API client or the Regione's variation flow (one
path: `app.carichi.variations` calls `abate`), and the storno of a partial sgravio. Never commits.

The sgravio first fixes the figures at its date (`fixing.fix_amounts`: interest accrued until then becomes a
movement), so it changes the amount due at that date by exactly the abated amounts, and interest accrues
afterwards on what is left. Abated: negative `sgravio` movements per component, never beyond what the ledger
still owes on it; when the components bearing interest are abated to zero the interest goes with them
(art. 1282 c.c.); nothing left: the position moves to "sgravata" through the engine's state machine. Acts
already issued on the position are flagged "importi superati da sgravio" (`SupersededAct`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.dynamics.common import MeasureRequest, check, check_date, describe, locked, new_measure
from app.dynamics.fixing import fix_amounts
from app.dynamics.models import Measure, SupersededAct
from app.dynamics.rules import DynamicsRefused, refuse
from app.positions.amounts import due_rule
from app.positions.models import COMPONENT_LABELS, COMPONENTS, Movement, Position
from app.positions.queries import balances
from app.reports.formatting import format_eur


def movement_source(request: MeasureRequest, label: str) -> str:
    if request.source == "operatore":
        return f"{label} {describe(request)}: {request.reason}"[:200]
    return f"{request.source}: {request.reason}"[:200]


def abate(
    session: Session,
    actor: Actor,
    position: Position,
    cents: Mapping[str, int] | None,
    request: MeasureRequest,
    *,
    today: dt.date,
) -> Measure:
    """Abate `cents` by component (None: everything still due, a total sgravio). DynamicsRefused with the
    rule and its legal source when it cannot be done; nothing is kept then (the caller rolls back)."""
    position = locked(session, position)
    if position.state == "pagata":
        raise refuse("sgravio_pagato", "La posizione risulta pagata")
    check(position, "sgravata", "sgravio")
    day = request.day(today)
    check_date(day, today)
    wanted = {c: int(v) for c, v in (cents or {}).items() if v}
    if cents is not None and (
        not wanted or any(v < 0 for v in wanted.values()) or any(c not in COMPONENTS for c in wanted)
    ):
        raise refuse("sgravio_importo")
    fix_amounts(session, position, day, actor, reason=f"sgravio {describe(request)}")
    ledger = balances(session, [position.id])[position.id]
    if cents is None:
        wanted = {c: ledger.component(c).due_cents for c in COMPONENTS if ledger.component(c).due_cents > 0}
        if not wanted:
            raise refuse("sgravio_importo", "Nulla risulta dovuto sulla posizione")
    for component, amount in wanted.items():
        due = ledger.component(component).due_cents
        if amount > due:
            raise refuse(
                "sgravio_residuo",
                f"sgravio di {format_eur(amount)} superiore al dovuto della componente "
                f"{COMPONENT_LABELS[component]} ({format_eur(due)})",
                component=component,
                due=due,
            )
    rule = due_rule(
        session,
        day,
        ente_id=position.ente_id,
        entrata_id=position.entrata_id,
        rate_table=position.entrata.interest_rate_table,
    )
    bearing = [c for c in rule.base if c in COMPONENTS]
    interest_left = ledger.component("interessi").due_cents - wanted.get("interessi", 0)
    if (
        bearing
        and interest_left > 0
        and all(ledger.component(c).due_cents - wanted.get(c, 0) <= 0 for c in bearing)
        and any(wanted.get(c) for c in bearing)
    ):
        wanted["interessi"] = wanted.get("interessi", 0) + interest_left  # art. 1282 c.c.
    source = movement_source(request, "Sgravio")
    rows = [
        Movement(
            position_id=position.id,
            component=c,
            kind="sgravio",
            amount_cents=-v,
            value_date=day,
            source=source,
            user_id=actor.user_id,
        )
        for c, v in wanted.items()
        if v
    ]
    session.add_all(rows)
    session.flush()
    total = sum(wanted.values())
    measure = new_measure(
        session,
        position,
        "sgravio",
        request,
        actor,
        day,
        amount_cents=total,
        components={"cents": wanted, "movements": [r.id for r in rows], "total": cents is None},
    )
    left = balances(session, [position.id])[position.id].due_cents
    summary = (
        f"Sgravio di {format_eur(total)} ({', '.join(COMPONENT_LABELS[c] for c in wanted)}): {request.reason}"
    )
    if left <= 0:
        position.state = "sgravata"
        position.interest_stopped_on = None
        summary += "; posizione sgravata"
    superseded = supersede_acts(session, position, measure)
    record_event(
        session,
        actor,
        "position.abated",
        summary[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={
            "measure": measure.id,
            "source": request.source,
            "ordered_by": request.ordered_by,
            "act_number": request.act_number,
            "cents": wanted,
            "previous_state": measure.previous_state,
            "state": position.state,
            "superseded_acts": superseded,
            # what the Regione's flows recorded: one component per row
            "component": next(iter(wanted)) if len(wanted) == 1 else None,
            **(request.extra or {}),
        },
    )
    session.flush()
    return measure


def supersede_acts(session: Session, position: Position, measure: Measure) -> list[int]:
    """Flag the acts issued on the position so far: their figures are "importi superati da sgravio"."""
    from app.atti.models import Act

    ids = list(session.scalars(sa.select(Act.id).where(Act.position_id == position.id).order_by(Act.id)))
    session.add_all([SupersededAct(measure_id=measure.id, act_id=act_id) for act_id in ids])
    return ids


def reverse_abatement(
    session: Session, actor: Actor, measure: Measure, reason: str, *, today: dt.date
) -> Measure:
    """Storno of a partial sgravio still in force: its movements reversed (same value date), the measure
    ended. A position already "sgravata" is closed (terminal state): refused."""
    position = locked(session, measure.position)
    if measure.kind != "sgravio" or measure.ended_on is not None or position.state == "sgravata":
        raise refuse("storno_sgravio", f"Sgravio n. {measure.id} non stornabile")
    ids = list(measure.components.get("movements", []))
    originals = list(session.scalars(sa.select(Movement).where(Movement.id.in_(ids)).order_by(Movement.id)))
    if not originals:
        raise DynamicsRefused("Movimenti dello sgravio non trovati.")
    source = f"Storno dello sgravio n. {measure.id}: {reason}"
    reversals = [m.reversal(source=source, user_id=actor.user_id) for m in originals]
    session.add_all(reversals)
    measure.ended_on = today
    measure.end_reason = reason[:500]
    measure.ended_by_label = actor.label[:120]
    session.flush()
    record_event(
        session,
        actor,
        "position.abatement_reversed",
        f"Storno dello sgravio di {format_eur(measure.amount_cents)}: {reason}"[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={"measure": measure.id, "movements": [r.id for r in reversals]},
    )
    return measure
