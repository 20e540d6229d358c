"""The daily decadenza check (L. 160/2019 c. 800, the parameter row decadenza_l160: two unpaid installments
within six months after an espresso sollecito): the sollecito when the unpaid installments reach the rule, the
decadenza from a later run, never before; the residual act; idempotent runs."""

from __future__ import annotations

import datetime as dt

from app.core.audit import Actor
from app.payments.services import register_desk_payment
from tests.atti.conftest import pdf_qr_codes
from tests.plans.support import act_pdf, approved_plan, events

ACTOR = Actor.system("test decadenza")


def _check(session, store, day: dt.date):
    from app.plans.decadenza import check_plans

    return check_plans(session, day, ACTOR, file_store=str(store))


def test_decadenza_follows_the_sollecito_after_the_unpaid_installments_not_before(session, store) -> None:
    from app.atti.models import Act

    world = approved_plan(session, store, installments=3)
    plan, position = world.plan, world.position
    first, second = plan.installments[:2]
    assert (first.due_date, second.due_date) == (dt.date(2026, 1, 31), dt.date(2026, 2, 28))

    for day in (dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 27)):
        run = _check(session, store, day)
        assert (run.solleciti, run.decadenze) == ([], []), day
    assert plan.sollecito_date is None and plan.status == "attivo"

    # the second unpaid installment: the rule needs an espresso sollecito first
    run = _check(session, store, dt.date(2026, 2, 28))
    assert run.solleciti == [plan.id] and run.decadenze == [] and not run.errors
    assert plan.sollecito_date == dt.date(2026, 2, 28) and plan.status == "attivo"
    sollecito = session.get(Act, plan.sollecito_act_id)
    assert sollecito.act_type.code == "sollecito"
    assert sollecito.amount_due_cents == first.amount_cents + second.amount_cents
    cf = position.ente.codice_fiscale
    assert set(pdf_qr_codes(act_pdf(session, store, sollecito.id))) == {
        f"PAGOPA|002|{i.notice_number}|{cf}|{i.amount_cents}" for i in (first, second)
    }
    again = _check(session, store, dt.date(2026, 2, 28))  # the same day again: nothing more
    assert (again.solleciti, again.decadenze) == ([], [])
    assert len(events(session, "plan.sollecito", position.id)) == 1
    assert position.state == "in_rateazione"

    # the next run: decadenza (the rule's term after the sollecito: 0 days), the residual due at once
    run = _check(session, store, dt.date(2026, 3, 1))
    assert run.decadenze == [plan.id], run.errors
    assert plan.status == "decaduto" and plan.decadenza_date == dt.date(2026, 2, 28)
    assert plan.residual_cents == plan.amount_cents
    assert "c. 800" in plan.decadenza_reason and "n. 1, 2" in plan.decadenza_reason
    assert position.state == "scaduta"
    (decadenza,) = events(session, "plan.decadenza", position.id)
    assert decadenza.payload["from"] == "in_rateazione" and decadenza.payload["to"] == "scaduta"
    assert not run.errors, run.errors
    act = session.get(Act, plan.decadenza_act_id)
    assert act.act_type.code == "decadenza_rateazione" and act.position_id == position.id
    assert act.amount_due_cents > 0

    rerun = _check(session, store, dt.date(2026, 3, 1))
    later = _check(session, store, dt.date(2026, 4, 30))
    assert (rerun.checked, later.checked) == (0, 0)
    assert len(events(session, "plan.decadenza", position.id)) == 1
    assert (
        session.query(Act).filter(Act.position_id == position.id).count() == 3
    )  # accoglimento, sollecito, decadenza


def test_installments_paid_in_time_keep_the_plan(session, store) -> None:
    world = approved_plan(session, store, installments=3, file_store=False)
    plan = world.plan
    first = plan.installments[0]
    register_desk_payment(
        session,
        world.principal,
        world.actor,
        position_id=world.position.id,
        amount_cents=first.amount_cents,
        channel="pos",
        paid_date=dt.date(2026, 1, 29),
    )
    for day in (dt.date(2026, 2, 28), dt.date(2026, 3, 1)):
        run = _check(session, store, day)
        assert (run.solleciti, run.decadenze) == ([], []), day
    assert plan.status == "attivo" and plan.sollecito_date is None
    # one unpaid installment is not the rule's two: the third unpaid too makes the sollecito
    run = _check(session, store, dt.date(2026, 3, 31))
    assert run.solleciti == [plan.id]


def test_the_daily_job_is_periodic_and_the_command_runs_it(app, store) -> None:
    import json

    from app.extensions import db
    from app.plans.tasks import PERIODIC_JOBS
    from tests.plans.support import approved_plan

    assert "app.plans.tasks.daily_decadenza_check" in [name for name, *_ in PERIODIC_JOBS]
    with app.app_context():
        plan_id = approved_plan(db.session, store, installments=3, file_store=False).plan.id
        db.session.commit()
        db.session.remove()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["rateazioni", "controllo-decadenza", "--data", "2026-02-28"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["solleciti"] == [plan_id]
    again = runner.invoke(args=["rateazioni", "controllo-decadenza", "--data", "2026-02-28"])
    assert json.loads(again.output)["solleciti"] == []
