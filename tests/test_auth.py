"""Login with password and TOTP, throttling, CSRF, logout, headers, production config."""

from __future__ import annotations

import re
import time

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
    # the enrolment used the code of this 30-second step: the next step's code (accepted one step early)
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    assert second.post("/login/verifica", data={"code": next_code, "csrf_token": token}).status_code == 302
    assert second.get("/").status_code == 200


def test_taxpayer_login_needs_no_second_factor(app) -> None:
    client = app.test_client()
    response = login(client, "contribuente")
    assert response.status_code == 302
    assert client.get("/self-service/").status_code == 200


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
    response = login(app.test_client(), _unknown_name(), "x")
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


def _unknown_name() -> str:
    """A username no user has, of this test alone (an unknown name's failures are counted in Redis too)."""
    import uuid

    return f"nessuno-{uuid.uuid4().hex[:12]}"


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
    for username in (_unknown_name(), "regione", "sportello"):
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
    nobody = _unknown_name()
    client = proxied.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = first
    for _ in range(2):
        assert login(client, nobody, "sbagliata").status_code == 401
    assert login(client, nobody, "sbagliata").status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = second  # same proxy socket, another client
    assert login(client, nobody, "sbagliata").status_code == 401
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


# --- issue 10: redirects, sessions, TOTP replay, lockout, API token use ---------------------------------


