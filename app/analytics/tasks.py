"""RQ jobs of the analytics slice (periodic queue). Each commits its own work.

- `refresh_summary()`: every morning at 04:30 (Europe/Rome), the dashboards' materialised summary rebuilt from
  the ledger in one transaction;
- `run_scheduled_queries(day)`: every morning at 07:00, each saved query due that day exported and delivered
  (e-mail or archive); a failed one records why and is tried again the next day.
The registry of periodic jobs (PERIODIC_JOBS below, `esattoria batch elenco`) runs both.
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


def refresh_summary(day: str | None = None) -> dict[str, Any]:
    from app.analytics.summary import rebuild

    started = time.perf_counter()
    as_of = dt.date.fromisoformat(day) if day else _today_rome()
    result = rebuild(db.session, as_of)
    db.session.commit()
    return {
        "rows": result.rows,
        "as_of": as_of.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
    }


def run_scheduled_queries(day: str | None = None) -> list[dict[str, Any]]:
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
    return outcomes
