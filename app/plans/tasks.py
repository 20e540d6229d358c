"""RQ jobs of the plans (periodic queue).

- `daily_decadenza_check(on)`: the decadenza check of every active plan for the day (`decadenza.check_plans`:
  payments allocated again, sollecito when the rule needs one, decadenza), committed; then tomorrow's run at
  06:30 (Europe/Rome). Idempotent: a rerun on the same day sends nothing twice and decides nothing twice.
  `esattoria rateazioni controllo-decadenza [--data AAAA-MM-GG]` does the same by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from app.core.audit import Actor
from app.extensions import db

PERIODIC_QUEUE = "periodic"
DAILY_AT = dt.time(6, 30)  # Europe/Rome, after the night's payment flows
PERIODIC_JOBS = (
    (
        "app.plans.tasks.daily_decadenza_check",
        "ogni giorno alle 06:30, la decadenza dei piani rateali",
        "30 6 * * *",
        30,
    ),
)
CHECK_ACTOR = Actor.system("controllo decadenza rateazioni")


def daily_decadenza_check(on: str | None = None, reschedule: bool = True) -> dict[str, Any]:
    """The day's decadenza check (default: today in Rome), committed; then the next run."""
    from app.plans.decadenza import check_plans
    from app.plans.services import today

    day = dt.date.fromisoformat(on) if on else today()
    run = check_plans(db.session, day, CHECK_ACTOR, file_store=current_app.config["FILE_STORE"])
    db.session.commit()
    if reschedule:
        schedule_decadenza_check()
    return run.as_json()


def schedule_decadenza_check() -> str:
    """Tomorrow's run (idempotent through the job id)."""
    from app.core.jobs import queue
    from app.payments.parsing import ROME

    now = dt.datetime.now(ROME)
    run_at = dt.datetime.combine(now.date() + dt.timedelta(days=1), DAILY_AT, tzinfo=ROME)
    job_id = f"rateazioni-decadenza-{run_at:%Y%m%d}"
    queue(PERIODIC_QUEUE).enqueue_at(
        run_at.astimezone(dt.UTC),
        daily_decadenza_check,
        job_id=job_id,
        job_timeout=3600,
        failure_ttl=7 * 86400,
    )
    return job_id