@pytest.mark.parametrize(
    "raw_next",
    [
        "/%09/evil.example/phish",
        "/%0A/evil.example/x",
        "/%0D%0A/x",
        "/%09%09/evil.example",
        "%09//evil.example",
        "/%00/evil.example",
    ],
)
def test_next_with_control_characters_neither_leaves_the_site_nor_fails(app, raw_next) -> None:
    """Werkzeug drops a tab from the Location it writes ("/\\t/host" becomes "//host") and a newline cannot
    go into a header (a 500 after a good login): the check runs on the normalised form."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        f"/login?next={raw_next}",
        data={"username": "contribuente", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location
    assert client.get(location).status_code in (200, 302)


def test_local_path_normalises_before_checking() -> None:
    from app.core.security import local_path

    assert local_path("/\t/evil.example/phish") is None
    assert local_path("/\n/x") is None
    assert local_path("/\\evil.example") is None
    assert local_path("http:/evil.example") is None
    assert local_path("/posizioni/?stato=aperta") == "/posizioni/?stato=aperta"
    assert local_path("/contribuenti/?q=città") == "/contribuenti/?q=citt%C3%A0"


def _enrol(client, username: str, next_path: str | None = None) -> tuple[str, object]:
    """Password then TOTP enrolment for a staff user; returns the TOTP secret and the final response."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        query_string={"next": next_path} if next_path else None,
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/login/attiva-verifica")
    page = client.get("/login/attiva-verifica").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    token = csrf_token(client, "/login/attiva-verifica")
    done = client.post("/login/attiva-verifica", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    return secret, done


def test_staff_next_survives_the_second_factor(app) -> None:
    client = app.test_client()
    secret, done = _enrol(client, "backoffice", "/posizioni/?stato=aperta")
    assert done.status_code == 302 and done.headers["Location"] == "/posizioni/?stato=aperta"
    # and with an enrolled secret: the code step of the next login
    other = app.test_client()
    token = csrf_token(other, "/login")
    response = other.post(
        "/login",
        query_string={"next": "/carichi/"},
        data={"username": "backoffice", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/login/verifica")
    token = csrf_token(other, "/login/verifica")
    code = pyotp.TOTP(secret).at(time.time() + 30)
    ok = other.post("/login/verifica", data={"code": code, "csrf_token": token})
    assert ok.status_code == 302 and ok.headers["Location"] == "/carichi/"


def test_a_totp_code_is_accepted_once(app) -> None:
    first = app.test_client()
    secret, done = _enrol(first, "sportello")
    assert done.status_code == 302
    used = pyotp.TOTP(secret).now()
    second = app.test_client()
    response = login(second, "sportello")
    assert response.headers["Location"].endswith("/login/verifica")
    token = csrf_token(second, "/login/verifica")
    replay = second.post("/login/verifica", data={"code": used, "csrf_token": token})
    assert replay.status_code == 200 and "Codice di verifica già usato" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302  # not logged in
    # an earlier step (still in the window) is refused too; the next step is good once
    earlier = pyotp.TOTP(secret).at(time.time() - 30)
    assert "già usato" in second.post(
        "/login/verifica", data={"code": earlier, "csrf_token": token}
    ).get_data(as_text=True) or earlier == used
    following = pyotp.TOTP(secret).at(time.time() + 30)
    assert second.post("/login/verifica", data={"code": following, "csrf_token": token}).status_code == 302
    assert second.get("/").status_code == 200


def test_verify_totp_claims_the_step_once(app) -> None:
    """Service level, on a fixed clock: the step of a code is recorded and the same step is refused."""
    import datetime as dt

    from app.auth.services import LoginRefused, verify_totp
    from app.extensions import db
    from tests.conftest import user_by_name

    now = dt.datetime(2026, 12, 3, 10, 0, 15, tzinfo=dt.UTC)
    with app.app_context():
        user = user_by_name("admin")
        user.totp_secret = pyotp.random_base32()
        totp = pyotp.TOTP(user.totp_secret)
        verify_totp(db.session, user, totp.at(now), now=now)
        assert user.totp_last_step == totp.timecode(now)
        with pytest.raises(LoginRefused, match="già usato"):
            verify_totp(db.session, user, totp.at(now), now=now + dt.timedelta(seconds=20))
        with pytest.raises(LoginRefused, match="già usato"):  # the previous step, still in the window
            verify_totp(db.session, user, totp.at(now - dt.timedelta(seconds=30)), now=now)
        verify_totp(db.session, user, totp.at(now + dt.timedelta(seconds=30)), now=now)
        db.session.rollback()


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_logout_ends_a_copied_session_cookie(app, personas) -> None:
    client = personas.client("regione")
    assert client.get("/posizioni/").status_code == 200
    copied = _session_cookie(client)
    assert _replay(app, copied).get("/posizioni/").status_code == 200  # the copy works before the logout
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    thief = _replay(app, copied)
    for path in ("/posizioni/", "/posizioni/esporta.csv", "/contribuenti/"):
        response = thief.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user: setattr(user, "password_hash", "$argon2id$changed"), id="password"),
        pytest.param(lambda user: setattr(user, "role", "callcenter"), id="role"),
        pytest.param(lambda user: setattr(user, "active", False), id="disabled"),
        pytest.param(lambda user: user.enti.pop(), id="enti"),
    ],
)
def test_password_role_ente_or_status_change_ends_every_session(app, personas, change) -> None:
    from app.extensions import db
    from tests.conftest import user_by_name

    first, second = personas.client("backoffice"), personas.client("backoffice")
    assert first.get("/posizioni/").status_code == 200
    with app.app_context():
        change(user_by_name("backoffice"))
        db.session.commit()
    for client in (first, second):
        response = client.get("/posizioni/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unrelated_change_keeps_the_session(app, personas) -> None:
    from app.extensions import db
    from tests.conftest import user_by_name

    client = personas.client("backoffice")
    with app.app_context():
        user_by_name("backoffice").display_name = "Bruno B."
        db.session.commit()
    assert client.get("/posizioni/").status_code == 200


def _without_time(text: str) -> str:
    return re.sub(r"\d\d:\d\d", "HH:MM", text)


def test_unknown_and_existing_usernames_answer_alike(app, monkeypatch) -> None:
    """Same statuses and messages at every attempt, lock included: the answers tell no username apart."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)

    def answers(username: str) -> list[tuple[int, str]]:
        client = app.test_client()
        out = []
        for _ in range(5):
            response = login(client, username, "sbagliata")
            html = response.get_data(as_text=True)
            said = [_without_time(m) for m in re.findall(r"(Nome utente o password[^<.]*|Troppi[^<]*)", html)]
            out.append((response.status_code, " | ".join(said)))
        return out

    existing, unknown = answers("callcenter"), answers(_unknown_name())
    assert [status for status, _ in existing] == [401, 401, 429, 429, 429]
    assert existing == unknown


def test_api_token_last_use_is_recorded_by_a_request_that_commits_nothing(app) -> None:
    """GET /api/v1/jobs/<id> commits nothing of its own (here: no such job, 404): the use is still kept."""
    from app.auth.models import ApiToken
    from app.auth.services import issue_api_token
    from app.enti.queries import get_ente_by_code
    from app.extensions import db

    with app.app_context():
        token, clear = issue_api_token(
            db.session,
            name="R01 stato elaborazioni",
            ente_id=get_ente_by_code(db.session, "R01").id,
            scopes=["jobs:read"],
            created_by_id=None,
        )
        db.session.commit()
        token_id = token.id
    response = app.test_client().get("/api/v1/jobs/2147483000", headers={"Authorization": f"Bearer {clear}"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_dt is not None
