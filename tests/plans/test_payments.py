"""Payments allocated per installment: a pagoPA payment on an installment's notice pays that installment, a
desk payment the oldest unpaid one; a reversal unpays it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app.core.audit import Actor
from app.payments.fdr_writer import FdrRow, build_fdr
from app.payments.services import import_flow, register_desk_payment
from tests.plans.support import approved_plan, events

ACTOR = Actor.system("test rateazioni")


def _fdr(iuv: str, iur: str, cents: int, day: dt.date) -> bytes:
    return build_fdr(
        [FdrRow(iuv, iur, cents, "0", day, 1)],
        identifier=f"{day.isoformat()}PSPDEMO01-{iur}",
        flow_dt=f"{day.isoformat()}T10:00:00",
        regulation_ref=f"TRN{iur}",
        regulation_date=day,
    )


def test_a_pagopa_payment_pays_its_installment_and_a_desk_payment_the_oldest_unpaid(session, store) -> None:
    from app.payments.models import Payment

    world = approved_plan(session, store, installments=3, file_store=False)
    plan = world.plan
    first, second, third = plan.installments[:3]
    rest = ["da_pagare"] * (len(plan.installments) - 3)
    iuv = second.notice_number[1:]
    import_flow(session, _fdr(iuv, "IURRATA2", second.amount_cents, dt.date(2026, 2, 20)), ACTOR)
    session.refresh(plan)
    assert [i.status for i in plan.installments] == ["da_pagare", "pagata", "da_pagare", *rest]
    assert second.paid_date == dt.date(2026, 2, 20) and second.paid_cents == second.amount_cents
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IURRATA2")).one()
    assert payment.status == "riconciliato" and payment.position_id == world.position.id

    register_desk_payment(
        session,
        world.principal,
        world.actor,
        position_id=world.position.id,
        amount_cents=first.amount_cents + 100,
        channel="contanti",
        paid_date=dt.date(2026, 2, 21),
    )
    session.refresh(plan)
    assert [i.status for i in plan.installments] == ["pagata", "pagata", "parziale", *rest]
    assert first.paid_date == dt.date(2026, 2, 21)
    assert third.paid_cents == 100
    paid = events(session, "plan.installment_paid", world.position.id)
    assert [e.payload["installment"] for e in paid] == [2, 1]
    assert plan.status == "attivo" and world.position.state == "in_rateazione"


def test_a_reversed_desk_payment_unpays_the_installment(session, store) -> None:
    from app.payments.services import reverse_payment

    world = approved_plan(session, store, installments=2, file_store=False)
    plan = world.plan
    payment = register_desk_payment(
        session,
        world.principal,
        world.actor,
        position_id=world.position.id,
        amount_cents=plan.installments[0].amount_cents,
        channel="contanti",
        paid_date=dt.date(2026, 1, 30),
    )
    session.refresh(plan)
    assert plan.installments[0].status == "pagata"
    admin_principal = world.principal
    reverse_payment(session, admin_principal, world.actor, payment.id, reason="assegno scoperto")
    session.refresh(plan)
    assert plan.installments[0].status == "da_pagare" and plan.installments[0].paid_cents == 0
