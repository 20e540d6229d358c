"""The daily decadenza check of the active plans (`check_plans`, run by app/plans/tasks.py and
`esattoria rateazioni controllo-decadenza`).

For each active plan with an installment past due and unpaid, the payments are allocated again
(`allocation.sync_plan`), then the rule of the plan's regime in force that day (parameter rows
`decadenza_<regime>` or the regime row's `decadenza`, `app.engine.params`) is applied by the engine
(`app.engine.installments.check_decadenza`):

- the rule needs no sollecito: decadenza when the engine says so;
- the rule needs an espresso sollecito (L. 160/2019 c. 800): when the unpaid installments reach the rule's
  number (as if the sollecito had been sent), the sollecito is sent (the act "sollecito" with one notice per
  unpaid installment) and its date recorded; the decadenza is decided by a later run, from the sollecito's
  date plus the rule's term (`sollecito_term_days`), by the engine; never on the sollecito's own day.

Decadenza: the plan `decaduto` with its date, reason and residual, the positions back to `scaduta`
(operation "decadenza" of app/engine/states.py) with an event, the mora of the entrata's rule accruing again
from the decadenza date on the residual (`fixing.resume_interest`), and per position the act "comunicazione di
decadenza dalla rateazione" for the amount due at once. A rerun on the same day changes nothing
(idempotent: the plan is no longer active, the sollecito already has its date). Never commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.core.audit import Actor, record_event
from app.engine.errors import TransitionNotAllowed
from app.engine.installments import DecadenzaRule, InstallmentStatus, check_decadenza
from app.engine.states import STATES, check_transition
from app.plans.allocation import sync_plan
from app.plans.fixing import resume_interest
from app.plans.lifecycle import issue_plan_act
from app.plans.models import Plan, PlanInstallment, PlanPosition
from app.reports.formatting import format_date_it, format_eur


@dataclass(slots=True)
class CheckRun:
    day: dt.date
    checked: int = 0
    solleciti: list[int] = field(default_factory=list)
    decadenze: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "checked": self.checked,
            "solleciti": self.solleciti,
            "decadenze": self.decadenze,
            "errors": self.errors,
        }


def rule_of(session: Session, plan: Plan, on: dt.date) -> DecadenzaRule | None:
    from app.positions.quotes import engine_inputs

    position = plan.positions[0].position
    params, _ = engine_inputs(session, on, ente_id=plan.ente_id, entrata_id=position.entrata_id)
    return params.decadenza_rules.get(plan.regime)


def statuses(plan: Plan) -> list[InstallmentStatus]:
    return [
        InstallmentStatus(
            n=i.number,
            due=i.due_date,
            amount=Decimal(i.amount_cents).scaleb(-2),
            paid_on=i.paid_date if i.status == "pagata" else None,
        )
        for i in plan.live_installments
    ]


def plans_to_check(session: Session, on: dt.date, plan_ids: list[int] | None = None) -> list[Plan]:
    """Active plans with an installment past due and not paid (the others cannot forfeit)."""
    overdue = sa.select(PlanInstallment.plan_id).where(
        PlanInstallment.due_date <= on, PlanInstallment.status.not_in(("pagata", "sostituita"))
    )
    stmt = (
        sa.select(Plan)
        .where(Plan.status == "attivo", Plan.id.in_(overdue))
        .options(
            selectinload(Plan.installments),
            selectinload(Plan.positions).joinedload(PlanPosition.position),
        )
        .order_by(Plan.id)
    )
    if plan_ids is not None:
        stmt = stmt.where(Plan.id.in_(plan_ids))
    return list(session.scalars(stmt))


def check_plans(
    session: Session, on: dt.date, actor: Actor, *, file_store: str | None, plan_ids: list[int] | None = None
) -> CheckRun:
    run = CheckRun(on)
    for plan in plans_to_check(session, on, plan_ids):
        run.checked += 1
        sync_plan(session, plan, actor)
        if plan.status != "attivo":
            continue
        rule = rule_of(session, plan, on)
        if rule is None:
            run.errors.append(f"Piano {plan.id}: nessuna regola di decadenza per il regime {plan.regime}.")
            continue
        items = statuses(plan)
        sent_today = plan.sollecito_date is not None and plan.sollecito_date >= on
        outcome = None if sent_today else check_decadenza(items, on, rule, plan.sollecito_date)
        if outcome is not None:
            decade(session, plan, outcome, on, actor, file_store=file_store, run=run)
        elif (
            rule.sollecito_required
            and plan.sollecito_date is None
            and check_decadenza(items, on, replace(rule, sollecito_required=False)) is not None
        ):
            send_sollecito(session, plan, rule, on, actor, file_store=file_store, run=run)
        plan.last_check = on
    session.flush()
    return run


def send_sollecito(
    session: Session,
    plan: Plan,
    rule: DecadenzaRule,
    on: dt.date,
    actor: Actor,
    *,
    file_store: str | None,
    run: CheckRun,
) -> None:
    unpaid = [i for i in plan.live_installments if i.status != "pagata" and i.due_date <= on]
    plan.sollecito_date = on
    act = None
    if file_store:
        act, error = issue_plan_act(
            session, plan, "sollecito", on, actor, file_store=file_store, installments=unpaid
        )
        if error:
            run.errors.append(f"Piano {plan.id}: sollecito non emesso: {error}")
    plan.sollecito_act_id = act.id if act else None
    numbers = ", ".join(str(i.number) for i in unpaid)
    for link in plan.positions:
        record_event(
            session,
            actor,
            "plan.sollecito",
            f"Piano rateale n. {plan.id}: sollecito delle rate non pagate n. {numbers} "
            f"({format_eur(sum(i.amount_cents - i.paid_cents for i in unpaid))}), richiesto per la decadenza "
            f"({rule.source})" + (f"; atto prot. {act.protocol}" if act else ""),
            taxpayer_id=plan.taxpayer_id,
            position_id=link.position_id,
            ente_id=plan.ente_id,
            payload={
                "plan": plan.id,
                "installments": [i.number for i in unpaid],
                "act": act.id if act else None,
            },
        )
    run.solleciti.append(plan.id)


def decade(
    session: Session,
    plan: Plan,
    outcome: Any,
    on: dt.date,
    actor: Actor,
    *,
    file_store: str | None,
    run: CheckRun,
) -> None:
    from app.atti.services import ActRefused, act_type_by_code, check_position, issue_act

    plan.status = "decaduto"
    plan.decadenza_date = outcome.date
    plan.decadenza_reason = outcome.reason[:600]
    # what is still unpaid of the plan (a partly paid installment counts for its unpaid part only)
    plan.residual_cents = sum(
        i.amount_cents - i.paid_cents for i in plan.live_installments if i.status != "pagata"
    )
    for link in plan.positions:
        position = link.position
        resume_interest(position, outcome.date)  # the residual due at once, the mora running again
        before = position.state
        moved = ""
        if before != "scaduta":
            try:
                check_transition(before, "scaduta")
                position.state = "scaduta"
                moved = f"; posizione da «{STATES[before]}» a «{STATES['scaduta']}»"
            except TransitionNotAllowed:
                moved = f"; la posizione resta «{STATES[before]}»"
        record_event(
            session,
            actor,
            "plan.decadenza",
            f"Piano rateale n. {plan.id} decaduto il {format_date_it(outcome.date)}: {outcome.reason} "
            f"Residuo {format_eur(plan.residual_cents)}{moved}",
            taxpayer_id=plan.taxpayer_id,
            position_id=position.id,
            ente_id=plan.ente_id,
            payload={
                "plan": plan.id,
                "unpaid": list(outcome.unpaid),
                "residual_cents": plan.residual_cents,
                "from": before,
                "to": position.state,
            },
        )
    session.flush()
    if file_store:
        from app.positions.amounts import amounts_due

        act_type = act_type_by_code(session, "decadenza_rateazione")
        dues = amounts_due(session, [link.position for link in plan.positions], on)
        for link in plan.positions:
            try:
                with session.begin_nested():
                    prepared = check_position(
                        session, link.position, act_type, on, due=dues[link.position_id]
                    )
                    issued = issue_act(
                        session, link.position, act_type, on, actor, file_store=file_store, prepared=prepared
                    )
            except ActRefused as exc:
                run.errors.append(f"Piano {plan.id}: comunicazione di decadenza non emessa: {exc.message}")
                continue
            if plan.decadenza_act_id is None:
                plan.decadenza_act_id = issued.act.id
    run.decadenze.append(plan.id)
