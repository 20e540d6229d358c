"""Claiming a job is compare-and-set; only the latest attempt may finish it; progress is written apart."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.audit import Actor
from app.core.db import utcnow
from app.core.errors import Conflict
from app.extensions import db
from app.jobs import services
from app.jobs.models import BatchJob
from app.jobs.progress import ProgressReporter


def _job() -> BatchJob:
    job = services.create_job(
        db.session,
        kind="carico",
        task="app.jobs.tasks.healthcheck",
        actor=Actor.system("t"),
        ente_id=None,
        enqueue=False,
    )
    db.session.commit()
    return job


def test_claim_is_compare_and_set_and_the_latest_attempt_wins(ctx) -> None:
    job = _job()
    first = services.claim_job(db.session, job.id)
    assert first is not None and first.attempt == 1 and first.job.status == "running"
    second = services.claim_job(db.session, job.id)  # a run after a crash takes the job over
    assert second is not None and second.attempt == 2
    assert services.finish_job(db.session, first, status="done", result={}) is False
    assert services.finish_job(db.session, second, status="done", result={"ok": True}) is True
    assert services.claim_job(db.session, job.id) is None  # done: nothing left to do
    assert db.session.get(BatchJob, job.id).result == {"ok": True}


def test_a_running_job_can_be_cancelled_and_then_records_nothing(ctx) -> None:
    """Issue 10: cancel reaches a running job; its run may not finish it (the run rolls back instead)."""
    job = _job()
    claim = services.claim_job(db.session, job.id)
    assert services.cancel_job(db.session, db.session.get(BatchJob, job.id)) == "running"
    assert services.finish_job(db.session, claim, status="done", result={"ok": True}) is False
    db.session.expire_all()
    stored = db.session.get(BatchJob, job.id)
    assert (stored.status, stored.phase, stored.result) == ("cancelled", "Annullato", None)


@pytest.mark.parametrize("status", ["done", "failed", "cancelled"])
def test_a_finished_job_cannot_be_cancelled(ctx, status) -> None:
    job = _job()
    job.status = status
    db.session.flush()
    with pytest.raises(Conflict, match="in coda o in corso"):
        services.cancel_job(db.session, job)


def test_retry_a_running_job_only_when_its_worker_went_silent(ctx) -> None:
    job = _job()
    claim = services.claim_job(db.session, job.id)
    with pytest.raises(Conflict):
        services.retry_job(db.session, claim.job)
    claim.job.heartbeat_dt = utcnow() - dt.timedelta(minutes=11)
    services.retry_job(db.session, claim.job)
    assert claim.job.status == "queued"


def test_progress_writes_rows_eta_and_phase(ctx) -> None:
    job = _job()
    services.claim_job(db.session, job.id)
    reporter = ProgressReporter(db.engine, job.id, interval=0)
    reporter.started -= 10  # ten seconds ago
    reporter.rows(250, 1000)
    reporter.phase("Caricamento: posizioni", during_load=True)
    db.session.expire_all()
    job = db.session.get(BatchJob, job.id)
    assert (job.rows_done, job.rows_total, job.phase, job.eta_seconds) == (
        250,
        1000,
        "Caricamento: posizioni",
        None,
    )
    reporter.rows(500)
    db.session.expire_all()
    assert 5 <= db.session.get(BatchJob, job.id).eta_seconds <= 15
