"""RQ jobs of the plans (periodic queue).

- `daily_decadenza_check(on)`: the decadenza check of every active plan for the day (`decadenza.check_plans`:
  payments allocated again, sollecito when the rule needs one, decadenza), committed; the registry of periodic
  jobs (PERIODIC_JOBS, `esattoria batch elenco`) runs it every day at 06:30 (Europe/Rome).
  Idempotent: a rerun on the same day sends nothing twice and decides nothing twice.
  `esattoria rateazioni controllo-decadenza [--data AAAA-MM-GG]` does the same by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from app.core.audit import Actor
from app.extensions import db

PERIODIC_QUEUE = "periodic"
PERIODIC_JOBS = (
    (
        "app.plans.tasks.daily_decadenza_check",
        "ogni giorno alle 06:30, la decadenza dei piani rateali",
        "30 6 * * *",
        30,
    ),
)
CHECK_ACTOR = Actor.system("controllo decadenza rateazioni")


def daily_decadenza_check(on: str | None = None) -> dict[str, Any]:
    """The day's decadenza check (default: today in Rome), committed."""
    from app.plans.decadenza import check_plans
    from app.plans.services import today

    day = dt.date.fromisoformat(on) if on else today()
    run = check_plans(db.session, day, CHECK_ACTOR, file_store=current_app.config["FILE_STORE"])
    db.session.commit()
    return run.as_json()
