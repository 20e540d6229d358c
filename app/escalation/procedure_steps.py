"""Ladder steps that start a procedure instead of issuing an act, as an extension point:
`register_procedure_starter(kind, label, start)`.

The procedures slice registers its own (app/procedures/escalation_steps.py: the pignoramento presso terzi),
so this slice does not import it. `start(session, principal, actor, position_id, on, options)` starts the
procedure through the procedure's service (its preconditions refusing with a DomainError whose message names
the rule in Italian) and returns the procedure's id. The daily job proposes such a step like any other
(app/escalation/proposals.py); the operator reviews the step's proposals and approves them as a campaign:
`approve_procedure_step` starts one procedure per proposal, each in its own savepoint, so a refused position
is excluded with the procedure's reason while the others start. Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.escalation.models import EscalationProposal, EscalationStep

Starter = Callable[[Session, Principal, Actor, int, dt.date, dict[str, Any]], int]


@dataclass(frozen=True, slots=True)
class ProcedureStarter:
    kind: str
    label: str
    start: Starter


_STARTERS: dict[str, ProcedureStarter] = {}


def register_procedure_starter(kind: str, label: str, start: Starter) -> None:
    if kind in _STARTERS:
        raise ValueError(f"procedure starter {kind!r} registered twice")
    _STARTERS[kind] = ProcedureStarter(kind, label, start)


def starter(kind: str) -> ProcedureStarter:
    found = _STARTERS.get(kind)
    if found is None:
        raise DomainError(f"Nessuna procedura «{kind}» può essere avviata dall'escalation.")
    return found


@dataclass(slots=True)
class ProcedureRun:
    started: int = 0
    refused: int = 0


def approve_procedure_step(
    session: Session,
    principal: Principal,
    actor: Actor,
    step: EscalationStep,
    *,
    on: dt.date,
    options: dict[str, Any] | None = None,
) -> ProcedureRun:
    """Start the step's procedure for each of its waiting proposals (the operator's `options`, e.g. the third
    party, over the step's): started ones become `emessa` with their procedure and an event naming the rule
    and the procedure; refused ones `esclusa` with the procedure's reason (and an event)."""
    found = starter(step.procedure_kind or "")
    rule = step.rule
    chosen = {**(step.options or {}), **(options or {})}
    waiting = list(
        session.scalars(
            scoped(sa.select(EscalationProposal), EscalationProposal, principal)
            .where(EscalationProposal.step_id == step.id, EscalationProposal.status == "proposta")
            .order_by(EscalationProposal.id)
            .with_for_update()
        )
    )
    if not waiting:
        raise DomainError("Nessuna proposta da approvare per questo passo.")
    run = ProcedureRun()
    for proposal in waiting:
        payload = {
            "proposal": proposal.id,
            "rule": rule.id,
            "rule_name": rule.name,
            "step": step.id,
            "step_name": step.name,
            "act": step.act_code,
        }
        try:
            with session.begin_nested():
                procedure_id = found.start(session, principal, actor, proposal.position_id, on, chosen)
        except DomainError as exc:
            proposal.status, proposal.reason = "esclusa", f"{found.label}: {exc.message}"[:300]
            proposal.decided_by_label = actor.label
            kind, summary = (
                "escalation.excluded",
                (f"Passo «{step.name}» non avviato: {exc.message} (regola «{rule.name}»)"),
            )
            payload["reason"] = exc.message
            run.refused += 1
        else:
            proposal.status, proposal.procedure_id = "emessa", procedure_id
            proposal.decided_by_label = actor.label
            kind, summary = (
                "escalation.approved",
                (
                    f"Passo «{step.name}» approvato: {found.label.lower()} n. {procedure_id} avviato "
                    f"(regola «{rule.name}»)"
                ),
            )
            payload["procedure"] = procedure_id
            run.started += 1
        record_event(
            session,
            actor,
            kind,
            summary[:500],
            taxpayer_id=proposal.position.taxpayer_id,
            position_id=proposal.position_id,
            ente_id=proposal.ente_id,
            payload=payload,
        )
    session.flush()
    return run
