"""What a plan fixes in the ledger (issue 14 point 1): the approval makes the plan's figures ledger movements,
so the amount due of a position in a plan (`app.positions.amounts`, the one quote path) is what the plan still
asks, and the act of accoglimento stays what was notified.

At approval (`fix_at_approval`), per position of the plan:

1. the interest and oneri accrued until the approval day are booked by `app.dynamics.fixing.fix_amounts`
   (source: the plan and the legal source of the rule and of each rate), event `position.amounts_fixed`;
2. the mora interest stops from that day while the plan is in force (`Position.interest_stopped_on`: the
   installments replace it);
3. what the plan's installments count beyond the ledger is booked as interest of the plan (value date the
   approval day): the interest and oneri the engine accrues from the approval to the plan's first due date
   (the request's amounts are those of that date, so its capital counted them) and the installments'
   rateation interest (L. 160/2019 c. 802), split among the positions by their amount. Then the ledger
   balance is the plan's total and each payment of an installment lowers both by the same amount.

A plan approved after its first due date books nothing at step 3: the mora accrued until the approval, beyond
what the request counted, stays due besides the installments (left to the decadenza or the final balance).

Decadenza (`resume_interest`): the residual is due at once and the mora accrues again by the entrata's rule
from the decadenza date. Annulment before any payment (`reverse_fixed`): every movement the approval booked
is reversed (same value date) and the mora runs again as if the plan had never been. Never commits.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.plans.models import Plan, PlanPosition, PlanRequest
from app.positions.models import Movement, Position
from app.reports.formatting import format_date_it, format_eur

PLAN_INTEREST_SOURCE = "L. 160/2019, art. 1, c. 802"


def reason_of(plan_id: int) -> str:
    return f"piano rateale n. {plan_id}"


def _rateation_shares(total: int, weights: list[int]) -> list[int]:
    """`total` cents split by `weights` (rounded down, the remainder cents to the first)."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0 for _ in weights]
    shares = [total * w // whole for w in weights]
    shares[0] += total - sum(shares)
    return shares


def fix_at_approval(session: Session, plan: Plan, request: PlanRequest, actor: Actor, on: dt.date) -> None:
    """Steps 1-3 of the module's docstring for every position of `plan` (a `Plan` just flushed) born from
    `request`; each `PlanPosition.movement_ids` keeps what was booked."""
    from app.dynamics.fixing import fix_amounts
    from app.positions.amounts import amounts_due

    links = list(plan.positions)
    positions = [link.position for link in links]
    booked: dict[int, list[int]] = {link.position_id: [] for link in links}
    for position in positions:
        rows = fix_amounts(session, position, on, actor, reason=reason_of(plan.id), payload={"plan": plan.id})
        booked[position.id] += [row.id for row in rows]
    session.flush()
    # what accrues from the approval until the first due date: the schedule's capital counted it
    dues = amounts_due(session, positions, plan.first_due) if plan.first_due > on else {}
    for position in positions:
        position.interest_stopped_on = on
        position.interest_resumes_on = None
    rateation = plan.amount_cents - request.amount_cents
    shares = _rateation_shares(rateation, [link.amount_cents for link in links])
    for link, share in zip(links, shares, strict=True):
        position = link.position
        due = dues.get(position.id)
        if due is not None and due.error is not None:
            raise DomainError(f"Posizione {position.external_id}: {due.error}")
        counted = due.accrued_cents if due is not None else 0  # until the first due date
        cents = counted + share
        if cents > 0:
            movement = Movement(
                position_id=position.id,
                component="interessi",
                kind="interessi",
                amount_cents=cents,
                value_date=on,
                user_id=actor.user_id,
                source=(
                    f"{reason_of(plan.id)}: interessi compresi nelle rate (fino al "
                    f"{format_date_it(plan.first_due)} e di dilazione, {PLAN_INTEREST_SOURCE})"
                )[:200],
            )
            session.add(movement)
            session.flush()
            booked[position.id].append(movement.id)
        link.movement_ids = booked[position.id]
        record_event(
            session,
            actor,
            "plan.amounts_fixed",
            (
                f"Piano rateale n. {plan.id}: importi fissati all'approvazione del "
                f"{format_date_it(on)}; interessi compresi nelle rate {format_eur(cents)}; interessi di mora "
                "sospesi finché il piano è in corso"
            )[:500],
            taxpayer_id=position.taxpayer_id,
            position_id=position.id,
            ente_id=position.ente_id,
            payload={
                "plan": plan.id,
                "date": on.isoformat(),
                "movements": booked[position.id],
                "plan_interest_cents": cents,
            },
        )
    session.flush()


def book_plan_interest(
    session: Session, plan: Plan, actor: Actor, on: dt.date, cents: int, what: str
) -> list[Movement]:
    """Interest a change of the plan adds to its installments (a proroga's rateation interest), split among
    the positions by their amount and booked at `on`; kept in `PlanPosition.movement_ids` like the
    approval's."""
    links = list(plan.positions)
    rows = []
    for link, share in zip(
        links, _rateation_shares(cents, [link.amount_cents for link in links]), strict=True
    ):
        if share <= 0:
            continue
        movement = Movement(
            position_id=link.position_id,
            component="interessi",
            kind="interessi",
            amount_cents=share,
            value_date=on,
            user_id=actor.user_id,
            source=f"{reason_of(plan.id)}: {what} ({PLAN_INTEREST_SOURCE})"[:200],
        )
        session.add(movement)
        session.flush()
        link.movement_ids = [*(link.movement_ids or []), movement.id]
        rows.append(movement)
    return rows


def resume_interest(position: Position, on: dt.date) -> None:
    """The decadenza: the mora accrues again by the entrata's rule from `on`."""
    if position.interest_stopped_on is not None:
        position.interest_stopped_on = None
        position.interest_resumes_on = on


def reverse_fixed(session: Session, link: PlanPosition, actor: Actor, reason: str) -> list[Movement]:
    """The movements the approval booked for one position reversed (same value date, `reverses_id`), the mora
    running again as before the plan. Returns the reversals."""
    ids = list(link.movement_ids or [])
    position: Position = link.position
    originals = list(session.scalars(sa.select(Movement).where(Movement.id.in_(ids)).order_by(Movement.id)))
    reversals = [m.reversal(source=f"Storno: {reason}", user_id=actor.user_id) for m in originals]
    session.add_all(reversals)
    position.interest_stopped_on = None
    session.flush()
    return reversals
