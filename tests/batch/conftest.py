"""Batch monitor tests: three sample periodic jobs registered for the test, a settable clock, the periodic
queue of this session's Redis emptied around each test, a burst worker that runs the jobs in this process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.batch import sample_jobs

OK = "tests.batch.sample_jobs.ok_job"
FAILING = "tests.batch.sample_jobs.failing_job"
SLOW = "tests.batch.sample_jobs.slow_job"


def _empty(q: Any) -> None:
    q.empty()
    for registry in (q.failed_job_registry, q.scheduled_job_registry, q.finished_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


@pytest.fixture
def periodic_queue(app: Any) -> Iterator[Any]:
    from app.core.jobs import queue

    with app.app_context():
        q = queue("periodic")
        _empty(q)
    yield q
    with app.app_context():
        _empty(q)


@pytest.fixture
def sample_jobs_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[sample_jobs.Clock]:
    from app.batch import services, tasks
    from app.core import periodic

    clock = sample_jobs.Clock(dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(sample_jobs, "CLOCK", clock)
    monkeypatch.setattr(tasks, "utcnow", clock)
    monkeypatch.setattr(services, "utcnow", clock)
    monkeypatch.setattr(periodic, "_REGISTERED", {})
    periodic.register(OK, "lavoro di prova riuscito", "0 6 * * *", 5)
    periodic.register(FAILING, "lavoro di prova che fallisce", "*/15 * * * *", 5)
    periodic.register(SLOW, "lavoro di prova lento", None, 5)
    sample_jobs.CALLS.clear()
    yield clock
    sample_jobs.CALLS.clear()


def work(app: Any, q: Any) -> None:
    from rq import SimpleWorker

    from app.core.jobs import connection

    with app.app_context():
        SimpleWorker([q], connection=connection(app)).work(burst=True)
