"""The stored plan: approval makes installments that add up to the plan, each with its own pagoPA notice
(decoded from the act's PDF), the position in rateazione; four eyes when the ente asks."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.errors import DomainError
from app.payments.models import NoticeNumber
from tests.atti.conftest import pdf_qr_codes, pdf_text
from tests.plans.support import APPROVED_ON, act_pdf, approved_plan, events, office, plan_position, submit


def test_approval_stores_installments_adding_up_to_the_plan_each_with_its_notice(session, store) -> None:
    from app.positions.amounts import cents_of

    world = approved_plan(session, store, installments=3)
    plan, position = world.plan, world.position
    schedule = world.request.schedule
    assert plan.amount_cents == cents_of(schedule["total"])
    assert sum(i.amount_cents for i in plan.installments) == plan.amount_cents
    assert sum(i.capital_cents for i in plan.installments) == world.request.amount_cents
    n = len(plan.installments)
    assert n >= 3 and [i.number for i in plan.installments] == list(range(1, n + 1))
    assert [i.due_date.isoformat() for i in plan.installments][:3] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
    ]
    assert [i.amount_cents for i in plan.installments] == [
        cents_of(r["amount"]) for r in schedule["installments"]
    ]
    numbers = [i.notice_number for i in plan.installments]
    assert len(set(numbers)) == n and all(len(n) == 18 and n.isdigit() for n in numbers)
    notices = session.scalars(sa.select(NoticeNumber).where(NoticeNumber.notice_number.in_(numbers))).all()
    assert {(n.item_kind, n.position_id) for n in notices} == {("rata", position.id)}
    assert sorted(n.amount_cents for n in notices) == sorted(i.amount_cents for i in plan.installments)
    assert position.state == "in_rateazione"
    assert plan.positions[0].state_before == "notificata"
    (started,) = events(session, "plan.started", position.id)
    assert "In rateazione" in started.summary and started.payload["plan"] == plan.id
    assert world.request.status == "approvata"

    # the act of accoglimento: one pagoPA notice per installment, each QR as domain.md §6.2 writes it
    assert plan.accoglimento_act_id is not None
    pdf = act_pdf(session, store, plan.accoglimento_act_id)
    cf = position.ente.codice_fiscale
    expected = {f"PAGOPA|002|{i.notice_number}|{cf}|{i.amount_cents}" for i in plan.installments}
    assert set(pdf_qr_codes(pdf)) == expected
    text = pdf_text(pdf)
    assert "accolta" in text and position.taxpayer.codice_fiscale in text
    for inst in plan.installments:
        grouped = " ".join(inst.notice_number[k : k + 4] for k in range(0, 18, 4))
        assert grouped in text
    assert "31/01/2026" in text and "31/03/2026" in text


def test_a_request_already_decided_makes_no_second_plan(session, store) -> None:
    from app.plans.services import decide

    world = approved_plan(session, store, file_store=False)
    try:
        decide(
            session, world.principal, world.actor, world.request.id, approve=True, note=None, on=APPROVED_ON
        )
    except DomainError as exc:
        assert "già stata decisa" in exc.message
    else:
        raise AssertionError("a decided request was approved twice")


def test_the_ente_can_ask_for_four_eyes_and_reserve_the_approval_to_a_role(session, store) -> None:
    import datetime as dt

    from app.enti.models import Parameter
    from app.plans.models import Plan
    from app.plans.services import decide

    principal, actor = office(session)
    position = plan_position(session)
    session.add(
        Parameter(
            code="rateazione_approvazione",
            ente_id=position.ente_id,
            valid_from=dt.date(2020, 1, 1),
            value={"roles": ["backoffice", "admin"], "four_eyes": True},
            source="regolamento delle entrate dell'ente, art. 12",
        )
    )
    session.flush()
    request = submit(session, principal, actor, position, 2)
    first = decide(session, principal, actor, request.id, approve=True, note=None, on=APPROVED_ON)
    assert first.pending_second and first.plan is None and request.status == "richiesta"
    assert request.first_approved_by_id == actor.user_id
    try:
        decide(session, principal, actor, request.id, approve=True, note=None, on=APPROVED_ON)
    except DomainError as exc:
        assert "quattro occhi" in exc.message
    else:
        raise AssertionError("the same user approved twice")
    admin_principal, admin_actor = office(session, "admin")
    second = decide(
        session, admin_principal, admin_actor, request.id, approve=True, note=None, on=APPROVED_ON
    )
    assert second.plan is not None and request.status == "approvata"
    assert session.scalars(sa.select(Plan).where(Plan.request_id == request.id)).one() is second.plan


def test_a_role_the_ente_did_not_name_cannot_approve(session) -> None:
    import datetime as dt

    from app.enti.models import Parameter
    from app.plans.services import decide

    principal, actor = office(session)
    position = plan_position(session)
    session.add(
        Parameter(
            code="rateazione_approvazione",
            ente_id=position.ente_id,
            valid_from=dt.date(2020, 1, 1),
            value={"roles": ["admin"], "four_eyes": False},
            source="regolamento delle entrate dell'ente, art. 12",
        )
    )
    session.flush()
    request = submit(session, principal, actor, position, 2)
    try:
        decide(session, principal, actor, request.id, approve=True, note=None, on=APPROVED_ON)
    except DomainError as exc:
        assert "amministratore" in exc.message
    else:
        raise AssertionError("a back office user approved a plan reserved to the administrators")
    assert request.status == "richiesta"
