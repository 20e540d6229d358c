"""RQ job of the registries: every morning, the stale checks of the taxpayers about to be notified are
refreshed (an item to issue in an open campaign, an act issued and not yet sent), a bounded number per run.
The run schedules the next one (`schedule_refresh`, started by `esattoria anagrafe aggiorna --pianifica`).
With REGISTRIES_ENABLED off or no PDND credentials it does nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from app.extensions import db

PERIODIC_QUEUE = "periodic"
REFRESH_AT = dt.time(4, 30)  # Europe/Rome: before the morning's deliveries
BATCH_LIMIT = 5000  # taxpayers per run: the registries are rate-limited
PERIODIC_JOBS = (
    (
        "app.registries.tasks.refresh_stale_checks",
        "ogni giorno alle 04:30, le verifiche anagrafiche scadute dei contribuenti in notifica",
        "30 4 * * *",
        60,
    ),
)


def refresh_stale_checks(reschedule: bool = True, limit: int = BATCH_LIMIT) -> dict[str, Any]:
    from app.core.db import utcnow
    from app.registries.services import RegistryConfig, prenotification_check, stale_taxpayers_to_notify

    try:
        config = RegistryConfig.from_config(current_app.config)
        if not (config.enabled and config.configured):
            return {"attivo": False, "verificati": 0, "in_cache": 0, "errori": {}}
        now = utcnow()
        ids = stale_taxpayers_to_notify(db.session, config, now, limit)
        report = prenotification_check(db.session, ids, config=config, now=now)
        db.session.commit()
        return report.as_json()
    finally:
        if reschedule:
            schedule_refresh()


def schedule_refresh() -> str:
    """Tomorrow at REFRESH_AT (Rome), under a job id naming the day: scheduling twice enqueues once."""
    from app.core.jobs import queue
    from app.payments.parsing import ROME

    now = dt.datetime.now(ROME)
    run_at = dt.datetime.combine(now.date() + dt.timedelta(days=1), REFRESH_AT, tzinfo=ROME)
    job_id = f"verifiche-anagrafiche-{run_at:%Y%m%d}"
    queue(PERIODIC_QUEUE).enqueue_at(
        run_at.astimezone(dt.UTC),
        refresh_stale_checks,
        job_id=job_id,
        job_timeout=7200,
        failure_ttl=7 * 86400,
    )
    return job_id
