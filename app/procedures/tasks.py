"""RQ jobs of the procedures. `request_fermo_cancellations()` (periodic queue, every morning at 06:30): the
cancellation of every registered fermo whose debt is paid is requested (`fermo.request_cancellations_of_paid`,
idempotent: a requested one is no longer `iscritto`), then tomorrow's run is scheduled."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core.audit import Actor
from app.extensions import db

PERIODIC_QUEUE = "periodic"
CANCELLATIONS_AT = dt.time(6, 30)  # Europe/Rome
# Periodic jobs of this module (to be listed in app/core/jobs.py's periodic list when it exists).
PERIODIC_JOBS = (
    (
        "app.procedures.tasks.request_fermo_cancellations",
        "ogni giorno alle 06:30, la cancellazione dei fermi con debito pagato",
        "30 6 * * *",
        30,
    ),
)
JOB_ACTOR = Actor.system("cancellazione fermi")


def request_fermo_cancellations(reschedule: bool = True, on: str | None = None) -> dict[str, Any]:
    from app.positions.amounts import today_rome
    from app.procedures.fermo import request_cancellations_of_paid

    day = dt.date.fromisoformat(on) if on else today_rome()
    ids = request_cancellations_of_paid(db.session, JOB_ACTOR, day)
    db.session.commit()
    if reschedule:
        schedule_cancellations()
    return {"date": day.isoformat(), "requested": ids}


def schedule_cancellations() -> str:
    """Tomorrow's run (idempotent through the job id)."""
    from app.core.jobs import queue
    from app.payments.parsing import ROME

    now = dt.datetime.now(ROME)
    run_at = dt.datetime.combine(now.date() + dt.timedelta(days=1), CANCELLATIONS_AT, tzinfo=ROME)
    job_id = f"procedure-cancellazioni-{run_at:%Y%m%d}"
    queue(PERIODIC_QUEUE).enqueue_at(
        run_at.astimezone(dt.UTC),
        request_fermo_cancellations,
        job_id=job_id,
        job_timeout=3600,
        failure_ttl=7 * 86400,
    )
    return job_id
