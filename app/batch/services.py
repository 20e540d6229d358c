"""What the batch monitor shows and does: every job of the registry with its next and last run, a job's
history, "esegui ora" and a run at a later time (RQ scheduled job). Services never commit: the route
commits, then queues the run (app/batch/tasks.py `enqueue_run`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.batch.models import PeriodicRun
from app.core import periodic
from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError, NotFound
from app.reports.formatting import format_datetime_it


@dataclass(frozen=True)
class JobRow:
    job: periodic.PeriodicJob
    next_run: dt.datetime | None
    last: PeriodicRun | None
    running: PeriodicRun | None
    pending: int

    @property
    def running_too_long(self) -> bool:
        return bool(
            self.running
            and self.running.started_dt
            and utcnow() - self.running.started_dt > self.job.max_duration
        )


def overview(session: Session, now: dt.datetime | None = None) -> list[JobRow]:
    now = now or utcnow()
    jobs = periodic.registry()
    last_ids = (
        sa.select(PeriodicRun.job_name, sa.func.max(PeriodicRun.id).label("id"))
        .where(PeriodicRun.status.in_(("ok", "failed")))
        .group_by(PeriodicRun.job_name)
        .subquery()
    )
    last = {
        r.job_name: r
        for r in session.scalars(sa.select(PeriodicRun).join(last_ids, last_ids.c.id == PeriodicRun.id))
    }
    running = {
        r.job_name: r
        for r in session.scalars(
            sa.select(PeriodicRun).where(PeriodicRun.status == "running").order_by(PeriodicRun.id)
        )
    }
    pending_stmt = (
        sa.select(PeriodicRun.job_name, sa.func.count())
        .where(PeriodicRun.status == "scheduled")
        .group_by(PeriodicRun.job_name)
    )
    pending = {name: int(count) for name, count in session.execute(pending_stmt).all()}
    return [
        JobRow(job, job.next_run(now), last.get(name), running.get(name), int(pending.get(name, 0)))
        for name, job in sorted(jobs.items(), key=lambda item: item[1].description)
    ]


def history_query(job_name: str | None = None) -> sa.Select:
    stmt = sa.select(PeriodicRun).order_by(PeriodicRun.id.desc())
    return stmt.where(PeriodicRun.job_name == job_name) if job_name else stmt


def history(session: Session, job_name: str | None = None, limit: int = 50) -> list[PeriodicRun]:
    return list(session.scalars(history_query(job_name).limit(limit)))


def request_run(
    session: Session,
    actor: Actor,
    job: periodic.PeriodicJob,
    *,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PeriodicRun:
    """Record a run asked for by an operator, now (`at` None) or at `at` (aware, in the future)."""
    now = now or utcnow()
    if at is not None and at <= now:
        raise DomainError("Data e ora dell'esecuzione: devono essere nel futuro.", field="run_at")
    run = PeriodicRun(
        job_name=job.name,
        trigger="at" if at else "manual",
        status="scheduled",
        scheduled_for=at or now,
        requested_by_id=actor.user_id,
    )
    session.add(run)
    session.flush()
    run.rq_job_id = f"periodico-esecuzione-{run.id}"
    if at:
        record_event(
            session,
            actor,
            "batch.run_scheduled",
            f"Programmata l'esecuzione di «{job.description}» per il {format_datetime_it(at)}",
            payload={"run": run.id, "job": job.name, "at": at.isoformat()},
        )
    else:
        record_event(
            session,
            actor,
            "batch.run_requested",
            f"Richiesta l'esecuzione di «{job.description}»",
            payload={"run": run.id, "job": job.name},
        )
    return run


def cancel_run(session: Session, actor: Actor, run_id: int) -> PeriodicRun:
    run = session.get(PeriodicRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound("Esecuzione non trovata.")
    if run.status != "scheduled":
        raise DomainError("Si annulla solo un'esecuzione non ancora iniziata.")
    run.status = "cancelled"
    record_event(
        session,
        actor,
        "batch.run_cancelled",
        f"Annullata l'esecuzione programmata di «{run.job_name}»",
        payload={"run": run.id, "job": run.job_name},
    )
    return run


def runs_export_rows(session: Session, job_name: str | None = None) -> Any:
    jobs = periodic.registry()
    for run in session.scalars(history_query(job_name)):
        job = jobs.get(run.job_name)
        yield {
            "job": job.description if job else run.job_name,
            "trigger": run.trigger_label,
            "scheduled_for": run.scheduled_for,
            "started": run.started_dt,
            "finished": run.finished_dt,
            "duration_s": None if run.duration_ms is None else run.duration_ms // 1000,
            "status": run.status_label + (" (oltre la durata attesa)" if run.overran else ""),
            "error": run.error or "",
        }
