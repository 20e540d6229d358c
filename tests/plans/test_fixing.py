"""Issue 14 point 1 for plans: the approval fixes the plan's figures in the ledger (the mora accrued until
that day to the cent, then the interest the installments count); the card's amount due is the engine's quote
and, once approved, what the plan still asks; the decadenza makes the residual due with the mora running
again; the annulment before any payment reverses what the approval fixed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Flask

from app.core.audit import Actor
from app.extensions import db
from tests.plans.support import FIRST_DUE, approved_plan, events, office, plan_position, submit

# after the demo carico (value date 15/01/2026), before the plan's first due date (31/01/2026)
APPROVED_ON = dt.date(2026, 1, 20)


def _batch(session, principal, position_id: int, on: dt.date) -> int:
    from app.positions.amounts import cents_of
    from app.positions.batch_quotes import batch_quotes

    quoted = dict(batch_quotes(session, principal, on, workers=0))
    return cents_of(quoted[position_id])


def test_approval_books_exactly_the_accrued_interest_and_the_plan_is_what_is_due(session) -> None:
    from app.payments.models import NoticeNumber
    from app.plans.services import decide
    from app.positions.amounts import amount_due
    from app.positions.models import Movement

    principal, actor = office(session)
    position = plan_position(session)
    request = submit(session, principal, actor, position, 3)
    before = amount_due(session, position, APPROVED_ON)
    assert before.error is None and before.interest_cents > 0, (before.request, before.quote)
    pending = amount_due(session, position, dt.date(2026, 6, 30))
    assert pending.total_cents == _batch(session, principal, position.id, dt.date(2026, 6, 30))

    plan = decide(session, principal, actor, request.id, approve=True, note=None, on=APPROVED_ON).plan
    assert plan is not None
    (fixed,) = events(session, "position.amounts_fixed", position.id)
    assert fixed.payload["plan"] == plan.id and fixed.payload["date"] == APPROVED_ON.isoformat()
    assert fixed.payload["cents"] == {"interessi": before.interest_cents}  # to the cent, no oneri (Regione)
    booked = session.scalars(sa.select(Movement).where(Movement.id.in_(plan.positions[0].movement_ids))).all()
    accrued = [m for m in booked if m.id in fixed.payload["movements"]]
    assert [(m.kind, m.amount_cents, m.value_date) for m in accrued] == [
        ("interessi", before.interest_cents, APPROVED_ON)
    ]
    assert f"piano rateale n. {plan.id}" in accrued[0].source and "1284" in accrued[0].source
    (counted,) = [m for m in booked if m not in accrued]
    assert "c. 802" in counted.source and counted.value_date == APPROVED_ON
    assert "c. 802" in request.schedule["rate_source"] and "D.M." in request.schedule["rate_source"]
    assert plan.amount_cents > request.amount_cents  # the installments bear the interest of c. 802
    # the ledger now holds the plan: capital, the mora until approval, the interest the installments count
    assert before.ledger_cents + sum(m.amount_cents for m in booked) == plan.amount_cents
    (plan_fixed,) = events(session, "plan.amounts_fixed", position.id)
    assert plan_fixed.payload["plan_interest_cents"] == counted.amount_cents
    assert position.interest_stopped_on == APPROVED_ON

    # the plan's first notice is its installment
    first = plan.installments[0]
    assert session.get(NoticeNumber, first.notice_id).amount_cents == first.amount_cents
    # the quote of a position in a plan is what the plan still asks, the same by the batch, on any day
    for day in (APPROVED_ON, FIRST_DUE, dt.date(2026, 6, 30)):
        due = amount_due(session, position, day)
        assert due.interest_cents == 0 and due.total_cents == plan.unpaid_cents, day
        assert _batch(session, principal, position.id, day) == due.total_cents


def test_the_card_total_is_the_engine_quote_before_and_after_approval(app: Flask, personas) -> None:
    from app.plans.services import decide
    from app.positions.amounts import amount_due, today_rome
    from app.reports.formatting import format_eur

    with app.app_context():
        principal, actor = office(db.session)
        position = plan_position(db.session, skip=2)
        request = submit(db.session, principal, actor, position, 3)
        ids = (position.id, position.taxpayer_id, request.id)
        before = amount_due(db.session, position, today_rome()).total_cents
        db.session.commit()
        db.session.remove()
    position_id, taxpayer_id, request_id = ids
    client = personas.client("backoffice")
    assert format_eur(before) in client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert format_eur(before) in client.get(f"/posizioni/{position_id}").get_data(as_text=True)
    with app.app_context():
        principal, actor = office(db.session)
        plan = decide(db.session, principal, actor, request_id, approve=True, note=None, on=APPROVED_ON).plan
        from app.positions.models import Position

        after = amount_due(db.session, db.session.get(Position, position_id), today_rome()).total_cents
        assert after == plan.unpaid_cents  # what the plan still asks (no mora accrues while it runs)
        db.session.commit()
        db.session.remove()
    assert format_eur(after) in client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert format_eur(after) in client.get(f"/posizioni/{position_id}").get_data(as_text=True)


def test_decadenza_makes_the_residual_due_and_the_mora_runs_again(session) -> None:
    from app.plans.decadenza import check_plans
    from app.positions.amounts import amount_due

    world = approved_plan(session, None, installments=3, file_store=False)
    plan, position = world.plan, world.position
    actor = Actor.system("test")
    check_plans(session, dt.date(2026, 2, 28), actor, file_store=None)
    check_plans(session, dt.date(2026, 3, 1), actor, file_store=None)
    assert plan.status == "decaduto" and plan.decadenza_date == dt.date(2026, 2, 28)
    at_decadenza = amount_due(session, position, plan.decadenza_date)
    assert at_decadenza.total_cents == plan.residual_cents and at_decadenza.interest_cents == 0
    later = amount_due(session, position, dt.date(2026, 6, 30))
    assert later.interest_cents > 0 and later.interest_from == plan.decadenza_date
    assert later.total_cents == plan.residual_cents + later.interest_cents


def test_annulling_a_plan_before_any_payment_reverses_what_the_approval_fixed(session) -> None:
    from app.core.errors import DomainError
    from app.payments.models import NoticeNumber
    from app.plans.annulment import annul_plan
    from app.positions.amounts import amount_due
    from app.positions.models import Movement

    principal, actor = office(session)
    position = plan_position(session, skip=1)
    request = submit(session, principal, actor, position, 3)
    day = dt.date(2026, 6, 30)
    without_plan = amount_due(session, position, day).total_cents
    from app.plans.services import decide

    plan = decide(session, principal, actor, request.id, approve=True, note=None, on=APPROVED_ON).plan
    assert amount_due(session, position, day).total_cents != without_plan
    try:
        annul_plan(session, principal, actor, plan, reason="", on=dt.date(2026, 1, 12))
    except DomainError as exc:
        assert "motivo" in exc.message
    else:
        raise AssertionError("annulled without a reason")
    annul_plan(session, principal, actor, plan, reason="approvato per errore", on=dt.date(2026, 1, 12))
    assert plan.status == "annullato" and position.state == "notificata"
    reversals = session.scalars(
        sa.select(Movement).where(Movement.reverses_id.in_(plan.positions[0].movement_ids))
    ).all()
    assert len(reversals) == len(plan.positions[0].movement_ids) >= 2
    assert amount_due(session, position, day).total_cents == without_plan  # as if there had been no plan
    notices = session.scalars(
        sa.select(NoticeNumber).where(NoticeNumber.id.in_([i.notice_id for i in plan.installments]))
    ).all()
    assert {n.cancelled_date for n in notices} == {dt.date(2026, 1, 12)}
    (annulled,) = events(session, "plan.annulled", position.id)
    assert annulled.payload["to"] == "notificata"
