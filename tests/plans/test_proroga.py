"""The proroga (L. 160/2019 c. 797): granted once, the residual over more installments within the band of the
regime and the cap of the parameter row, new notice numbers, the old ones cancelled; refused a second time,
after a decadenza and beyond the cap, each refusal naming the rule. Its act (accoglimento della proroga) with
one notice per new installment, or the reason it was not issued. The API and the plan page's form."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.audit import Actor
from app.extensions import db
from tests.atti.conftest import pdf_qr_codes, pdf_text
from tests.conftest import csrf_token, new_api_token
from tests.plans.support import APPROVED_ON, act_pdf, events, office, plan_position, submit

ON = dt.date(2026, 2, 15)


def _plan(session, *, skip: int = 0):
    """A plan of 5 installments on a position owing 500.01-3,000.00 euro (the band admits 5 to 12)."""
    from app.plans.services import decide

    principal, actor = office(session)
    position = plan_position(session, low=50_001, high=300_000, skip=skip)
    request = submit(session, principal, actor, position, 5)
    plan = decide(session, principal, actor, request.id, approve=True, note=None, on=APPROVED_ON).plan
    assert plan is not None and len(plan.installments) == 5
    return principal, actor, position, plan


def _refused(call, *words: str) -> str:
    from app.plans.proroga import ProrogaRefused

    with pytest.raises(ProrogaRefused) as refused:
        call()
    for word in words:
        assert word in refused.value.message, refused.value.message
    return refused.value.message


def test_a_proroga_is_granted_once_with_new_notices_and_the_old_ones_cancelled(session) -> None:
    from app.payments.models import NoticeNumber
    from app.plans.proroga import extend_plan
    from app.positions.amounts import amount_due

    principal, actor, position, plan = _plan(session)
    old = list(plan.installments)
    due_before = amount_due(session, position, ON).total_cents
    assert due_before == plan.unpaid_cents
    extension = extend_plan(
        session, principal, actor, plan, installments=8, reason="perdita del lavoro documentata", on=ON
    )
    new = extension.installments
    assert extension.act is None and extension.act_error is None  # no file store: no act
    assert [i.number for i in new] == list(range(6, 14))
    assert new[0].due_date == dt.date(2026, 2, 28) and new[-1].due_date == dt.date(2026, 9, 28)
    assert {i.status for i in old} == {"sostituita"}
    residual = sum(i.amount_cents for i in old)
    assert sum(i.capital_cents for i in new) == residual  # the residual, with the c. 802 interest on top
    interest = sum(i.interest_cents for i in new)
    assert interest > 0 and sum(i.amount_cents for i in new) == plan.amount_cents == residual + interest
    assert plan.live_installments == new and plan.proroga_date == ON
    cancelled = session.scalars(
        sa.select(NoticeNumber).where(NoticeNumber.id.in_([i.notice_id for i in old]))
    ).all()
    assert {n.cancelled_date for n in cancelled} == {ON}
    fresh = session.scalars(
        sa.select(NoticeNumber).where(NoticeNumber.id.in_([i.notice_id for i in new]))
    ).all()
    assert {n.cancelled_date for n in fresh} == {None}
    assert sorted(n.amount_cents for n in fresh) == sorted(i.amount_cents for i in new)
    assert not {i.notice_number for i in new} & {i.notice_number for i in old}
    # the residual plus the new installments' interest, booked with the proroga: the quote is the plan
    assert amount_due(session, position, ON).total_cents == plan.unpaid_cents
    assert plan.unpaid_cents - due_before == sum(i.interest_cents for i in new)
    (event,) = events(session, "plan.extended", position.id)
    assert "c. 797" in event.summary and event.payload["new"] == list(range(6, 14))

    # a second time: refused, naming the rule
    _refused(
        lambda: extend_plan(session, principal, actor, plan, installments=10, reason="ancora", on=ON),
        "una sola volta",
        "c. 797",
    )


def test_a_proroga_is_refused_after_the_decadenza_and_beyond_the_cap(session) -> None:
    from app.enti.models import Parameter
    from app.plans.decadenza import check_plans
    from app.plans.proroga import extend_plan

    principal, actor, position, plan = _plan(session)
    system = Actor.system("test")
    check_plans(session, dt.date(2026, 2, 28), system, file_store=None)
    check_plans(session, dt.date(2026, 3, 1), system, file_store=None)
    assert plan.status == "decaduto"
    _refused(
        lambda: extend_plan(
            session, principal, actor, plan, installments=8, reason="x", on=dt.date(2026, 3, 2)
        ),
        "decaduto",
        "c. 797",
    )

    principal, actor, other, plan = _plan(session, skip=1)
    session.add(
        Parameter(
            code="proroga_rateazione_l160",
            ente_id=other.ente_id,
            valid_from=dt.date(2020, 1, 1),
            value={"max_installments": 6},
            source="regolamento delle entrate dell'ente, art. 13 (L. 160/2019, art. 1, c. 797)",
        )
    )
    session.flush()
    _refused(
        lambda: extend_plan(session, principal, actor, plan, installments=8, reason="x", on=ON),
        "massimo di 6",
        "c. 797",
    )
    _refused(  # not more installments than those left
        lambda: extend_plan(session, principal, actor, plan, installments=5, reason="x", on=ON), "più rate"
    )
    _refused(  # beyond the band of the residual (5 to 12)
        lambda: extend_plan(session, principal, actor, plan, installments=60, reason="x", on=ON), "c. 797"
    )
    assert plan.proroga_date is None and {i.status for i in plan.installments} == {"da_pagare"}
    assert extend_plan(session, principal, actor, plan, installments=6, reason="malattia", on=ON).installments


def test_the_proroga_issues_its_act_with_one_notice_per_new_installment(session, store) -> None:
    from app.atti.models import Act
    from app.plans.proroga import extend_plan

    principal, actor, position, plan = _plan(session)
    old = list(plan.installments)
    extension = extend_plan(
        session, principal, actor, plan, installments=8, reason="malattia", on=ON, file_store=str(store)
    )
    new = extension.installments
    assert extension.act_error is None, extension.act_error
    act = session.get(Act, plan.proroga_act_id)
    assert act is not None and act is extension.act
    assert act.act_type.code == "accoglimento_proroga"
    assert (act.position_id, act.taxpayer_id, act.issue_date) == (position.id, plan.taxpayer_id, ON)
    assert act.amount_due_cents == sum(i.amount_cents for i in new) == plan.unpaid_cents
    assert act.notice_number == new[0].notice_number
    pdf = act_pdf(session, store, act.id)
    cf = position.ente.codice_fiscale
    qr = pdf_qr_codes(pdf)
    assert len(qr) == len(new) == 8
    assert set(qr) == {f"PAGOPA|002|{i.notice_number}|{cf}|{i.amount_cents}" for i in new}
    assert not any(i.notice_number in code for i in old for code in qr)  # the cancelled ones: no page
    text = pdf_text(pdf)
    assert "Comunicazione di accoglimento della proroga della rateazione" in text
    assert "15/02/2026" in text and "c. 797" in text and "1, 2, 3, 4, 5" in text
    assert "malattia" not in text  # the reason stays in the office
    (event,) = events(session, "plan.extended", position.id)
    assert event.payload["act"] == act.id and event.payload["act_error"] is None
    assert act.protocol in event.summary
    (issued,) = [e for e in events(session, "act.issued", position.id) if e.payload["act"] == act.id]
    assert issued.payload["type"] == "accoglimento_proroga"


def _drop_proroga_templates(session, ente_id: int) -> None:
    """No template of the proroga's act in force for the ente (its rows only from 2099 on)."""
    from app.atti.models import ActTemplate, ActType

    session.execute(
        sa.update(ActTemplate)
        .where(
            ActTemplate.ente_id == ente_id,
            ActTemplate.act_type_id
            == sa.select(ActType.id).where(ActType.code == "accoglimento_proroga").scalar_subquery(),
        )
        .values(valid_from=dt.date(2099, 1, 1))
    )
    session.flush()


