"""Demo data of the batch monitor: a few past runs of the periodic jobs, so the screen is not empty."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.batch.models import PeriodicRun
from app.core.db import utcnow

_RUNS = (
    ("app.payments.tasks.daily_riversamento", 1, "ok", 41_250, None),
    ("app.crm.messages.tasks.send_reminders", 1, "ok", 12_800, None),
    (
        "app.archive.tasks.verify_index",
        1,
        "failed",
        3_100,
        "ConnectionError: indice di ricerca non raggiungibile (dati dimostrativi)",
    ),
)


def seed_batch_demo(session: Session) -> int:
    """Three finished runs of yesterday (idempotent: nothing when any run is recorded)."""
    if session.scalar(sa.select(sa.func.count(PeriodicRun.id))):
        return 0
    now = utcnow().replace(second=0, microsecond=0)
    for name, days_ago, status, ms, error in _RUNS:
        started = now - dt.timedelta(days=days_ago)
        session.add(
            PeriodicRun(
                job_name=name,
                trigger="cron",
                status=status,
                scheduled_for=started,
                started_dt=started,
                finished_dt=started + dt.timedelta(milliseconds=ms),
                duration_ms=ms,
                error=error,
                rq_job_id=f"demo-{name}",
            )
        )
    session.flush()
    return len(_RUNS)
