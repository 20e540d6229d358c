"""RQ jobs of the analytics slice (periodic queue). Each commits its own work.

- `refresh_summary()`: every morning at 04:30 (Europe/Rome), the dashboards' materialised summary rebuilt from
  the ledger in one transaction; then it schedules its next run (`schedule_refresh_summary` starts the chain,
  `esattoria analisi aggiorna --pianifica`);
- `run_scheduled_queries(day)`: every morning at 07:00, each saved query due that day exported and delivered
  (e-mail or archive); a failed one records why and is tried again the next day
  (`esattoria analisi pianificate --pianifica` starts the chain).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)
PERIODIC_QUEUE = "periodic"
REFRESH_AT = dt.time(4, 30)  # Europe/Rome
SCHEDULED_AT = dt.time(7, 0)  # Europe/Rome: after the night's refresh and imports
PERIODIC_JOBS = (
    (
        "app.analytics.tasks.refresh_summary",
        "ogni giorno alle 04:30, il riepilogo delle posizioni dei cruscotti",
        "30 4 * * *",
        60,
    ),
    (
        "app.analytics.tasks.run_scheduled_queries",
        "ogni giorno alle 07:00, le interrogazioni pianificate (e-mail o archivio)",
        "0 7 * * *",
        60,
    ),
)


def _today_rome() -> dt.date:
    from app.positions.amounts import today_rome

    return today_rome()


def refresh_summary(day: str | None = None, reschedule: bool = True) -> dict[str, Any]:
    from app.analytics.summary import rebuild

    started = time.perf_counter()
    as_of = dt.date.fromisoformat(day) if day else _today_rome()
    result = rebuild(db.session, as_of)
    db.session.commit()
    if reschedule:
        schedule_refresh_summary()
    return {
        "rows": result.rows,
        "as_of": as_of.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
    }


def run_scheduled_queries(day: str | None = None, reschedule: bool = True) -> list[dict[str, Any]]:
    from app.analytics.scheduled import RunOutcome, due_queries, run_saved_query
    from app.core.errors import DomainError
    from app.core.mailer import MailerError

    today = dt.date.fromisoformat(day) if day else _today_rome()
    session = db.session
    outcomes = []
    for query_id in [q.id for q in due_queries(session, today)]:
        from app.analytics.models import SavedQuery

        saved = session.get(SavedQuery, query_id)
        if saved is None:
            continue
        try:
            outcome = run_saved_query(session, saved, today, current_app.config)
            session.commit()
        except (DomainError, MailerError, ValueError) as exc:
            session.rollback()
            saved = session.get(SavedQuery, query_id)
            if saved is None:
                continue
            saved.last_run_dt = dt.datetime.now(dt.UTC)
            saved.last_outcome = f"Non riuscita: {exc}"[:300]
            session.commit()
            outcome = RunOutcome(query_id, False, str(exc))
            log.warning("scheduled query %s failed: %s", query_id, exc)
        outcomes.append(outcome.as_json())
    if reschedule:
        schedule_run_scheduled_queries()
    return outcomes


def schedule_refresh_summary() -> str:
    return _schedule_tomorrow(refresh_summary, REFRESH_AT, "analisi-riepilogo", timeout=3600)


def schedule_run_scheduled_queries() -> str:
    return _schedule_tomorrow(run_scheduled_queries, SCHEDULED_AT, "analisi-pianificate", timeout=3600)


def _schedule_tomorrow(func: Any, at: dt.time, name: str, *, timeout: int) -> str:
    """Enqueue `func` on the periodic queue for tomorrow at `at` (Europe/Rome), under the job id
    "<name>-YYYYMMDD": scheduling the same day twice enqueues it once (as app/payments/tasks.py does)."""
    from app.core.jobs import queue
    from app.payments.parsing import ROME

    now = dt.datetime.now(ROME)
    run_at = dt.datetime.combine(now.date() + dt.timedelta(days=1), at, tzinfo=ROME)
    job_id = f"{name}-{run_at:%Y%m%d}"
    queue(PERIODIC_QUEUE).enqueue_at(
        run_at.astimezone(dt.UTC), func, job_id=job_id, job_timeout=timeout, failure_ttl=7 * 86400
    )
    return job_id
