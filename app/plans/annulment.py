"""The annulment of a plan before any payment (e.g. approved by mistake): the amounts its approval fixed are
reversed in the ledger (`fixing.reverse_fixed`, the mora running again as if the plan had never been), the
installments' notices cancelled, the positions back to the state they began from (the engine's state machine:
operation "annullamento_rateazione"; a plan begun from "in procedura" or "scaduta" goes back to "scaduta").
Allowed to the roles that approve plans; refused once a payment reached the plan. Never commits."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import ROLE_LABELS, Principal
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.engine.errors import TransitionNotAllowed
from app.engine.states import STATES, check_transition
from app.plans.allocation import COUNTED, sync_plan
from app.plans.fixing import reason_of, reverse_fixed
from app.plans.lifecycle import approval_setting
from app.plans.models import Plan
from app.reports.formatting import format_eur


def annul_plan(
    session: Session, principal: Principal, actor: Actor, plan: Plan, *, reason: str, on: dt.date
) -> Plan:
    from app.payments.models import NoticeNumber, Payment

    setting = approval_setting(session, plan.ente_id, on)
    if principal.role not in setting.roles:
        names = ", ".join(ROLE_LABELS[r].lower() for r in sorted(setting.roles))
        raise DomainError(f"L'ente riserva l'annullamento delle rateazioni a chi le approva: {names}.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Indica il motivo dell'annullamento.")
    if plan.status != "attivo":
        raise DomainError(f"Il piano n. {plan.id} è «{plan.status_label.lower()}»: non si annulla.")
    sync_plan(session, plan, actor)
    paid = session.scalar(
        sa.select(sa.func.count())
        .select_from(Payment)
        .where(
            Payment.position_id.in_([link.position_id for link in plan.positions]),
            Payment.status.in_(COUNTED),
            Payment.paid_date >= plan.approved_date,
        )
    )
    if plan.paid_cents or paid:
        raise DomainError(f"Il piano n. {plan.id} ha già ricevuto pagamenti: non si annulla.")
    plan.status = "annullato"
    plan.annulled_date = on
    plan.annulled_reason = reason[:600]
    ids = [i.notice_id for i in plan.installments if i.notice_id is not None]
    for notice in session.scalars(sa.select(NoticeNumber).where(NoticeNumber.id.in_(ids))):
        notice.cancelled_date = on
    for link in plan.positions:
        position = link.position
        reversals = reverse_fixed(session, link, actor, f"{reason_of(plan.id)} annullato: {reason}")
        before = position.state
        target = (
            link.state_before if link.state_before in ("notificata", "parzialmente_pagata") else "scaduta"
        )
        moved = ""
        if before == "in_rateazione":
            try:
                check_transition(before, target)
                position.state = target
                moved = f"; posizione da «{STATES[before]}» a «{STATES[target]}»"
            except TransitionNotAllowed:
                moved = f"; la posizione resta «{STATES[before]}»"
        record_event(
            session,
            actor,
            "plan.annulled",
            (
                f"Piano rateale n. {plan.id} annullato: {reason}; stornati "
                f"{format_eur(sum(-r.amount_cents for r in reversals))} di importi fissati all'approvazione, "
                f"avvisi delle rate annullati{moved}"
            )[:500],
            taxpayer_id=plan.taxpayer_id,
            position_id=position.id,
            ente_id=plan.ente_id,
            payload={
                "plan": plan.id,
                "reversals": [r.id for r in reversals],
                "from": before,
                "to": position.state,
            },
        )
    session.flush()
    return plan
