"""Payments allocated per installment. The payments stay where app/payments books them (the positions'
ledger); a plan's installments only read them, recomputed from scratch each time (idempotent, and a reversed
payment simply drops out):

- a payment on an installment's notice number (pagoPA, matched by IUV) pays that installment, what exceeds it
  the oldest unpaid ones;
- any other payment on the plan's positions made from the approval day on (desk, the position's own notice)
  pays the oldest unpaid installments, in payment order.

`sync_positions` is the hook app/payments calls after it allocated payments (reconcile, desk). Never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.core.audit import Actor, record_event
from app.plans.models import Plan, PlanInstallment, PlanPosition
from app.reports.formatting import format_date_it, format_eur

COUNTED = ("riconciliato",)  # payment statuses that are money received and allocated


def sync_plan(session: Session, plan: Plan, actor: Actor) -> list[PlanInstallment]:
    """Recompute what each installment received; events for the installments paid in full now and the plan
    when it is all paid. Returns the installments newly paid."""
    from app.payments.models import Payment

    position_ids = [link.position_id for link in plan.positions]
    live = plan.live_installments  # a proroga's replaced installments receive nothing (notices cancelled)
    by_notice = {i.notice_id: i for i in live if i.notice_id is not None}
    rows = session.execute(
        sa.select(
            Payment.id, Payment.notice_id, Payment.amount_cents - Payment.credit_cents, Payment.paid_date
        )
        .where(
            Payment.position_id.in_(position_ids),
            Payment.status.in_(COUNTED),
            sa.or_(Payment.paid_date >= plan.approved_date, Payment.notice_id.in_(list(by_notice) or [-1])),
        )
        .order_by(Payment.paid_date, Payment.id)
    ).all()
    ordered = sorted(live, key=lambda i: i.number)
    paid = {i.number: 0 for i in ordered}
    paid_on: dict[int, dt.date] = {}

    def pay(cents: int, day: dt.date, first: PlanInstallment | None) -> None:
        targets = ([first] if first is not None else []) + [i for i in ordered if i is not first]
        for inst in targets:
            if cents <= 0:
                break
            room = inst.amount_cents - paid[inst.number]
            if room <= 0:
                continue
            take = min(room, cents)
            paid[inst.number] += take
            cents -= take
            if paid[inst.number] == inst.amount_cents:
                paid_on[inst.number] = day

    for _pid, notice_id, cents, day in rows:  # the installments' own notices first
        if notice_id in by_notice:
            pay(int(cents), day, by_notice[notice_id])
    for _pid, notice_id, cents, day in rows:
        if notice_id not in by_notice:
            pay(int(cents), day, None)
    newly = []
    for inst in ordered:
        was = inst.status
        inst.paid_cents = paid[inst.number]
        inst.paid_date = paid_on.get(inst.number)
        inst.status = (
            "pagata"
            if inst.paid_cents >= inst.amount_cents
            else "parziale"
            if inst.paid_cents
            else "da_pagare"
        )
        if inst.status == "pagata" and was != "pagata":
            newly.append(inst)
    carrier = plan.positions[0].position_id
    for inst in newly:
        record_event(
            session,
            actor,
            "plan.installment_paid",
            f"Piano rateale n. {plan.id}: rata n. {inst.number} ({format_eur(inst.amount_cents)}, scadenza "
            f"{format_date_it(inst.due_date)}) pagata il {format_date_it(inst.paid_date)}",
            taxpayer_id=plan.taxpayer_id,
            position_id=carrier,
            ente_id=plan.ente_id,
            payload={"plan": plan.id, "installment": inst.number},
        )
    if plan.status == "attivo" and all(i.status == "pagata" for i in ordered):
        plan.status = "estinto"
        record_event(
            session,
            actor,
            "plan.completed",
            f"Piano rateale n. {plan.id}: tutte le rate pagate",
            taxpayer_id=plan.taxpayer_id,
            position_id=carrier,
            ente_id=plan.ente_id,
            payload={"plan": plan.id},
        )
    elif plan.status == "estinto" and not all(i.status == "pagata" for i in ordered):
        plan.status = "attivo"  # a payment reversed
    session.flush()
    return newly


def plans_of_positions(session: Session, position_ids: Iterable[int]) -> list[Plan]:
    ids = sorted(set(position_ids))
    if not ids:
        return []
    stmt = (
        sa.select(Plan)
        .where(
            Plan.status.in_(("attivo", "estinto")),
            Plan.id.in_(sa.select(PlanPosition.plan_id).where(PlanPosition.position_id.in_(ids))),
        )
        .options(selectinload(Plan.installments), selectinload(Plan.positions))
        .order_by(Plan.id)
    )
    return list(session.scalars(stmt))


def sync_positions(session: Session, position_ids: Iterable[int], actor: Actor) -> int:
    """The hook of app/payments: the plans of these positions recomputed. Returns how many."""
    plans = plans_of_positions(session, position_ids)
    for plan in plans:
        sync_plan(session, plan, actor)
    return len(plans)


def sync_flow(session: Session, flow_id: int, actor: Actor) -> int:
    """The hook after a flow was reconciled: the plans of the positions its payments (and the payments it
    revoked) went to. One query when no plan is concerned."""
    from app.payments.models import Payment

    revoked = sa.select(Payment.revokes_id).where(Payment.flow_id == flow_id, Payment.revokes_id.is_not(None))
    position_ids = session.scalars(
        sa.select(PlanPosition.position_id)
        .join(Payment, Payment.position_id == PlanPosition.position_id)
        .where(sa.or_(Payment.flow_id == flow_id, Payment.id.in_(revoked)))
        .distinct()
    ).all()
    return sync_positions(session, position_ids, actor) if position_ids else 0
