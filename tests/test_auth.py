"""Login with password and TOTP, throttling, CSRF, logout, headers, production config."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from app.demo.seed import DEMO_PASSWORD
from tests.conftest import csrf_token


def login(client, username: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_staff_login_enrols_totp_then_asks_for_it(app) -> None:
    client = app.test_client()
    response = login(client, "backoffice")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/attiva-verifica")
    page = client.get("/login/attiva-verifica").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "data:image/svg+xml" in page  # the QR code, served inline (CSP allows data: images)
    token = csrf_token(client, "/login/attiva-verifica")
    bad = client.post("/login/attiva-verifica", data={"code": "000000", "csrf_token": token})
    assert "Codice di verifica non valido" in bad.get_data(as_text=True)
    ok = client.post("/login/attiva-verifica", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200

    second = app.test_client()
    response = login(second, "backoffice")
    assert response.headers["Location"].endswith("/login/verifica")
    assert second.get("/").status_code == 302  # not logged in until the second factor
    token = csrf_token(second, "/login/verifica")
    assert (
        second.post(
            "/login/verifica", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
        ).status_code
        == 302
    )
    assert second.get("/").status_code == 200


def test_taxpayer_login_needs_no_second_factor(app) -> None:
    client = app.test_client()
    response = login(client, "contribuente")
    assert response.status_code == 302
    assert client.get("/la-mia-posizione").status_code == 200


def test_wrong_password_five_times_throttles_the_account(app) -> None:
    client = app.test_client()
    for attempt in range(4):
        response = login(client, "callcenter", "sbagliata")
        assert response.status_code == 401, attempt
        assert "Nome utente o password non corretti" in response.get_data(as_text=True)
    fifth = login(client, "callcenter", "sbagliata")
    assert fifth.status_code == 429
    assert "Troppi tentativi" in fifth.get_data(as_text=True)
    # even the right password is refused while the lock lasts
    locked = login(client, "callcenter")
    assert locked.status_code == 429


def test_unknown_user_gets_the_same_message(app) -> None:
    response = login(app.test_client(), "nessuno", "x")
    assert response.status_code == 401
    assert "Nome utente o password non corretti" in response.get_data(as_text=True)


def test_a_form_without_csrf_token_is_refused(app) -> None:
    response = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_logout_is_post_only_and_needs_csrf(app, personas) -> None:
    client = personas.client("sportello")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_security_headers_and_cookie_flags(app) -> None:
    client = app.test_client()
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_scripts(app, personas) -> None:
    """The CSP forbids inline scripts and styles: the templates must not rely on them."""
    html = personas.client("admin").get("/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "onclick=" not in html


def test_production_config_fails_fast_without_secrets(monkeypatch) -> None:
    from config import ConfigError, load_config

    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/esattoria")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    cfg = load_config("production")
    assert cfg.SESSION_COOKIE_SECURE is True and cfg.TOTP_REQUIRED is True
    monkeypatch.setenv("TOTP_REQUIRED", "false")
    with pytest.raises(ConfigError, match="TOTP_REQUIRED"):
        load_config("production")


def test_passwords_are_stored_with_argon2(app) -> None:
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        hashes = db.session.scalars(sa.select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_api_token_is_bound_to_its_ente_and_scopes(app) -> None:
    from app.auth.services import issue_api_token, revoke_api_token
    from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
    from app.enti.queries import get_ente_by_code
    from app.extensions import db

    with app.app_context():
        r01, r02 = get_ente_by_code(db.session, "R01"), get_ente_by_code(db.session, "R02")
        t1, clear1 = issue_api_token(
            db.session, name="R01 gestionale", ente_id=r01.id, scopes=["positions:read"], created_by_id=None
        )
        _, clear2 = issue_api_token(
            db.session, name="R02 gestionale", ente_id=r02.id, scopes=["positions:read"], created_by_id=None
        )
        _, clear3 = issue_api_token(
            db.session, name="R01 carichi", ente_id=r01.id, scopes=["carichi:write"], created_by_id=None
        )
        db.session.commit()
        assert clear1 not in str(t1.token_hash)
    client = app.test_client()

    def get(token: str, cf: str):
        return client.get(
            f"/api/v1/positions?codice_fiscale={cf}", headers={"Authorization": f"Bearer {token}"}
        )

    mine = get(clear1, MARIO_ROSSI_CF)
    assert mine.status_code == 200 and mine.json and all(p["ente"] == "R01" for p in mine.json)
    assert get(clear2, MARIO_ROSSI_CF).json == []
    assert get(clear2, SECOND_ENTE_CF).json[0]["ente"] == "R02"
    assert get(clear3, MARIO_ROSSI_CF).status_code == 403
    bad = get(clear1, "RSSMRA80A01H501X")
    assert bad.status_code == 422 and "Codice fiscale non valido" in bad.json["error"]
    with app.app_context():
        from app.auth.models import ApiToken

        revoke_api_token(db.session.get(ApiToken, t1.id))
        db.session.commit()
    assert get(clear1, MARIO_ROSSI_CF).status_code == 401


def test_admin_issues_and_revokes_tokens_from_the_screen(app, personas) -> None:
    client = personas.client("admin")
    token = csrf_token(client, "/amministrazione/token-api")
    from app.enti.queries import get_ente_by_code
    from app.extensions import db

    with app.app_context():
        ente_id = get_ente_by_code(db.session, "R01").id
    page = client.post(
        "/amministrazione/token-api",
        data={
            "name": "Sistema contabile",
            "ente_id": ente_id,
            "scopes": ["positions:read"],
            "csrf_token": token,
        },
    )
    html = page.get_data(as_text=True)
    issued = re.search(r'data-testid="issued-token"[^>]*>(esa_[^<]+)<', html).group(1)
    assert (
        app.test_client()
        .get(
            "/api/v1/positions?codice_fiscale=RSSMRA80A01H501U", headers={"Authorization": f"Bearer {issued}"}
        )
        .status_code
        == 200
    )
    from app.auth.models import ApiToken

    with app.app_context():
        token_id = db.session.scalars(
            sa.select(ApiToken.id).where(ApiToken.name == "Sistema contabile")
        ).one()
    client.post(
        f"/amministrazione/token-api/{token_id}/revoca",
        data={"csrf_token": csrf_token(client, "/amministrazione/token-api")},
    )
    assert (
        app.test_client()
        .get(
            "/api/v1/positions?codice_fiscale=RSSMRA80A01H501U", headers={"Authorization": f"Bearer {issued}"}
        )
        .status_code
        == 401
    )


def _address() -> str:
    """A client address of this test run alone (the counters live in Redis for a few minutes)."""
    import uuid

    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def test_failed_logins_from_one_address_are_throttled(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 3)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _address()
    # three wrong passwords, each for another account: no account reaches its own lock
    for username in ("nessuno", "regione", "sportello"):
        assert login(client, username, "sbagliata").status_code == 401
    refused = login(client, "contribuente")  # even right credentials, from this address
    assert refused.status_code == 429
    assert "Troppi accessi non riusciti da questo indirizzo" in refused.get_data(as_text=True)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = _address()
    assert login(other, "contribuente").status_code == 302  # another address is not affected


def test_the_forwarded_address_counts_behind_a_trusted_proxy(database_url, redis_settings) -> None:
    from tests.conftest import build_app

    proxied = build_app(database_url, TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_IP=2, **redis_settings)
    first, second = _address(), _address()
    client = proxied.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = first
    for _ in range(2):
        assert login(client, "nessuno", "sbagliata").status_code == 401
    assert login(client, "nessuno", "sbagliata").status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = second  # same proxy socket, another client
    assert login(client, "nessuno", "sbagliata").status_code == 401
    from app.extensions import db

    with proxied.app_context():
        db.engine.dispose()


def test_wrong_totp_codes_send_the_user_back_to_the_password(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "TOTP_MAX_FAILURES", 3)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _address()
    path = login(client, "admin").headers["Location"]
    assert path.endswith(("/login/verifica", "/login/attiva-verifica"))
    token = csrf_token(client, path)
    for _ in range(3):
        wrong = client.post(path, data={"code": "000000", "csrf_token": token})
        assert "Codice di verifica non valido" in wrong.get_data(as_text=True)
    blocked = client.post(path, data={"code": "000000", "csrf_token": token})
    assert blocked.status_code == 303 and blocked.headers["Location"].endswith("/login")
    assert client.get(path).status_code == 302  # the pending login is gone
    assert "Troppi codici di verifica errati" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/"])
def test_next_never_leaves_the_site(app, target) -> None:
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "contribuente", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_next_keeps_a_path_of_the_site(app) -> None:
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        query_string={"next": "/la-mia-posizione"},
        data={"username": "contribuente", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/la-mia-posizione")
