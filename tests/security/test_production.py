"""The production settings (APP_ENV=production with its required environment) on the real database: HSTS and
secure cookies, logout that ends a copied cookie, a TOTP code good once, the absolute and idle lifetimes of a
session. Time moves through `app.core.security.clock` (patched), never by sleeping."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.demo.seed import DEMO_PASSWORD
from tests.conftest import csrf_token


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("app.core.security.clock", fake)
    return fake


@pytest.fixture
def prod(
    app: Flask, database_url: str, redis_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """create_app("production") from the environment alone, on the suite's database (migrated and seeded by
    `app`), each test inside a transaction rolled back at the end like the rest of the suite."""
    import os

    from app import create_app
    from app.extensions import db

    redis_url = os.environ.get("REDIS_URL") or "unix://" + os.path.join(
        os.path.abspath(redis_settings["INSTANCE_DIR"]), "redis.sock"
    )
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "production-test-" + "x" * 32)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("TOTP_REQUIRED", raising=False)
    production = create_app()
    assert production.config["APP_ENV"] == "production" and production.config["SESSION_COOKIE_SECURE"]
    with production.app_context():
        engines = db.engines
        saved = {}
        for key, engine in engines.items():
            conn = engine.connect()
            saved[key] = (engine, conn, conn.begin())
            engines[key] = conn
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield production
    finally:
        with production.app_context():
            db.session.remove()
            for key, (engine, conn, trans) in saved.items():
                trans.rollback()
                conn.close()
                engines[key] = engine
                engine.dispose()


def https_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def password_step(client: FlaskClient, username: str, next_path: str | None = None):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        query_string={"next": next_path} if next_path else None,
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
    )


def enrol(client: FlaskClient, username: str) -> tuple[str, str]:
    """Password and TOTP enrolment of a staff user: (secret, the code used)."""
    assert password_step(client, username).headers["Location"].endswith("/login/attiva-verifica")
    page = client.get("/login/attiva-verifica").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    code = pyotp.TOTP(secret).at(client_clock_now())
    token = csrf_token(client, "/login/attiva-verifica")
    done = client.post("/login/attiva-verifica", data={"code": code, "csrf_token": token})
    assert done.status_code == 302 and client.get("/").status_code == 200
    return secret, code


def client_clock_now() -> dt.datetime:
    from app.core import security

    return security.clock()


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    thief = https_client(app)
    thief.set_cookie("session", cookie)
    return thief


def ended(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_hsts_and_cookie_flags(prod: Flask) -> None:
    response = https_client(prod).get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    assert prod.config["REMEMBER_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_HTTPONLY"]


def test_a_cookie_replayed_after_logout_reads_nothing(prod: Flask, clock: Clock) -> None:
    client = https_client(prod)
    enrol(client, "backoffice")
    card = client.get("/contribuenti/?q=RSSMRA80A01H501U").get_data(as_text=True)
    card_path = re.search(r'href="(/contribuenti/\d+)"', card).group(1)
    paths = [card_path, f"{card_path}/posizioni.csv", "/posizioni/esporta.csv"]
    copied = session_cookie(client)
    for path in paths:
        assert replay(prod, copied).get(path).status_code == 200, path  # the copy works before the logout
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for path in paths:
        assert ended(replay(prod, copied).get(path)), path
    assert ended(client.get("/"))


def test_a_totp_code_is_accepted_once(prod: Flask, clock: Clock) -> None:
    secret, used = enrol(https_client(prod), "sportello")
    again = https_client(prod)
    assert password_step(again, "sportello").headers["Location"].endswith("/login/verifica")
    token = csrf_token(again, "/login/verifica")
    refused = again.post("/login/verifica", data={"code": used, "csrf_token": token})
    assert refused.status_code == 200 and "già usato" in refused.get_data(as_text=True)
    assert ended(again.get("/"))
    clock.advance(seconds=30)  # the next step's code is a new one
    fresh = pyotp.TOTP(secret).at(clock.now)
    assert again.post("/login/verifica", data={"code": fresh, "csrf_token": token}).status_code == 302
    assert again.get("/").status_code == 200


def test_the_absolute_lifetime_ends_a_session_in_constant_use(prod: Flask, clock: Clock) -> None:
    hours = prod.config["SESSION_ABSOLUTE_HOURS"]
    assert hours == 12
    client = https_client(prod)
    enrol(client, "callcenter")
    login_at = clock.now
    while clock.now - login_at < dt.timedelta(hours=hours) - dt.timedelta(minutes=20):
        clock.advance(minutes=20)  # a request every 20 minutes: never idle
        assert client.get("/posizioni/").status_code == 200, clock.now - login_at
    clock.advance(minutes=20)
    assert clock.now - login_at >= dt.timedelta(hours=hours)
    assert ended(client.get("/posizioni/"))
    assert ended(client.get("/posizioni/"))  # and it stays ended


def test_the_idle_timeout_ends_a_session_left_alone(prod: Flask, clock: Clock) -> None:
    idle = prod.permanent_session_lifetime
    assert idle == dt.timedelta(minutes=30)
    client = https_client(prod)
    enrol(client, "regione")
    clock.advance(seconds=idle.total_seconds() - 60)
    assert client.get("/posizioni/").status_code == 200  # a request in time renews it
    copied = session_cookie(client)
    clock.advance(seconds=idle.total_seconds() - 60)
    assert client.get("/posizioni/").status_code == 200
    clock.advance(seconds=idle.total_seconds() + 1)
    assert ended(client.get("/posizioni/"))
    assert ended(replay(prod, copied).get("/posizioni/"))  # an older copy of the cookie is older still


def test_a_request_that_changes_nothing_sends_no_cookie_back(prod: Flask, clock: Clock) -> None:
    """A stylesheet or a fragment fetched while a form posts must not answer with the older cookie: it would
    overwrite the one carrying the form's flash message (seen as a lost "scrivi il motivo" in the browser)."""
    client = https_client(prod)
    enrol(client, "backoffice")
    assert client.get("/static/js/app.js").status_code == 200
    assert "Set-Cookie" not in client.get("/static/js/app.js").headers  # a static file: no session at all
    assert "Set-Cookie" not in client.get("/posizioni/").headers  # within the minute: nothing changed
    clock.advance(seconds=61)
    assert "Set-Cookie" in client.get("/posizioni/").headers  # the idle stamp moved: the cookie goes back
    assert "Set-Cookie" not in client.get("/posizioni/").headers
