"""What every procedure shares: the position it runs on (scoped, moved to `in_procedura` through the engine's
transitions), the parameter rows it reads (costs of the DM table, terms), the steps and their events.
Never commits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.errors import NotFound
from app.engine.errors import TransitionNotAllowed
from app.engine.states import STATES, check_transition
from app.enti.queries import in_force, parameter_rows
from app.positions.models import Movement, Position
from app.procedures.machine import KINDS, MACHINES, OPERATIONS, ProcedureRefused, check
from app.procedures.models import Procedure, ProcedureStep
from app.reports.formatting import format_date_it, format_eur

COSTS_PARAMETER = "spese_procedure"
_ART50 = "D.Lgs. 33/2025, art. 146 (già art. 50, c. 1, D.P.R. 602/1973)"
CLOSED_POSITION_STATES = ("pagata", "sgravata", "prescritta", "inesigibile", "sospesa")


def get_position(session: Session, principal: Principal, position_id: int) -> Position:
    position = session.scalars(
        scoped(sa.select(Position).where(Position.id == position_id), Position, principal)
    ).first()
    if position is None:
        raise NotFound("Posizione non trovata.")
    return position


def get_procedure(
    session: Session, principal: Principal, procedure_id: int, *, lock: bool = False
) -> Procedure:
    stmt = scoped(sa.select(Procedure).where(Procedure.id == procedure_id), Procedure, principal)
    if lock:
        stmt = stmt.with_for_update()
    procedure = session.scalars(stmt).first()
    if procedure is None:
        raise NotFound("Procedura non trovata.")
    return procedure


def parameter(session: Session, position: Position, code: str, on: dt.date) -> dict[str, Any]:
    """The row of `code` in force at `on` for the position's ente and entrata (the more specific wins)."""
    rows = parameter_rows(session, ente_id=position.ente_id, entrata_id=position.entrata_id)
    row = in_force(rows, code, on)
    if row is None:
        raise ProcedureRefused(
            f"Manca il parametro «{code}» valido al {format_date_it(on)}: aggiungilo in "
            "Amministrazione › Parametri."
        )
    return row


def term_days(session: Session, position: Position, code: str, on: dt.date) -> tuple[int, str]:
    row = parameter(session, position, code, on)
    return int(row["value"]["days"]), row["source"]


def amount_due_cents(session: Session, position: Position, on: dt.date) -> int:
    from app.positions.amounts import amount_due

    return max(amount_due(session, position, on).total_cents, 0)


def enter_procedure(session: Session, position: Position, actor: Actor, kind: str, on: dt.date) -> None:
    """The position moves to `in_procedura` (engine transition `avvio_procedura`) unless it is there."""
    if position.state == "in_procedura":
        return
    try:
        transition = check_transition(position.state, "in_procedura")
    except TransitionNotAllowed:
        raise ProcedureRefused(
            f"La posizione è «{STATES.get(position.state, position.state)}»: "
            f"un {KINDS[kind].lower()} si avvia "
            f"solo su una posizione scaduta, cioè decorso il termine di pagamento dell'atto notificato "
            f"({_ART50}).",
            state=position.state,
        ) from None
    previous = position.state
    position.state = "in_procedura"
    record_event(
        session,
        actor,
        "position.state_changed",
        f"Stato: {STATES[previous]} → {STATES['in_procedura']} ({KINDS[kind]})",
        taxpayer_id=position.taxpayer_id,
        position_id=position.id,
        ente_id=position.ente_id,
        payload={
            "from": previous,
            "to": "in_procedura",
            "operation": transition.operation,
            "on": on.isoformat(),
        },
    )


def book_cost(
    session: Session, procedure: Procedure, cost_code: str, on: dt.date, actor: Actor
) -> tuple[int | None, str | None]:
    """The cost of a step from the DM table (parameter `spese_procedure` in force at `on`), booked as a
    `spese` movement of the position (L. 160/2019, art. 1 c. 803 lett. b). (None, None): no cost listed."""
    position = procedure.position
    row = parameter(session, position, COSTS_PARAMETER, on)
    value = row["value"].get(cost_code)
    if value in (None, "", "0", "0.00"):
        return None, None
    cents = int((Decimal(str(value)) * 100).to_integral_value())
    source = row["source"]
    session.add(
        Movement(
            position_id=position.id,
            component="spese",
            kind="spese",
            amount_cents=cents,
            value_date=on,
            user_id=actor.user_id,
            source=f"spese {KINDS[procedure.kind].lower()} n. {procedure.id} ({source})"[:200],
        )
    )
    return cents, source


