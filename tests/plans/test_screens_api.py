"""The plans' screens (list, detail, card section, the desk's request), the API (validated on the OpenAPI
document) and the reminder rule reading the stored installments."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from tests.api.test_openapi import response_schema, spec_of, validator
from tests.conftest import csrf_token, new_api_token
from tests.plans.support import FIRST_DUE, approved_plan, plan_position


def _plan(app: Flask, store) -> tuple[int, int, int, list[str]]:
    with app.app_context():
        world = approved_plan(db.session, store, installments=3, file_store=False)
        ids = (world.plan.id, world.position.id, world.position.taxpayer_id)
        numbers = [i.notice_number for i in world.plan.installments]
        db.session.commit()
        db.session.remove()
    return (*ids, numbers)


def test_plan_screens_show_the_installments_and_their_state(app: Flask, personas, store) -> None:
    plan_id, position_id, taxpayer_id, numbers = _plan(app, store)
    for persona in ("backoffice", "sportello", "callcenter", "regione", "admin"):
        client = personas.client(persona)
        listing = client.get("/rateazioni/piani?stato=attivo")
        assert listing.status_code == 200, persona
        assert f'data-testid="plan-{plan_id}"' in listing.get_data(as_text=True)
        detail = client.get(f"/rateazioni/piani/{plan_id}").get_data(as_text=True)
        assert 'data-testid="installment-3"' in detail and "31/03/2026" in detail
        assert " ".join(numbers[0][k : k + 4] for k in range(0, 18, 4)) in detail
        section = client.get(f"/rateazioni/contribuenti/{taxpayer_id}/piani").get_data(as_text=True)
        assert f"Piano n. {plan_id}" in section
        card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
        assert 'data-testid="card-plans-section"' in card
    assert personas.client("contribuente").get(f"/rateazioni/piani/{plan_id}").status_code == 403
    assert personas.client("backoffice").get("/rateazioni/piani?stato=nessuno").status_code == 400


def test_a_plan_requested_at_the_desk_is_simulated_within_the_band(app: Flask, personas) -> None:
    from app.plans.models import PlanRequest

    with app.app_context():
        position_id = plan_position(db.session, skip=1).id
        db.session.remove()
    desk = personas.client("sportello")
    page = desk.get(f"/posizioni/{position_id}")
    path = f"/rateazioni/posizioni/{position_id}/richiesta"
    assert path in page.get_data(as_text=True)
    token = csrf_token(desk, path)
    too_many = desk.post(
        path, data={"installments": "60", "first_due": FIRST_DUE.isoformat(), "csrf_token": token}
    )
    allowed = re.search(r"rate ammesse: da (\d+) a \d+", too_many.get_data(as_text=True))
    assert too_many.status_code == 200 and allowed
    fewest = allowed.group(1)
    done = desk.post(
        path, data={"installments": fewest, "first_due": FIRST_DUE.isoformat(), "csrf_token": token}
    )
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/posizioni/{position_id}")
    with app.app_context():
        request = db.session.scalars(sa.select(PlanRequest).order_by(PlanRequest.id.desc())).first()
        assert request.status == "richiesta" and request.installments == int(fewest)
        assert [link.position_id for link in request.positions] == [position_id]
        db.session.remove()


def test_the_api_answers_plans_on_the_openapi_document(app: Flask, client, store) -> None:
    plan_id, _position_id, _taxpayer_id, numbers = _plan(app, store)
    tokens = {
        code: new_api_token(app, "positions:read", ente=code, name=f"piani {code}")
        for code in ("R01", "R02")
    }
    spec = spec_of(client)
    auth = {"Authorization": f"Bearer {tokens['R01']}"}
    one = client.get(f"/api/v1/plans/{plan_id}", headers=auth)
    assert one.status_code == 200
    body = one.get_json()
    validator(spec, response_schema(spec, "/plans/{plan_id}", "get", 200)).validate(body)
    assert [i["notice_number"] for i in body["installments"]] == numbers and body["status"] == "attivo"
    listed = client.get(f"/api/v1/plans?codice_fiscale={body['codice_fiscale']}", headers=auth)
    validator(spec, response_schema(spec, "/plans", "get", 200)).validate(listed.get_json())
    assert plan_id in [p["id"] for p in listed.get_json()]
    other = client.get(f"/api/v1/plans/{plan_id}", headers={"Authorization": f"Bearer {tokens['R02']}"})
    assert other.status_code == 404
    validator(spec, response_schema(spec, "/plans/{plan_id}", "get", 404)).validate(other.get_json())
    bad = client.get("/api/v1/plans?status=boh", headers=auth)
    assert bad.status_code == 422


def test_the_reminder_rule_reads_the_stored_installments(session, store) -> None:
    from app.core.audit import Actor
    from app.crm.messages.models import Message
    from app.crm.messages.services import run_rules, save_rule

    world = approved_plan(session, store, installments=3, file_store=False)
    second = world.plan.installments[1]
    rule = save_rule(
        session,
        ente_id=world.position.ente_id,
        entrata_id=None,
        purpose="promemoria_rata",
        channels=["app_io", "email", "pec", "sms"],
        days_before=7,
    )
    run = run_rules(session, second.due_date - dt.timedelta(days=7), Actor.system("test promemoria"))
    messages = session.scalars(
        sa.select(Message).where(
            Message.position_id == world.position.id, Message.dedup_key.like(f"regola:{rule.id}:%")
        )
    ).all()
    assert len(messages) == 1, run.errors
    (message,) = messages
    assert message.dedup_key.endswith(second.due_date.isoformat())
    assert message.payload.get("due_date") == second.due_date.isoformat()
    if "payment_data" in message.payload:
        assert message.payload["payment_data"] == {
            "amount": second.amount_cents,
            "notice_number": second.notice_number,
        }
    assert "28/02/2026" in message.body
    again = run_rules(session, second.due_date - dt.timedelta(days=7), Actor.system("test promemoria"))
    assert again.queued == 0
