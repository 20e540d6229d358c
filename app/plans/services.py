"""Use cases of rateazione requests: a taxpayer submits one (simulated by the engine within the entrata's
installment regime, L. 160/2019 bands as parameters), the back office approves or refuses
it. Never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError, NotFound
from app.engine import wire
from app.engine.money import format_cents
from app.plans.models import Plan, PlanRequest, PlanRequestPosition
from app.plans.rates import rateation_rate
from app.positions.models import Position


class PlanRefused(DomainError):
    """The engine refused the plan (installments outside the regime's band, no regime, nothing due)."""

    def __init__(self, message: str, allowed: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed


def _positions(session: Session, principal: Principal, position_ids: Sequence[int]) -> list[Position]:
    ids = sorted(set(position_ids))
    if not ids:
        raise DomainError("Scegli almeno una posizione da rateizzare.")
    stmt = sa.select(Position).where(Position.id.in_(ids)).order_by(Position.id)
    positions = list(session.scalars(scoped(stmt, Position, principal)))
    if len(positions) != len(ids):
        raise NotFound("Posizione non trovata.")
    return positions


def simulate(
    session: Session,
    principal: Principal,
    position_ids: Sequence[int],
    *,
    installments: int,
    first_due: dt.date,
) -> tuple[dict[str, Any], dict[int, int]]:
    """The engine's plan for what the positions owe at the first due date (`amounts.amounts_due`, the one
    amount due) under their entrata's installment regime in force then, the installments bearing the
    interest of c. 802 (`rates.rateation_rate`: its rate and source are kept in the schedule). All positions
    must be of one ente and one regime. Returns the plan (formats.md §4) and each position's amount in
    cents."""
    from app.positions.amounts import amounts_due
    from app.positions.quotes import engine_inputs

    positions = _positions(session, principal, position_ids)
    if len({p.ente_id for p in positions}) > 1:
        raise DomainError("Una richiesta di rateazione riguarda posizioni di un solo ente.")
    regimes = {p.entrata.installment_regime for p in positions}
    if len(regimes) > 1 or None in regimes:
        raise DomainError(
            "Le posizioni scelte non hanno lo stesso regime di rateazione: chiedile separatamente."
        )
    dues = amounts_due(session, positions, first_due)
    errors = [d.error for d in dues.values() if d.error is not None]
    if errors:
        raise DomainError(errors[0])
    amounts = {p.id: dues[p.id].total_cents for p in positions}
    total = sum(amounts.values())
    if total <= 0:
        raise DomainError("Sulle posizioni scelte non c'è nulla da pagare.")
    first = positions[0]
    params, _ = engine_inputs(session, first_due, ente_id=first.ente_id, entrata_id=first.entrata_id)
    rate = rateation_rate(session, ente_id=first.ente_id, entrata_id=first.entrata_id, on=first_due)
    payload = {
        "amount": format_cents(total),
        "installments": installments,
        "first_due": first_due.isoformat(),
        "regime": regimes.pop(),
        "annual_rate": str(rate.annual_rate),
    }
    try:
        plan = wire.installment_plan_request(payload, params)
    except wire.WireError as exc:
        raise PlanRefused(exc.message_it, exc.extra.get("allowed")) from None
    plan["amount"] = format_cents(total)
    plan["annual_rate"] = str(rate.annual_rate)
    plan["rate_source"] = rate.source
    return plan, amounts


def submit_request(
    session: Session,
    principal: Principal,
    actor: Actor,
    position_ids: Sequence[int],
    *,
    installments: int,
    first_due: dt.date,
    note: str | None = None,
) -> PlanRequest:
    """A taxpayer's request: the simulated plan stored as shown, one event per position. A position already
    in an open request is refused (a re-sent form makes no second request)."""
    plan, amounts = simulate(session, principal, position_ids, installments=installments, first_due=first_due)
    pending = session.scalar(
        scoped(sa.select(PlanRequestPosition.position_id), PlanRequestPosition, principal)
        .join(PlanRequest, PlanRequest.id == PlanRequestPosition.request_id)
        .where(PlanRequestPosition.position_id.in_(list(amounts)), PlanRequest.status == "richiesta")
        .limit(1)
    )
    if pending is not None:
        raise DomainError(
            f"La posizione {pending} è già in una richiesta di rateazione in attesa di decisione."
        )
    positions = _positions(session, principal, list(amounts))
    first = positions[0]
    request = PlanRequest(
        ente_id=first.ente_id,
        taxpayer_id=first.taxpayer_id,
        amount_cents=sum(amounts.values()),
        installments=installments,
        first_due=first_due,
        schedule=plan,
        status="richiesta",
        note=(note or "").strip()[:1000] or None,
        requested_by_id=actor.user_id,
        positions=[
            PlanRequestPosition(position_id=pid, amount_cents=cents) for pid, cents in amounts.items()
        ],
    )
    session.add(request)
    session.flush()
    for position in positions:
        record_event(
            session,
            actor,
            "plan.requested",
            f"Richiesta di rateazione n. {request.id}: {installments} rate dal {first_due:%d/%m/%Y}",
            taxpayer_id=position.taxpayer_id,
            position_id=position.id,
            ente_id=position.ente_id,
            payload={"request": request.id, "installments": installments, "amount": plan["amount"]},
        )
    return request


@dataclass(slots=True)
class Decision:
    request: PlanRequest
    plan: Plan | None = None
    act_error: str | None = None  # the plan stands, the act could not be issued (no template, ...)
    pending_second: bool = False  # four eyes: first approval recorded, a second user must approve


def decide(
    session: Session,
    principal: Principal,
    actor: Actor,
    request_id: int,
    *,
    approve: bool,
    note: str | None,
    on: dt.date | None = None,
    file_store: str | None = None,
) -> Decision:
    """The back office's decision. Only a request still "richiesta" is decided (a re-sent decision is
    refused, nothing changes). An approval is allowed to the roles the ente sets
    (`lifecycle.approval_setting`; four eyes: the first approval is recorded, a different user's second one
    decides) and makes the stored plan (`lifecycle.start_plan`): installments with their notice numbers,
    positions `in_rateazione`, the act of accoglimento (issued when `file_store` is given)."""
    from app.plans import lifecycle

    on = on or today()
    request = get_request(session, principal, request_id)
    if request is None:
        raise NotFound("Richiesta di rateazione non trovata.")
    if request.status != "richiesta":
        raise DomainError(
            f"La richiesta n. {request.id} è già stata decisa ({request.status_label.lower()})."
        )
    if not approve and not (note or "").strip():
        raise DomainError("Indica il motivo del rifiuto.")
    if approve and not lifecycle.check_approver(session, principal, actor, request, on):
        request.first_approved_by_id = actor.user_id
        request.first_approved_by_label = actor.label
        request.first_approved_dt = utcnow()
        for link in request.positions:
            record_event(
                session,
                actor,
                "plan.first_approval",
                f"Richiesta di rateazione n. {request.id}: prima approvazione di {actor.label}, "
                "in attesa della seconda (quattro occhi)",
                taxpayer_id=request.taxpayer_id,
                position_id=link.position_id,
                ente_id=request.ente_id,
                payload={"request": request.id},
            )
        return Decision(request, pending_second=True)
    request.status = "approvata" if approve else "respinta"
    request.decided_by_id = actor.user_id
    request.decided_by_label = actor.label
    request.decided_dt = utcnow()
    request.decision_note = (note or "").strip()[:1000] or None
    for link in request.positions:
        record_event(
            session,
            actor,
            "plan.approved" if approve else "plan.refused",
            f"Richiesta di rateazione n. {request.id} {request.status_label.lower()}"
            + (f": {request.decision_note}" if request.decision_note else ""),
            taxpayer_id=request.taxpayer_id,
            position_id=link.position_id,
            ente_id=request.ente_id,
            payload={"request": request.id},
        )
    if not approve:
        return Decision(request)
    plan, error = lifecycle.start_plan(session, request, actor, on, file_store=file_store)
    return Decision(request, plan, error)


def today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Rome")).date()


def get_request(session: Session, principal: Principal, request_id: int) -> PlanRequest | None:
    from app.plans.queries import get_request as _get

    return _get(session, principal, request_id)