def test_without_a_template_the_proroga_stands_and_says_why_no_act(session, store) -> None:
    from app.plans.proroga import extend_plan

    principal, actor, position, plan = _plan(session)
    _drop_proroga_templates(session, position.ente_id)
    extension = extend_plan(
        session, principal, actor, plan, installments=8, reason="malattia", on=ON, file_store=str(store)
    )
    assert extension.act is None and plan.proroga_act_id is None
    assert "Nessun modello" in extension.act_error and "proroga" in extension.act_error
    assert plan.proroga_date == ON and len(plan.live_installments) == 8 == len(extension.installments)
    (event,) = events(session, "plan.extended", position.id)
    assert event.payload["act"] is None and event.payload["act_error"] == extension.act_error


def test_a_new_act_type_gets_its_default_template_at_enti_that_have_templates(session) -> None:
    from app.atti.models import ActTemplate, ActType
    from app.atti.services import ensure_defaults

    def proroga_templates() -> int:
        return session.scalar(
            sa.select(sa.func.count())
            .select_from(ActTemplate)
            .join(ActType, ActType.id == ActTemplate.act_type_id)
            .where(ActType.code == "accoglimento_proroga")
        )

    assert proroga_templates() > 0
    session.execute(
        sa.delete(ActTemplate).where(
            ActTemplate.act_type_id
            == sa.select(ActType.id).where(ActType.code == "accoglimento_proroga").scalar_subquery()
        )
    )
    ensure_defaults(session)  # the type is known: an ente without its template is refused it, as before
    assert proroga_templates() == 0
    session.execute(sa.delete(ActType).where(ActType.code == "accoglimento_proroga"))
    ensure_defaults(session)  # new to the catalog: every ente with templates receives it
    enti = session.scalar(sa.select(sa.func.count(sa.distinct(ActTemplate.ente_id))))
    assert proroga_templates() == enti > 0


