"""SPID/CIE login through a real local OpenID provider: the happy path (existing account, account created at
the first login, no taxpayer), and the refusals: tampered signature, expired ID token, wrong audience,
replayed nonce, a state that does not match."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app.auth.models import User
from app.core.audit import Event
from app.extensions import db
from app.selfservice import oidc
from app.taxpayers.models import Taxpayer, TaxpayerEnte
from tests.selfservice.conftest import MARIO_CF, Broker, authorize, callback_path, nonce_in, start_login


def _events(app: Flask, kind: str) -> list[Event]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Event).where(Event.kind == kind).order_by(Event.id)))
        db.session.remove()
        return rows


def _login(app: Flask, broker: Broker, sub: str, claims: dict, **authorize_kw):
    broker.put_user(sub, claims)
    client = app.test_client()
    url = start_login(client)
    back = authorize(url, sub, **authorize_kw)
    return client, client.get(callback_path(back)), url


def test_the_authorization_request_carries_pkce_state_and_nonce(oidc_app: Flask) -> None:
    url = start_login(oidc_app.test_client())
    from tests.selfservice.conftest import query_of

    query = query_of(url)
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert len(query["state"]) >= 32 and len(nonce_in(url)) >= 32
    assert query["client_id"] == "esattoria-test" and "openid" in query["scope"].split()


def test_spid_login_with_tinit_fiscal_number_opens_the_portal(oidc_app: Flask, broker: Broker) -> None:
    client, response, _ = _login(
        oidc_app, broker, "spid-mario", {"fiscalNumber": f"TINIT-{MARIO_CF}", "given_name": "Mario"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/self-service/"), (
        response.get_data(as_text=True)[:500]
    )
    page = client.get("/self-service/")
    assert page.status_code == 200
    assert MARIO_CF in page.get_data(as_text=True)
    assert _events(oidc_app, "selfservice.login")


def test_first_login_creates_the_account_of_a_known_taxpayer(oidc_app: Flask, broker: Broker) -> None:
    with oidc_app.app_context():
        has_account = sa.select(User.taxpayer_id).where(User.taxpayer_id.is_not(None))
        taxpayer = db.session.scalars(
            sa.select(Taxpayer)
            .where(
                Taxpayer.kind == "PF",
                Taxpayer.id.not_in(has_account),
                sa.exists().where(TaxpayerEnte.taxpayer_id == Taxpayer.id),
            )
            .order_by(Taxpayer.id)
        ).first()
        cf, taxpayer_id = taxpayer.codice_fiscale, taxpayer.id
        db.session.remove()
    client, response, _ = _login(oidc_app, broker, f"cie-{cf}", {"fiscalNumber": cf})  # a plain CF (CIE)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with oidc_app.app_context():
        user = db.session.scalars(sa.select(User).where(User.taxpayer_id == taxpayer_id)).one()
        assert user.role == "contribuente"
        db.session.remove()
    assert cf in client.get("/self-service/").get_data(as_text=True)


def test_no_taxpayer_with_that_fiscal_code_gets_a_clear_page(oidc_app: Flask, broker: Broker) -> None:
    from codicefiscale import codicefiscale

    cf = codicefiscale.encode(
        lastname="Sconosciutissimo", firstname="Zeno", gender="M", birthdate="03/03/1933", birthplace="Roma"
    )
    with oidc_app.app_context():
        assert db.session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf)) is None
        users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        db.session.remove()
    _, response, _ = _login(oidc_app, broker, "spid-zeno", {"fiscalNumber": f"TINIT-{cf}"})
    assert response.status_code == 403
    assert "Nessuna posizione a suo nome" in response.get_data(as_text=True)
    with oidc_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
        db.session.remove()


def test_an_invalid_fiscal_code_is_refused(oidc_app: Flask, broker: Broker) -> None:
    _, response, _ = _login(oidc_app, broker, "spid-bad-cf", {"fiscalNumber": "TINIT-RSSMRA80A01H501X"})
    assert response.status_code == 401
    assert "codice fiscale" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "mode,reason,message",
    [
        ("tamper", "signature", "la firma non corrisponde"),
        ("other_client", "audience", "rilasciata per un altro servizio"),
    ],
)
def test_a_bad_id_token_is_refused(
    oidc_app: Flask, broker: Broker, mode: str, reason: str, message: str
) -> None:
    broker.mode = mode
    kw = {"client_id": "altro-servizio"} if mode == "other_client" else {}
    client, response, _ = _login(
        oidc_app, broker, f"spid-{mode}", {"fiscalNumber": f"TINIT-{MARIO_CF}"}, **kw
    )
    assert mode in broker.seen
    assert response.status_code == 401, response.get_data(as_text=True)[:500]
    assert message in response.get_data(as_text=True)
    refusals = _events(oidc_app, "selfservice.login_refused")
    assert refusals and refusals[-1].payload["reason"] == reason
    assert client.get("/self-service/").status_code == 302  # not logged in: to the login


def test_an_expired_id_token_is_refused(
    oidc_app: Flask, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(oidc_app.config, "OIDC_DISCOVERY_URL", broker.discovery("expired"))
    broker.put_user("spid-expired", {"fiscalNumber": f"TINIT-{MARIO_CF}"}, name="expired")
    client = oidc_app.test_client()
    back = authorize(start_login(client), "spid-expired")
    response = client.get(callback_path(back))
    assert response.status_code == 401
    assert "Identità digitale scaduta" in response.get_data(as_text=True)
    assert _events(oidc_app, "selfservice.login_refused")[-1].payload["reason"] == "expired"


def test_a_replayed_nonce_is_refused(
    oidc_app: Flask, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ID token whose nonce was already used for a login (the same answer played again, even in a
    session that asked with that very nonce) opens nothing."""
    fixed = oidc.random_value()
    monkeypatch.setattr(oidc, "new_nonce", lambda: fixed)
    _, first, _ = _login(oidc_app, broker, "spid-replay", {"fiscalNumber": f"TINIT-{MARIO_CF}"})
    assert first.status_code == 302
    broker.mode = "replay"  # the broker's old answer comes back
    attacker = oidc_app.test_client()
    url = start_login(attacker)
    assert nonce_in(url) == fixed
    from tests.selfservice.conftest import query_of

    state = query_of(url)["state"]
    response = attacker.get(f"/self-service/accesso/ritorno?code=vecchio&state={state}")
    assert response.status_code == 401
    assert "già usata" in response.get_data(as_text=True)
    assert _events(oidc_app, "selfservice.login_refused")[-1].payload["reason"] == "nonce_replayed"
    assert attacker.get("/self-service/").status_code == 302


