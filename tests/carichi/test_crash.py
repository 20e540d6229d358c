"""Killing the worker in the middle of the load leaves nothing visible; running the job again completes it.

On its own database (a separate process must see committed data, so the per-test rolled-back transaction
cannot be used), with the import run by a child process that is SIGKILLed once the load transaction is
writing ledger movements."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.carichi.support import csv_bytes, row
from tests.conftest import _create_database, _drop_database, build_app, migrate_and_seed

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
ROWS = 25_000
CHILD = """
import sys
from app import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "FILE_STORE": sys.argv[2]})
with app.app_context():
    from app.carichi.tasks import run_import
    print(run_import(int(sys.argv[3])))
"""


@pytest.fixture
def crash_app(pg_server: str, tmp_path: Path) -> Iterator:
    url = _create_database(pg_server, "esattoria_crash")
    app = build_app(url, FILE_STORE=str(tmp_path / "store"))
    migrate_and_seed(app)
    yield app, url
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _drop_database(url)


def _counts(engine: sa.Engine, sha: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(sa.text(sql), {"sha": sha}).scalar_one()
            for name, sql in {
                "carichi": "SELECT count(*) FROM carichi WHERE file_sha256 = :sha",
                "positions": "SELECT count(*) FROM positions",
                "movements": "SELECT count(*) FROM movements",
                "taxpayers": "SELECT count(*) FROM taxpayers",
                "events": "SELECT count(*) FROM events",
                "addresses": "SELECT count(*) FROM taxpayer_addresses",
            }.items()
        }


def _child(url: str, store: str, job_id: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, store, str(job_id)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_a_worker_killed_during_the_load_leaves_nothing_and_a_rerun_completes(crash_app) -> None:
    app, url = crash_app
    from app.carichi import services
    from app.core.audit import Actor
    from app.extensions import db
    from app.jobs.files import store_stream

    content = csv_bytes([row(n) for n in range(1, ROWS + 1)])
    with app.app_context():
        target = services.resolve_target(db.session, ente_code="R01", entrata_code="TASSA_AUTO")
        stored = store_stream(app.config["FILE_STORE"], io.BytesIO(content))
        job_id = services.create_import_job(
            db.session, Actor.system("test"), target, stored, "grande.csv", enqueue=False
        ).id
        db.session.commit()
    engine = sa.create_engine(url)
    before = _counts(engine, stored.sha256)
    child = _child(url, app.config["FILE_STORE"], job_id)
    deadline = time.monotonic() + 300
    phase = None
    while time.monotonic() < deadline and child.poll() is None:
        with engine.connect() as conn:
            phase = conn.execute(
                sa.text("SELECT phase FROM batch_jobs WHERE id = :id"), {"id": job_id}
            ).scalar()
        if phase in ("Caricamento: movimenti contabili", "Caricamento: eventi"):
            break
        time.sleep(0.05)
    assert child.poll() is None, child.communicate()
    os.killpg(child.pid, signal.SIGKILL)  # the worker and any helper process it started
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert _counts(engine, stored.sha256) == before  # nothing of the file is visible
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status, attempts FROM batch_jobs WHERE id = :id"), {"id": job_id}
        ).one()
    assert tuple(status) == ("running", 1)  # left as the dead worker left it

    rerun = _child(url, app.config["FILE_STORE"], job_id)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-3000:]
    after = _counts(engine, stored.sha256)
    assert after["carichi"] == 1 and after["positions"] == before["positions"] + ROWS
    assert after["movements"] == before["movements"] + 3 * ROWS
    assert after["events"] - before["events"] >= ROWS
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status, attempts, rows_done, rows_total FROM batch_jobs WHERE id = :id"),
            {"id": job_id},
        ).one()
    assert tuple(status) == ("done", 2, ROWS, ROWS)
    engine.dispose()