def test_the_proroga_from_the_plan_page_and_the_api(app: Flask, personas, client, store) -> None:
    from app.enti.queries import get_ente_by_code
    from tests.api.test_openapi import request_schema, response_schema, spec_of, validator

    with app.app_context():
        _principal, _actor, _position, plan = _plan(db.session, skip=2)
        plan_id = plan.id
        _principal, _actor, _position, other = _plan(db.session, skip=3)
        other_id = other.id
        _principal, _actor, _position, third = _plan(db.session, skip=4)
        third_id = third.id
        ente_id = get_ente_by_code(db.session, "R01").id
        db.session.commit()
        db.session.remove()
    token = new_api_token(app, "positions:write", name="proroga")
    office_client = personas.client("backoffice")
    page = office_client.get(f"/rateazioni/piani/{plan_id}").get_data(as_text=True)
    assert 'data-testid="proroga-form"' in page
    assert 'data-testid="proroga-form"' not in personas.client("sportello").get(
        f"/rateazioni/piani/{plan_id}"
    ).get_data(as_text=True)
    path = f"/rateazioni/piani/{plan_id}/proroga"
    token_form = csrf_token(office_client, f"/rateazioni/piani/{plan_id}")
    assert personas.client("sportello").post(path, data={}).status_code in (400, 403)
    done = office_client.post(
        path, data={"installments": "7", "reason": "cassa integrazione", "csrf_token": token_form}
    )
    assert done.status_code == 303
    page = office_client.get(f"/rateazioni/piani/{plan_id}").get_data(as_text=True)
    assert 'data-testid="plan-proroga"' in page and "Sostituita dalla proroga" in page
    assert 'data-testid="plan-proroga-act"' in page and "/atti/" in page
    again = office_client.post(
        path, data={"installments": "9", "reason": "di nuovo", "csrf_token": token_form}
    )
    assert again.status_code == 422 and "una sola volta" in again.get_data(as_text=True)

    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post(
        f"/api/v1/plans/{other_id}/proroga", json={"installments": 8, "reason": "malattia"}, headers=headers
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["proroga_date"] and len([i for i in body["installments"] if i["status"] != "sostituita"]) == 8
    assert body["proroga_act_id"] and body["act_error"] is None
    with app.app_context():
        from app.atti.models import Act

        act = db.session.get(Act, body["proroga_act_id"])
        assert act.act_type.code == "accoglimento_proroga" and act.notice_number == next(
            i["notice_number"] for i in body["installments"] if i["status"] != "sostituita"
        )
    spec = spec_of(client)
    validator(spec, response_schema(spec, "/plans/{plan_id}/proroga", "post", 200)).validate(body)
    validator(spec, request_schema(spec, "/plans/{plan_id}/proroga")).validate(
        {"installments": 8, "reason": "malattia"}
    )
    refused = client.post(
        f"/api/v1/plans/{other_id}/proroga", json={"installments": 9, "reason": "ancora"}, headers=headers
    )
    assert refused.status_code == 422 and "c. 797" in refused.get_json()["error"]

    with app.app_context():  # no template of the act: the proroga stands, the answer says why
        _drop_proroga_templates(db.session, ente_id)
        db.session.commit()
    answer = client.post(
        f"/api/v1/plans/{third_id}/proroga", json={"installments": 8, "reason": "malattia"}, headers=headers
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["proroga_date"] and body["proroga_act_id"] is None and "Nessun modello" in body["act_error"]
    validator(spec, response_schema(spec, "/plans/{plan_id}/proroga", "post", 200)).validate(body)
