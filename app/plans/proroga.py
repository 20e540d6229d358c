"""The proroga of a plan (L. 160/2019, art. 1, c. 797): granted once, on a comprovato peggioramento of the
debtor's situation, provided there is no decadenza; the plan's residual is spread over more installments
within the band the regime admits for it (the engine, `wire.installment_plan_request`) and within the cap of
the parameter row `proroga_rateazione_l160` (`{"max_installments": N}`, installments already paid included;
the statutory figure is unconfirmed: the seeded row is "da verificare").

The installments not paid in full are replaced (state `sostituita`, kept for the record) by new ones numbered
after the last, each with a new pagoPA notice number; the replaced ones' notices are cancelled
(`NoticeNumber.cancelled_date`). A part already paid of a replaced installment is carried to the first new one
(allocation recomputes from the payments: `app.plans.allocation`). Allowed to the roles that approve plans
(`lifecycle.approval_setting`). The act "comunicazione di accoglimento della proroga della rateazione"
(`accoglimento_proroga`) is issued with one notice page per new installment when a file store is given, as the
approval's accoglimento is; when it is refused (no template...) the proroga stands and the reason is returned.
An event `plan.extended` on each position, naming the act. Never commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import ROLE_LABELS, Principal
from app.core.audit import Actor, record_event
from app.core.errors import DomainError, NotFound
from app.engine import wire
from app.engine.dates import add_months
from app.engine.money import format_cents
from app.enti.queries import in_force, parameter_rows
from app.plans.allocation import sync_plan
from app.plans.fixing import book_plan_interest
from app.plans.lifecycle import add_installment, approval_setting, issue_plan_act
from app.plans.models import Plan, PlanInstallment
from app.plans.rates import rateation_rate
from app.reports.formatting import format_date_it, format_eur

PROROGA_PARAMETER = "proroga_rateazione_l160"
RULE = "L. 160/2019, art. 1, c. 797"
ACT_CODE = "accoglimento_proroga"


@dataclass(slots=True)
class Extension:
    """A granted proroga: the new installments and its act (None with `act_error` the reason it was refused,
    or with neither when no file store was given)."""

    installments: list[PlanInstallment]
    act: Any = None
    act_error: str | None = None


class ProrogaRefused(DomainError):
    """The proroga was refused; `allowed` the installments the regime admits for the residual, when known."""

    def __init__(self, message: str, allowed: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed


def proroga_cap(session: Session, plan: Plan, on: dt.date) -> tuple[int, str]:
    """The most installments a prorogated plan may have (paid ones included) and the row's source."""
    entrata_id = plan.positions[0].position.entrata_id
    row = in_force(
        parameter_rows(session, ente_id=plan.ente_id, entrata_id=entrata_id), PROROGA_PARAMETER, on
    )
    if row is None or not isinstance(row.get("value"), dict) or "max_installments" not in row["value"]:
        raise ProrogaRefused(
            f"Proroga non concessa: manca il parametro «{PROROGA_PARAMETER}» del numero massimo di rate "
            f"({RULE}) in vigore al {format_date_it(on)}."
        )
    return int(row["value"]["max_installments"]), str(row.get("source") or RULE)


def next_due(plan: Plan, on: dt.date) -> dt.date:
    """The first monthly due date (on the plan's day of the month) after `on`."""
    k = 0
    while (day := add_months(plan.first_due, k, anchor_day=plan.first_due.day)) <= on:
        k += 1
    return day


def check_proroga(plan: Plan) -> None:
    """Refusals that need no figures: once per plan, never after a decadenza, only a plan in force."""
    if plan.status == "decaduto":
        raise ProrogaRefused(
            f"Proroga non concessa: il piano n. {plan.id} è decaduto il "
            f"{format_date_it(plan.decadenza_date) if plan.decadenza_date else '—'} e la proroga presuppone "
            "che "
            f"non sia intervenuta decadenza ({RULE})."
        )
    if plan.proroga_date is not None:
        raise ProrogaRefused(
            f"Proroga non concessa: il piano n. {plan.id} è già stato prorogato il "
            f"{format_date_it(plan.proroga_date)} e la proroga si concede una sola volta ({RULE})."
        )
    if plan.status != "attivo":
        raise ProrogaRefused(
            f"Proroga non concessa: il piano n. {plan.id} è «{plan.status_label.lower()}», "
            f"non in corso ({RULE})."
        )


