"""The screens (actions on the position page, role-checked, CSRF) and the /api/v1 endpoints of the
measures."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.dynamics.models import Measure
from app.extensions import db
from app.positions.models import Position
from tests.conftest import csrf_token, new_api_token
from tests.dynamics.conftest import new_position


def _position(app) -> int:
    with app.app_context():
        position = new_position(db.session)
        db.session.commit()
        return position.id


def test_backoffice_abates_from_the_position_page_and_the_section_shows_it(app, personas) -> None:
    position_id = _position(app)
    client = personas.client("backoffice")
    section = client.get(f"/posizioni/{position_id}/provvedimenti").get_data(as_text=True)
    assert f"/posizioni/{position_id}/sgravio" in section and "Nessun provvedimento" in section
    path = f"/posizioni/{position_id}/sgravio"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "extent": "parziale",
            "sanzioni": "100,00",
            "ordered_by": "gestore",
            "act_number": "7/2026",
            "act_date": "2026-11-30",
            "reason": "errore materiale",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    section = client.get(f"/posizioni/{position_id}/provvedimenti").get_data(as_text=True)
    assert "errore materiale" in section and "100,00" in section and "Storna" in section
    with app.app_context():
        measure = db.session.scalars(sa.select(Measure).where(Measure.position_id == position_id)).one()
        assert (measure.kind, measure.amount_cents, measure.ordered_by) == ("sgravio", 10_000, "gestore")


def test_a_refused_sgravio_shows_the_rule_and_keeps_nothing(app, personas) -> None:
    position_id = _position(app)
    client = personas.client("backoffice")
    path = f"/posizioni/{position_id}/sgravio"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "extent": "parziale",
            "capitale": "5.000,00",
            "ordered_by": "regione",
            "reason": "x",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r"superiore al dovuto della componente Capitale .*10-quater", html)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Measure).where(Measure.position_id == position_id)
            )
            == 0
        )


def test_roles_without_the_permission_see_no_action_and_get_403(app, personas) -> None:
    position_id = _position(app)
    for persona in ("callcenter", "regione", "sportello"):
        client = personas.client(persona)
        section = client.get(f"/posizioni/{position_id}/provvedimenti")
        assert section.status_code == 200
        assert "measure-actions" not in section.get_data(as_text=True)
        assert client.get(f"/posizioni/{position_id}/sgravio").status_code == 403


def test_the_api_suspends_revokes_and_abates_with_the_same_services(app, client) -> None:
    position_id = _position(app)
    headers = {"Authorization": f"Bearer {new_api_token(app, 'positions:write', name='regione')}"}
    url = f"/api/v1/positions/{position_id}"
    response = client.post(
        f"{url}/sospensione",
        headers=headers,
        json={"reason": "ordine della Regione", "reason_kind": "ordine_regione"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["position"]["state"] == "sospesa"
    assert (
        client.post(f"{url}/revoca-sospensione", headers=headers, json={"reason": "revoca"}).get_json()[
            "position"
        ]["state"]
        == "scaduta"
    )
    refused = client.post(
        f"{url}/sgravio", headers=headers, json={"reason": "x", "components": {"spese": "9.00"}}
    )
    assert refused.status_code == 422
    assert "Spese" in refused.get_json()["error"] and "10-quater" in refused.get_json()["error"]
    done = client.post(f"{url}/sgravio", headers=headers, json={"reason": "totale", "total": True})
    assert done.status_code == 201 and done.get_json()["position"]["state"] == "sgravata"
    assert done.get_json()["total_due"] == "0.00"
    with app.app_context():
        assert db.session.get(Position, position_id).state == "sgravata"


def test_the_api_needs_the_write_scope(app, client) -> None:
    position_id = _position(app)
    headers = {"Authorization": f"Bearer {new_api_token(app, 'positions:read', name='regione')}"}
    response = client.post(
        f"/api/v1/positions/{position_id}/sgravio", headers=headers, json={"reason": "x", "total": True}
    )
    assert response.status_code == 403
