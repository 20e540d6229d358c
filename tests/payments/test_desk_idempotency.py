"""The desk form posted twice (issue 10, point 6): one payment and one quietanza; the second post shows the
first payment, not an error page and not a second payment."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.payments.models import Payment
from tests.conftest import csrf_token
from tests.payments.support import euro, open_positions

PAGE = "/pagamenti/sportello"


def desk_form(client) -> dict[str, str]:
    """The hidden fields of a freshly shown desk form (CSRF token and idempotency key)."""
    html = client.get(PAGE).get_data(as_text=True)
    key = re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([^"]+)"', html)
    assert key, "the desk form carries no idempotency key"
    return {"csrf_token": csrf_token(client, PAGE), "idempotency_key": key.group(1)}


def _payments_of(position_id: int) -> list[Payment]:
    return list(db.session.scalars(sa.select(Payment).where(Payment.position_id == position_id)))


def test_the_same_desk_form_posted_twice_makes_one_payment_and_one_quietanza(app, personas) -> None:
    with app.app_context():
        (p,) = open_positions(db.session, skip=3)
    client = personas.client("sportello")
    data = {**desk_form(client), "ente": "R01", "reference": p.external_id, "amount": euro(100),
            "channel": "contanti"}
    first = client.post(PAGE, data=data)
    assert first.status_code == 302
    second = client.post(PAGE, data=data)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]  # the first payment's page...
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="receipt-link"' in page  # ...with its quietanza
    assert "già registrato con questo modulo" in page
    with app.app_context():
        payments = _payments_of(p.id)
        assert len(payments) == 1 and payments[0].receipt_number
        assert payments[0].idempotency_key == data["idempotency_key"]


def test_a_form_that_registered_a_payment_sent_again_with_other_data_asks_to_confirm(app, personas) -> None:
    """The Back button, then another amount in the same form: nothing is registered, the form comes back with
    a new key, and pressing the button again registers the new payment."""
    with app.app_context():
        (p,) = open_positions(db.session, skip=4)
    client = personas.client("sportello")
    data = {**desk_form(client), "ente": "R01", "reference": p.external_id, "amount": euro(100),
            "channel": "contanti"}
    assert client.post(PAGE, data=data).status_code == 302
    again = client.post(PAGE, data={**data, "amount": euro(200)})
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "ha già registrato la quietanza" in html
    new_key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)
    assert new_key != data["idempotency_key"]
    with app.app_context():
        assert len(_payments_of(p.id)) == 1
    response = client.post(PAGE, data={**data, "amount": euro(200), "idempotency_key": new_key})
    assert response.status_code == 302
    with app.app_context():
        assert sorted(x.amount_cents for x in _payments_of(p.id)) == [100, 200]


def test_a_desk_form_without_its_key_registers_nothing(app, personas) -> None:
    with app.app_context():
        (p,) = open_positions(db.session, skip=5)
    client = personas.client("sportello")
    data = {**desk_form(client), "ente": "R01", "reference": p.external_id, "amount": euro(100),
            "channel": "contanti"}
    for key in ("", "x' OR 1=1 --"):
        response = client.post(PAGE, data={**data, "idempotency_key": key})
        assert response.status_code == 200 and "ricarica la pagina" in response.get_data(as_text=True)
    with app.app_context():
        assert _payments_of(p.id) == []


def test_the_desk_button_is_disabled_by_a_static_script(app, personas) -> None:
    html = personas.client("sportello").get(PAGE).get_data(as_text=True)
    assert "data-submit-once" in html and "/static/js/submit-once.js" in html
    assert 'data-busy-label="Registrazione in corso…"' in html
