"""The engine's HTTP contract (formats.md §4), the stored-position quote and the card's calculator panels."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from tests.conftest import new_api_token
from tests.engine.formats_examples import FORMATS_REQUEST, FORMATS_SEGMENTS


def test_quote_example_of_formats_md(client) -> None:
    response = client.post("/api/v1/engine/quote", json=FORMATS_REQUEST)
    assert response.status_code == 200
    assert response.json == {
        "as_of": "2025-06-30",
        "interest": {
            "amount": "60.05",
            "segments": FORMATS_SEGMENTS,
        },
        "charges": {"oneri_riscossione": "0.00"},
        "components": [
            {"kind": "capitale", "original": "1000.00", "paid": "0.00", "due": "1000.00"},
            {"kind": "sanzioni", "original": "300.00", "paid": "0.00", "due": "300.00"},
            {"kind": "interessi", "original": "0.00", "paid": "0.00", "due": "0.00"},
            {"kind": "spese", "original": "5.88", "paid": "0.00", "due": "5.88"},
        ],
        "total_due": "1365.93",
    }


def test_plan_example_and_regime_limits(client) -> None:
    plan = {
        "amount": "2500.00",
        "installments": 12,
        "first_due": "2027-01-31",
        "regime": "l160",
        "annual_rate": "0",
    }
    response = client.post("/api/v1/engine/installment-plan", json=plan)
    assert response.status_code == 200
    body = response.json
    assert body["installments"][0] == {
        "n": 1,
        "due": "2027-01-31",
        "capital": "208.37",
        "interest": "0.00",
        "amount": "208.37",
    }
    assert body["installments"][1]["due"] == "2027-02-28"
    assert (body["total_capital"], body["total_interest"], body["total"]) == ("2500.00", "0.00", "2500.00")
    outside = client.post("/api/v1/engine/installment-plan", json={**plan, "installments": 13})
    assert outside.status_code == 422 and outside.json["allowed"] == {"min": 5, "max": 12}
    assert outside.json["error"]
    none = client.post(
        "/api/v1/engine/installment-plan", json={**plan, "amount": "100.00", "installments": 2}
    )
    assert none.status_code == 422 and none.json["allowed"] is None


def test_deadlines_example(client) -> None:
    response = client.post(
        "/api/v1/engine/deadlines",
        json={"regime": "tassa_auto", "due_date": "2021-01-31", "interruptions": ["2023-05-10"]},
    )
    assert response.status_code == 200
    assert response.json["prescription_date"] == "2026-05-11"
    assert response.json["term"] == "3 anni" and response.json["from"] == "2023-05-10"
    assert response.json["source"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("non json", 400),
        ({"as_of": "30/06/2025", "components": {"capitale": "1"}}, 400),
        ({"as_of": "2025-06-30", "components": {"capitale": "-1.00"}}, 422),
        ({**FORMATS_REQUEST, "interest": {**FORMATS_REQUEST["interest"], "rate_table": "sconosciuta"}}, 422),
    ],
)
def test_errors_are_json_in_italian(client, body, status) -> None:
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    response = client.post("/api/v1/engine/quote", **kwargs)
    assert response.status_code == status
    assert set(response.json) >= {"error", "details"} and response.json["error"]


def test_the_calculator_is_rate_limited_per_client(client, monkeypatch) -> None:
    import app.api.routes as routes

    monkeypatch.setattr(routes, "ENGINE_LIMIT_PER_MINUTE", 3)
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    statuses = [
        client.post(
            "/api/v1/engine/deadlines",
            json={"regime": "5y", "due_date": "2021-01-31"},
            environ_base={"REMOTE_ADDR": address},
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def _mario_position(app) -> int:
    from app.extensions import db
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        return db.session.scalars(
            sa.select(Position.id)
            .join(Taxpayer)
            .where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
            .order_by(Position.id)
        ).first()


def test_stored_position_quote_is_scoped_to_the_tokens_ente(app, client) -> None:
    position_id = _mario_position(app)
    r01 = new_api_token(app, "positions:read", name="R01")
    r02 = new_api_token(app, "positions:read", ente="R02", name="R02")
    ok = client.get(
        f"/api/v1/positions/{position_id}/quote?as_of=2026-06-30", headers={"Authorization": f"Bearer {r01}"}
    )
    assert ok.status_code == 200 and ok.json["as_of"] == "2026-06-30"
    assert ok.json["interest"]["segments"] and all(s["source"] for s in ok.json["interest"]["segments"])
    assert (
        client.get(
            f"/api/v1/positions/{position_id}/quote", headers={"Authorization": f"Bearer {r02}"}
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/positions/{position_id}/quote?as_of=ieri", headers={"Authorization": f"Bearer {r01}"}
        ).status_code
        == 400
    )


def test_card_panels_compute_the_amount_due_and_simulate_a_plan(app, personas) -> None:
    from tests.test_access import taxpayer_id

    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
    position_id = _mario_position(app)
    client = personas.client("sportello")
    assert 'hx-get="/posizioni/calcola/' in client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    empty = client.get(f"/posizioni/calcola/{mario}/dovuto").get_data(as_text=True)
    assert "Calcola dovuto alla data" in empty and "text-danger" not in empty
    quote = client.get(f"/posizioni/calcola/{mario}/dovuto?position={position_id}&al=2026-06-30").get_data(
        True
    )
    assert 'data-testid="quote-segments"' in quote and "D.M. " in quote  # the legal source of the rate
    first = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    refused = client.get(
        f"/posizioni/calcola/{mario}/rateazione?position={position_id}&rate=119&prima={first}"
    )
    assert 'data-testid="plan-error"' in refused.get_data(as_text=True)
    other = personas.client("regione2").get(
        f"/posizioni/calcola/{mario}/dovuto?position={position_id}&al=2026-06-30"
    )
    assert 'data-testid="quote-result"' not in other.get_data(as_text=True)


def test_a_new_rate_row_is_used_by_the_very_next_quote(app, client) -> None:
    """Engine inputs are cached per process, keyed by the parameter fingerprint: a new row counts at once."""
    from app.enti.models import RatePeriod, RateTable
    from app.extensions import db

    body = {
        **FORMATS_REQUEST,
        "as_of": "2027-03-31",
        "interest": {**FORMATS_REQUEST["interest"], "from": "2026-12-31"},
    }
    before = client.post("/api/v1/engine/quote", json=body).json["interest"]["segments"]
    assert [s["rate"] for s in before] == ["1.60"]  # the 2026 rate, open-ended
    with app.app_context():
        table = db.session.scalars(sa.select(RateTable).where(RateTable.code == "legale")).one()
        current = db.session.scalars(
            sa.select(RatePeriod).where(RatePeriod.rate_table_id == table.id, RatePeriod.valid_to.is_(None))
        ).one()
        current.valid_to = dt.date(2026, 12, 31)
        db.session.add(
            RatePeriod(rate_table_id=table.id, valid_from=dt.date(2027, 1, 1), rate=3, source="DM di prova")
        )
        db.session.commit()
    after = client.post("/api/v1/engine/quote", json=body).json["interest"]["segments"]
    assert [s["rate"] for s in after] == ["3.00"]