def extend_plan(
    session: Session,
    principal: Principal,
    actor: Actor,
    plan: Plan,
    *,
    installments: int,
    reason: str,
    on: dt.date,
    first_due: dt.date | None = None,
    file_store: str | None = None,
) -> Extension:
    """The proroga of `plan` (read through the scoping helper) over `installments` new installments from
    `first_due` (default: the plan's next monthly due date after `on`), and its act when `file_store` is
    given. Returns the new installments and the act (or the reason it was not issued)."""
    from app.payments.models import NoticeNumber
    from app.positions.quotes import engine_inputs

    if plan is None:
        raise NotFound("Piano rateale non trovato.")
    setting = approval_setting(session, plan.ente_id, on)
    if principal.api_token_id is None and principal.role not in setting.roles:  # a token: its scope decides
        names = ", ".join(ROLE_LABELS[r].lower() for r in sorted(setting.roles))
        raise DomainError(f"L'ente riserva la proroga delle rateazioni a chi le approva: {names}.")
    reason = (reason or "").strip()
    if not reason:
        raise ProrogaRefused(f"Indica il peggioramento comprovato della situazione del debitore ({RULE}).")
    sync_plan(session, plan, actor)
    check_proroga(plan)
    paid = [i for i in plan.live_installments if i.status == "pagata"]
    replaced = [i for i in plan.live_installments if i.status != "pagata"]
    if not replaced:
        raise ProrogaRefused(f"Proroga non concessa: il piano n. {plan.id} non ha rate da pagare ({RULE}).")
    if installments <= len(replaced):
        raise ProrogaRefused(
            "Proroga non concessa: la proroga distribuisce il residuo su più rate delle "
            f"{len(replaced)} ancora "
            f"da pagare ({RULE})."
        )
    cap, cap_source = proroga_cap(session, plan, on)
    if len(paid) + installments > cap:
        raise ProrogaRefused(
            f"Proroga non concessa: {len(paid)} rate pagate e {installments} nuove superano il massimo "
            f"di {cap} "
            f"rate ({cap_source}).",
            {"min": len(replaced) + 1, "max": cap - len(paid)},
        )
    residual = sum(i.amount_cents - i.paid_cents for i in replaced)
    carried = sum(i.paid_cents for i in replaced)  # paid in part: carried to the first new installment
    start = first_due or next_due(plan, on)
    if start <= on:
        raise ProrogaRefused("La prima rata della proroga deve scadere dopo la data della proroga.")
    params, _ = engine_inputs(
        session, on, ente_id=plan.ente_id, entrata_id=plan.positions[0].position.entrata_id
    )
    entrata_id = plan.positions[0].position.entrata_id
    rate = rateation_rate(session, ente_id=plan.ente_id, entrata_id=entrata_id, on=start)
    payload = {
        "installments": installments,
        "first_due": start.isoformat(),
        "regime": plan.regime,
        "annual_rate": str(rate.annual_rate),
    }
    try:  # the band is that of the residual (c. 797 within the regime of c. 796)
        schedule = wire.installment_plan_request({**payload, "amount": format_cents(residual)}, params)
        if carried:
            schedule = wire.installment_plan_request(
                {**payload, "amount": format_cents(residual + carried)}, params
            )
    except wire.WireError as exc:
        raise ProrogaRefused(
            f"Proroga non concessa: {exc.message_it} ({RULE})", exc.extra.get("allowed")
        ) from None
    for inst in replaced:
        inst.status = "sostituita"
    cancelled = [i.notice_id for i in replaced if i.notice_id is not None]
    if cancelled:
        for notice in session.query(NoticeNumber).filter(NoticeNumber.id.in_(cancelled)):
            notice.cancelled_date = on
    last = max(i.number for i in plan.installments)
    carrier = plan.positions[0].position_id
    new = [
        add_installment(session, plan, row, number=last + int(row["n"]), carrier_id=carrier, on=on)
        for row in schedule["installments"]
    ]
    plan.proroga_date = on
    plan.proroga_reason = reason[:600]
    plan.proroga_by_label = actor.label[:120]
    before = plan.amount_cents
    plan.amount_cents = sum(i.amount_cents for i in plan.live_installments)
    added = plan.amount_cents - before  # the new installments' rateation interest (c. 802)
    if added > 0:
        what = f"interessi di dilazione della proroga del {on:%d/%m/%Y}"
        book_plan_interest(session, plan, actor, on, added, what)
    session.flush()
    sync_plan(session, plan, actor)
    act, act_error = None, None
    if file_store:  # after the new installments exist: one notice page each, the cancelled ones left out
        act, act_error = issue_plan_act(
            session, plan, ACT_CODE, on, actor, file_store=file_store, installments=new
        )
        plan.proroga_act_id = act.id if act else None
    summary = (
        f"Piano rateale n. {plan.id} prorogato ({RULE}): residuo {format_eur(residual)} in {installments} "
        "rate dal "
        f"{format_date_it(start)} (rate sostituite n. {', '.join(str(i.number) for i in replaced)}, avvisi "
        f"annullati)"
        + (f"; comunicazione prot. {act.protocol}" if act else "")
        + f"; motivo: {reason}"
    )[:500]
    for link in plan.positions:
        record_event(
            session,
            actor,
            "plan.extended",
            summary,
            taxpayer_id=plan.taxpayer_id,
            position_id=link.position_id,
            ente_id=plan.ente_id,
            payload={
                "plan": plan.id,
                "replaced": [i.number for i in replaced],
                "new": [i.number for i in new],
                "residual_cents": residual,
                "cancelled_notices": [i.notice_number for i in replaced if i.notice_number],
                "act": act.id if act else None,
                "act_error": act_error,
            },
        )
    return Extension(new, act, act_error)
