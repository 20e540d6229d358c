"""The RQ side of the batch monitor: `run_periodic(name, run_id)` runs one job of the registry
(app/core/periodic.py), records it (start, end, outcome, duration, error), sends the alert when it failed or
overran its expected duration, and, for a run of the periodic schedule, schedules the next one.

`schedule_all()` starts every schedule (idempotent: the RQ job id names the job and its minute);
`esattoria batch pianifica` calls it, and so does the worker at start.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any

from app.core import periodic
from app.core.db import utcnow
from app.extensions import db

log = logging.getLogger(__name__)
FAILURE_TTL = 7 * 86400


def _timeout(job: periodic.PeriodicJob) -> int:
    return max(3600, int(job.max_duration.total_seconds()) * 3)


def schedule_next(job: periodic.PeriodicJob, after: dt.datetime | None = None) -> str | None:
    """Enqueue the next run of `job` by its cron (none without a cron); its RQ job id."""
    from app.core.jobs import queue

    run_at = job.next_run(after or utcnow())
    if run_at is None:
        return None
    job_id = periodic.scheduled_job_id(job, run_at)
    queue(job.queue).enqueue_at(
        run_at,
        run_periodic,
        job.name,
        None,
        run_at.isoformat(),
        job_id=job_id,
        job_timeout=_timeout(job),
        failure_ttl=FAILURE_TTL,
    )
    return job_id


def schedule_all(after: dt.datetime | None = None) -> dict[str, str]:
    """The next run of every job with a cron."""
    scheduled = {}
    for job in periodic.registry().values():
        job_id = schedule_next(job, after)
        if job_id:
            scheduled[job.name] = job_id
    return scheduled


def enqueue_run(run_id: int, job_name: str, at: dt.datetime | None) -> str:
    """Queue a recorded run (now, or at `at`) after its row is committed."""
    from app.core.jobs import queue

    job = periodic.get(job_name)
    queue_name = job.queue if job else periodic.PERIODIC_QUEUE
    job_id = f"periodico-esecuzione-{run_id}"
    kwargs: dict[str, Any] = {
        "job_id": job_id,
        "job_timeout": _timeout(job) if job else 3600,
        "failure_ttl": FAILURE_TTL,
    }
    if at is None:
        queue(queue_name).enqueue(run_periodic, job_name, run_id, **kwargs)
    else:
        queue(queue_name).enqueue_at(at, run_periodic, job_name, run_id, **kwargs)
    return job_id


def _claim(name: str, run_id: int | None, slot: dt.datetime | None) -> Any:
    """The run row to work on, marked running (None: nothing to do: cancelled, already run)."""
    from rq import get_current_job

    from app.batch.models import PeriodicRun

    session = db.session
    if run_id is not None:
        run = session.get(PeriodicRun, run_id, with_for_update=True)
        if run is None or run.status != "scheduled":
            return None
    else:
        rq_job = get_current_job()
        rq_id = rq_job.id if rq_job is not None else None
        if rq_id and session.query(PeriodicRun.id).filter_by(rq_job_id=rq_id).first() is not None:
            return None  # this slot already ran
        run = PeriodicRun(job_name=name, trigger="cron", rq_job_id=rq_id, scheduled_for=slot)
        session.add(run)
    run.status = "running"
    run.started_dt = utcnow()
    session.commit()
    return run


def run_periodic(name: str, run_id: int | None = None, slot: str | None = None) -> dict[str, Any] | None:
    """Run job `name` once and record it (`run_id`: a run asked for by an operator; otherwise a run of the
    schedule, `slot` its planned time); then, for a scheduled run, schedule the next one."""
    from app.batch import alerts
    from app.batch.models import PeriodicRun

    job = periodic.get(name)
    slot_dt = dt.datetime.fromisoformat(slot) if slot else None
    run = _claim(name, run_id, slot_dt)
    if run is None:
        db.session.rollback()
        return None
    run_pk, trigger, started = run.id, run.trigger, run.started_dt
    error = None
    try:
        if job is None:
            raise LookupError(f"Lavoro «{name}» non più nel registro dei lavori periodici.")
        job.call()
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - recorded on the run, alerted; the schedule goes on
        db.session.rollback()
        log.exception("periodic job %s failed", name)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
    finished = utcnow()
    duration = finished - started
    run = db.session.get(PeriodicRun, run_pk)
    run.finished_dt = finished
    run.duration_ms = int(duration.total_seconds() * 1000)
    run.status = "failed" if error else "ok"
    run.error = error
    run.overran = job is not None and duration > job.max_duration
    db.session.commit()
    if error or run.overran:
        run.alert_sent = alerts.send_alert(run, job)
        db.session.commit()
    if trigger == "cron" and job is not None:
        try:
            schedule_next(job, max(finished, slot_dt or finished))
        except Exception:  # noqa: BLE001 - Redis gone: `esattoria batch pianifica` restarts the chain
            log.exception("periodic job %s: next run not scheduled", name)
    return {"run": run_pk, "status": run.status, "duration_ms": run.duration_ms, "overran": run.overran}


def cancel_rq(rq_job_id: str | None) -> None:
    """Best effort: the run row is cancelled anyway (a job that still starts finds it so and does nothing)."""
    if not rq_job_id:
        return
    try:
        from rq.job import Job

        from app.core.jobs import connection

        Job.fetch(rq_job_id, connection=connection()).cancel()
    except Exception:  # noqa: BLE001 - Redis down or job gone
        log.info("RQ job %s not cancelled", rq_job_id)
