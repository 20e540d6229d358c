"""Cancel on the jobs page reaches a job that a real RQ worker (a separate process, forking work-horses in
their own process group) is running: the work-horse is killed, the RQ job is stopped, the row is cancelled
(issue 10: `kill -9` of the worker's process group left the work-horse running the import)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job, JobStatus

from app.core.audit import Actor
from app.enti.models import Ente
from app.extensions import db
from app.jobs import services
from app.jobs.models import BatchJob
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys
from redis import Redis
from rq import Worker
Worker([sys.argv[2]], connection=Redis.from_url(sys.argv[1]), name=sys.argv[3]).work(burst=False)
"""


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def worker(app, tmp_path):
    """A real RQ worker process on a queue of this test's own (its own session, as under a supervisor)."""
    from app.core.jobs import connection

    url = app.config.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL (the worker process connects to it)")
    name = f"test-cancel-{uuid.uuid4().hex[:8]}"
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, name, name],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with app.app_context():
            yield Queue(name, connection=connection()), process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def test_cancel_stops_the_work_horse_of_a_running_job(app, personas, worker, tmp_path) -> None:
    queue, process = worker
    pid_file = tmp_path / "horse.pid"
    with app.app_context():
        ente = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        job = services.create_job(
            db.session,
            kind="carico",
            task="tests.jobs.slow_task.sleep_and_report",
            actor=Actor.system("test annulla"),
            ente_id=ente.id,
            file_name="lenta.csv",
            enqueue=False,
        )
        job.rq_job_id = f"batch-{job.id}-{uuid.uuid4().hex[:6]}"
        rq_id = job.rq_job_id
        services.claim_job(db.session, job.id)  # the run has started: status "running"
        db.session.commit()
        job_id = job.id
        queue.enqueue(
            "tests.jobs.slow_task.sleep_and_report", str(pid_file), 120, job_id=rq_id, job_timeout=300
        )
    _wait(pid_file.exists, 60, "the work-horse to start the job")
    horse = int(pid_file.read_text())
    try:
        _cancel_and_check(app, personas, queue, process, job_id, rq_id, horse)
    finally:
        if _alive(horse):  # the test failed: do not leave the sleeping horse behind
            os.kill(horse, signal.SIGKILL)


def _cancel_and_check(app, personas, queue, process, job_id: int, rq_id: str, horse: int) -> None:
    assert horse != process.pid and _alive(horse)
    assert os.getpgid(horse) != os.getpgid(process.pid)  # why killing the worker's group missed it

    client = personas.client("backoffice")
    page = client.get("/elaborazioni/").get_data(as_text=True)
    assert f'action="/elaborazioni/{job_id}/annulla"' in page
    response = client.post(
        f"/elaborazioni/{job_id}/annulla",
        data={"csrf_token": csrf_token(client, "/elaborazioni/")},
        follow_redirects=True,
    )
    assert "il worker la interrompe" in response.get_data(as_text=True)

    _wait(lambda: not _alive(horse), 30, "the work-horse to be killed")
    with app.app_context():
        rq_job = Job.fetch(rq_id, connection=queue.connection)
        _wait(lambda: rq_job.get_status() == JobStatus.STOPPED, 30, "the RQ job to be stopped")
        assert rq_job.return_value() is None
        db.session.expire_all()
        row = db.session.get(BatchJob, job_id)
        assert (row.status, row.phase) == ("cancelled", "Annullato")
    assert process.poll() is None  # the worker itself goes on serving the queues
