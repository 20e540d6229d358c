"""The taxpayer's consents and preferred channel from the portal: each change a new version with source
"contribuente" and an event; the messages module then respects them (an SMS without consent is refused)."""

from __future__ import annotations

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from tests.conftest import csrf_token


def _consents(app) -> dict[str, tuple[bool, bool, str]]:
    from app.crm.messages.models import Consent
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        mario = db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).one()
        rows = db.session.scalars(
            sa.select(Consent).where(Consent.taxpayer_id == mario, Consent.valid_to_dt.is_(None))
        )
        return {c.channel: (c.granted, c.preferred, c.source) for c in rows}


def test_the_taxpayer_grants_email_prefers_it_and_refuses_sms(app, personas) -> None:
    client = personas.client("contribuente")
    page = client.get("/self-service/recapiti").get_data(as_text=True)
    assert 'data-testid="self-consents"' in page and 'name="consenso_sms"' in page
    token = csrf_token(client, "/self-service/recapiti")
    response = client.post(
        "/self-service/recapiti/consensi",
        data={"csrf_token": token, "consenso_email": "s", "preferito": "email"},
        follow_redirects=True,
    )
    assert "Consensi aggiornati: E-mail" in response.get_data(as_text=True)
    consents = _consents(app)
    assert consents["email"] == (True, True, "contribuente")
    assert consents["sms"] == (False, False, "contribuente")
    again = client.post(
        "/self-service/recapiti/consensi",
        data={"csrf_token": token, "consenso_email": "s", "preferito": "email"},
        follow_redirects=True,
    )
    assert "Nessun consenso cambiato." in again.get_data(as_text=True)  # nothing new: no new version


def test_a_preferred_channel_without_consent_is_refused_in_italian(app, personas) -> None:
    client = personas.client("contribuente")
    token = csrf_token(client, "/self-service/recapiti")
    response = client.post(
        "/self-service/recapiti/consensi",
        data={"csrf_token": token, "preferito": "sms"},
        follow_redirects=True,
    )
    assert "Il canale preferito deve avere il consenso." in response.get_data(as_text=True)
    assert _consents(app).get("sms", (False, False, ""))[1] is False
