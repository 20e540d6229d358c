"""The proroga (L. 160/2019 c. 797): granted once, the residual over more installments within the band of the
regime and the cap of the parameter row, new notice numbers, the old ones cancelled; refused a second time,
after a decadenza and beyond the cap, each refusal naming the rule. The API and the plan page's form."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.audit import Actor
from app.extensions import db
from tests.conftest import csrf_token
from tests.plans.support import APPROVED_ON, events, office, plan_position, submit

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
    new = extend_plan(
        session, principal, actor, plan, installments=8, reason="perdita del lavoro documentata", on=ON
    )
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
    assert extend_plan(session, principal, actor, plan, installments=6, reason="malattia", on=ON)


def test_the_proroga_from_the_plan_page_and_the_api(app: Flask, personas, client) -> None:
    from app.auth.services import issue_api_token
    from app.enti.queries import get_ente_by_code
    from tests.api.test_openapi import request_schema, response_schema, spec_of, validator

    with app.app_context():
        _principal, _actor, _position, plan = _plan(db.session, skip=2)
        plan_id = plan.id
        _principal, _actor, _position, other = _plan(db.session, skip=3)
        other_id = other.id
        ente = get_ente_by_code(db.session, "R01")
        _, token = issue_api_token(
            db.session, name="proroga", ente_id=ente.id, scopes=["positions:write"], created_by_id=None
        )
        db.session.commit()
        db.session.remove()
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
    spec = spec_of(client)
    validator(spec, response_schema(spec, "/plans/{plan_id}/proroga", "post", 200)).validate(body)
    validator(spec, request_schema(spec, "/plans/{plan_id}/proroga")).validate(
        {"installments": 8, "reason": "malattia"}
    )
    refused = client.post(
        f"/api/v1/plans/{other_id}/proroga", json={"installments": 9, "reason": "ancora"}, headers=headers
    )
    assert refused.status_code == 422 and "c. 797" in refused.get_json()["error"]