def test_an_old_answer_for_another_login_is_refused(oidc_app: Flask, broker: Broker) -> None:
    _, first, _ = _login(oidc_app, broker, "spid-old", {"fiscalNumber": f"TINIT-{MARIO_CF}"})
    assert first.status_code == 302
    broker.mode = "replay"
    client = oidc_app.test_client()
    from tests.selfservice.conftest import query_of

    state = query_of(start_login(client))["state"]
    response = client.get(f"/self-service/accesso/ritorno?code=vecchio&state={state}")
    assert response.status_code == 401
    assert _events(oidc_app, "selfservice.login_refused")[-1].payload["reason"] in ("nonce", "nonce_replayed")


def test_a_callback_without_a_pending_login_or_with_another_state_is_refused(oidc_app: Flask) -> None:
    client = oidc_app.test_client()
    assert client.get("/self-service/accesso/ritorno?code=x&state=y").status_code == 401
    start_login(client)
    response = client.get("/self-service/accesso/ritorno?code=x&state=" + "a" * 48)
    assert response.status_code == 401
    assert "ricominciare" in response.get_data(as_text=True)


def test_password_login_of_taxpayers_is_off_unless_the_demo_setting(app: Flask, monkeypatch) -> None:
    from app.demo.seed import DEMO_PASSWORD
    from tests.conftest import csrf_token

    monkeypatch.setitem(app.config, "SELF_SERVICE_PASSWORD_LOGIN", False)
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": "contribuente",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 403
    assert "SPID o CIE" in response.get_data(as_text=True)
    assert client.get("/self-service/").status_code == 302


@pytest.mark.parametrize(
    "claims,expected",
    [
        ({"fiscalNumber": f"TINIT-{MARIO_CF}"}, MARIO_CF),
        ({"fiscalNumber": f"tinit-{MARIO_CF.lower()}"}, MARIO_CF),
        ({"fiscalNumber": MARIO_CF}, MARIO_CF),
        ({"https://attributes.eid.gov.it/fiscal_number": f"TINIT-{MARIO_CF}"}, MARIO_CF),
        ({"email": "x@example.org"}, None),
    ],
)
def test_the_fiscal_code_is_read_from_spid_and_cie_claims(claims: dict, expected: str | None) -> None:
    assert oidc.fiscal_code_of(claims) == expected


def test_a_malformed_fiscal_code_claim_is_refused() -> None:
    with pytest.raises(oidc.LoginError) as refused:
        oidc.fiscal_code_of({"fiscalNumber": "TINIT-NONVALIDO"})
    assert refused.value.code == "fiscal_number"