def add_step(
    session: Session,
    procedure: Procedure,
    actor: Actor,
    operation: str,
    on: dt.date,
    *,
    to_state: str | None = None,
    outcome: str | None = None,
    due_date: dt.date | None = None,
    cost_code: str | None = None,
    act_id: int | None = None,
    document_id: int | None = None,
    payment_id: int | None = None,
    note: str | None = None,
    summary: str | None = None,
) -> ProcedureStep:
    """Check `operation` on the procedure's state machine (unless `to_state` is the initial state of a new
    procedure), book its cost, append the step and its event."""
    from_state = procedure.state if procedure.id is not None and procedure.state else None
    if to_state is None:
        to_state = check(procedure.kind, procedure.state, operation, outcome=outcome)
    if procedure.id is None:
        session.add(procedure)
        session.flush()
    cost_cents, cost_source = (
        book_cost(session, procedure, cost_code, on, actor) if cost_code else (None, None)
    )
    step = ProcedureStep(
        procedure_id=procedure.id,
        operation=operation,
        from_state=from_state,
        to_state=to_state,
        step_date=on,
        due_date=due_date,
        cost_cents=cost_cents,
        cost_source=cost_source,
        act_id=act_id,
        document_id=document_id,
        payment_id=payment_id,
        note=(note or "").strip()[:1000] or None,
        actor_label=actor.label[:120],
    )
    procedure.steps.append(step)
    procedure.state = to_state
    if due_date is not None:
        procedure.deadline = due_date
    if to_state in MACHINES[procedure.kind].closed and procedure.closed_on is None:
        procedure.closed_on = on
        procedure.deadline = None
    session.flush()
    label = "Avvio" if operation == "avvio" else OPERATIONS.get(operation, operation)
    text = summary or (
        f"{procedure.kind_label} n. {procedure.id}: {label.lower()} il {format_date_it(on)} → "
        f"{procedure.state_label}"
        + (f", spese {format_eur(cost_cents)}" if cost_cents else "")
        + (f", scadenza {format_date_it(due_date)}" if due_date else "")
    )
    record_event(
        session,
        actor,
        "procedure.started" if operation == "avvio" else "procedure.step",
        text[:500],
        taxpayer_id=procedure.taxpayer_id,
        position_id=procedure.position_id,
        ente_id=procedure.ente_id,
        payload={
            "procedure": procedure.id,
            "kind": procedure.kind,
            "operation": operation,
            "from": from_state,
            "to": to_state,
            "on": on.isoformat(),
            "cost_cents": cost_cents,
            "cost_source": cost_source,
            "act": act_id,
            "document": document_id,
            "payment": payment_id,
        },
    )
    return step


def new_procedure(
    position: Position, kind: str, on: dt.date, actor: Actor, *, amount_cents: int, details: dict[str, Any]
) -> Procedure:
    return Procedure(
        ente_id=position.ente_id,
        taxpayer_id=position.taxpayer_id,
        position_id=position.id,
        position=position,
        kind=kind,
        state=MACHINES[kind].initial,
        started_on=on,
        amount_cents=amount_cents,
        details=details,
        created_by_label=actor.label[:120],
    )


def refuse_closed_position(position: Position, kind: str) -> None:
    if position.state in CLOSED_POSITION_STATES:
        raise ProcedureRefused(
            f"La posizione è «{STATES.get(position.state, position.state)}»: nessun {KINDS[kind].lower()} "
            "può essere avviato.",
            state=position.state,
        )


def refuse_before(on: dt.date, deadline: dt.date | None, what: str, source: str) -> None:
    if deadline is None or on < deadline:
        when = f"dal {format_date_it(deadline)}" if deadline else "dopo la notifica"
        raise ProcedureRefused(f"{what}: è possibile solo {when} ({source}).", deadline=deadline)


def notify_warning(
    session: Session, procedure: Procedure, actor: Actor, on: dt.date, term_parameter: str, act_name: str
) -> None:
    """The warning act (preavviso di fermo, comunicazione preventiva di ipoteca) was notified on `on`: the
    step records the date and the term (parameter `term_parameter`) after which the procedure may go on."""
    if procedure.act is not None and on < procedure.act.issue_date:
        raise ProcedureRefused(
            f"La data di notifica non può precedere l'emissione {act_name} "
            f"({format_date_it(procedure.act.issue_date)})."
        )
    days, source = term_days(session, procedure.position, term_parameter, on)
    add_step(
        session,
        procedure,
        actor,
        "notifica_preavviso",
        on,
        due_date=on + dt.timedelta(days=days),
        note=f"{days} giorni per pagare ({source})",
    )
