"""Screens (list, detail with steps and costs, start from the position page, card section) role-checked on
the server, refusals shown in Italian; the API answers what the OpenAPI document says, within the token's
ente."""

from __future__ import annotations

import datetime as dt

import pytest

from app.demo.seed import MARIO_ROSSI_CF
from tests.conftest import csrf_token, new_api_token
from tests.procedures.support import ACTOR, make_position, principal


@pytest.fixture
def procedure_id(app, store) -> int:
    """A committed fermo in R01 (the isolation fixture rolls it back after the test)."""
    from app.extensions import db
    from app.procedures import fermo

    with app.test_request_context():
        position = make_position(db.session, capitale_cents=120_000)
        procedure = fermo.start(
            db.session,
            principal(db.session),
            ACTOR,
            position.id,
            vehicle={"targa": "GH789IL"},
            vehicle_source="test",
            on=dt.date(2026, 10, 1),
            file_store=store,
        )
        db.session.commit()
        return procedure.id


def test_list_detail_and_card_section(app, personas, procedure_id) -> None:
    from app.extensions import db
    from app.procedures.models import Procedure

    with app.app_context():
        procedure = db.session.get(Procedure, procedure_id)
        taxpayer_id, position_id = procedure.taxpayer_id, procedure.position_id
    for who in ("backoffice", "callcenter", "regione"):
        client = personas.client(who)
        assert f'data-testid="procedure-{procedure_id}"' in client.get("/procedure/").get_data(as_text=True)
        html = client.get(f"/procedure/{procedure_id}").get_data(as_text=True)
        assert "GH789IL" in html and "6,00 €" in html and "D.M. 21 novembre 2000, Tabella A" in html
        assert ("op-notifica_preavviso" in html) == (who == "backoffice")  # only who may record a step
        card = client.get(f"/procedure/contribuente/{taxpayer_id}").get_data(as_text=True)
        assert f"Fermo amministrativo n. {procedure_id}" in card
    assert personas.client("regione2").get(f"/procedure/{procedure_id}").status_code == 404  # R02 only
    assert personas.client("contribuente").get("/procedure/").status_code == 403
    position_page = personas.client("backoffice").get(f"/posizioni/{position_id}").get_data(as_text=True)
    assert 'data-testid="start-procedure"' in position_page
    callcenter_page = personas.client("callcenter").get(f"/posizioni/{position_id}").get_data(as_text=True)
    assert 'data-testid="start-procedure"' not in callcenter_page


def test_a_refused_step_is_shown_in_italian_and_changes_nothing(app, personas, procedure_id) -> None:
    from app.extensions import db
    from app.procedures.models import Procedure

    client = personas.client("backoffice")
    page = f"/procedure/{procedure_id}"
    response = client.post(
        f"/procedure/{procedure_id}/operazioni",
        data={"operation": "iscrizione", "on": "2026-10-02", "csrf_token": csrf_token(client, page)},
    )
    assert response.status_code == 200  # the form again, with the refusal
    html = response.get_data(as_text=True)
    assert "notifica del preavviso" in html and "art. 187" in html
    with app.app_context():
        assert db.session.get(Procedure, procedure_id).state == "preavviso"
    callcenter = personas.client("callcenter")
    denied = callcenter.post(
        f"/procedure/{procedure_id}/operazioni",
        data={
            "operation": "notifica_preavviso",
            "on": "2026-10-02",
            "csrf_token": csrf_token(callcenter, page),
        },
    )
    assert denied.status_code == 403
    ok = client.post(
        f"/procedure/{procedure_id}/operazioni",
        data={"operation": "notifica_preavviso", "on": "2026-10-02", "csrf_token": csrf_token(client, page)},
    )
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.get(Procedure, procedure_id).deadline == dt.date(2026, 11, 1)


def test_start_form_refuses_ipoteca_under_the_threshold(app, personas) -> None:
    from app.extensions import db

    with app.app_context():
        position_id = make_position(db.session, capitale_cents=500_000).id
        db.session.commit()
    client = personas.client("backoffice")
    page = f"/procedure/nuova?posizione={position_id}&tipo=ipoteca"
    assert personas.client("callcenter").get(page).status_code == 403
    response = client.post(
        page,
        data={
            "kind": "ipoteca",
            "on": "2026-10-01",
            "property_text": "Foglio 1",
            "csrf_token": csrf_token(client, page),
        },
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert "20.000,00 €" in response.get_data(as_text=True)


def test_api_procedures_of_a_taxpayer_follow_the_spec_and_the_tokens_ente(app, client, procedure_id) -> None:
    from tests.api.test_openapi import response_schema, spec_of, validator

    r01 = new_api_token(app, "positions:read", name="t1")
    r02 = new_api_token(app, "positions:read", ente="R02", name="t2")
    spec = spec_of(client)
    listing = client.get(
        f"/api/v1/procedures?codice_fiscale={MARIO_ROSSI_CF}", headers={"Authorization": f"Bearer {r01}"}
    )
    assert listing.status_code == 200
    body = listing.get_json()
    validator(spec, response_schema(spec, "/procedures", "get", 200)).validate(body)
    mine = next(p for p in body if p["id"] == procedure_id)
    assert mine["kind"] == "fermo" and mine["costs"] == "6.00" and mine["steps"][0]["cost"] == "6.00"
    one = client.get(f"/api/v1/procedures/{procedure_id}", headers={"Authorization": f"Bearer {r01}"})
    validator(spec, response_schema(spec, "/procedures/{procedure_id}", "get", 200)).validate(one.get_json())
    assert (
        client.get(
            f"/api/v1/procedures/{procedure_id}", headers={"Authorization": f"Bearer {r02}"}
        ).status_code
        == 404
    )
    assert client.get("/api/v1/procedures", headers={"Authorization": f"Bearer {r01}"}).status_code == 400
    assert client.get(f"/api/v1/procedures/{procedure_id}").status_code == 401
