"""RQ jobs of the escalation. Each re-fetches what it needs, is idempotent and commits its own work.

- `daily_proposals(day)`: the set-based proposals of every active rule (app/escalation/proposals.py);
- `daily_prescriptions(day)`: positions whose prescription date passed move to `prescritta`;
- `weekly_radar_report(day)`: the radar of the next `RADAR_REPORT_DAYS` days of every ente, as a PDF export
  (app/reports/exports.py) filed in the ente's archive and e-mailed to the Regione (app/core/mailer.py,
  recipients in the ente's parameter row `escalation_report_recipients`: {"emails": [...]}).
Each schedules its next run on the periodic queue (`--schedule` of `esattoria escalation ...`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)
PERIODIC_QUEUE = "periodic"
PROPOSALS_AT = dt.time(2, 0)  # Europe/Rome
PRESCRIPTIONS_AT = dt.time(1, 30)
REPORT_AT = dt.time(7, 0)  # Mondays
RADAR_REPORT_DAYS = 90
RECIPIENTS_PARAMETER = "escalation_report_recipients"
PERIODIC_JOBS = (
    (
        "app.escalation.tasks.daily_proposals",
        "ogni giorno alle 02:00, le proposte di escalation",
        "0 2 * * *",
        120,
    ),
    (
        "app.escalation.tasks.daily_prescriptions",
        "ogni giorno alle 01:30, le posizioni prescritte",
        "30 1 * * *",
        60,
    ),
    (
        "app.escalation.tasks.weekly_radar_report",
        "ogni lunedì alle 07:00, il radar della prescrizione alla Regione",
        "0 7 * * 1",
        30,
    ),
)


def _today() -> dt.date:
    from app.positions.amounts import today_rome

    return today_rome()


def daily_proposals(day: str | None = None, reschedule: bool = True) -> dict[str, Any]:
    from app.escalation.proposals import compute_proposals

    on = dt.date.fromisoformat(day) if day else _today()
    summary = compute_proposals(db.session, on)
    db.session.commit()
    if reschedule:
        _schedule(daily_proposals, PROPOSALS_AT, "escalation-proposte", days=1)
    return summary.as_json()


def daily_prescriptions(day: str | None = None, reschedule: bool = True) -> dict[str, Any]:
    from app.escalation.radar import mark_prescribed

    on = dt.date.fromisoformat(day) if day else _today()
    moved = mark_prescribed(db.session, on)
    db.session.commit()
    if reschedule:
        _schedule(daily_prescriptions, PRESCRIPTIONS_AT, "escalation-prescrizioni", days=1)
    return {"on": on.isoformat(), "prescritte": moved}


def weekly_radar_report(day: str | None = None, reschedule: bool = True) -> list[dict[str, Any]]:
    from app.escalation.report import send_radar_reports

    on = dt.date.fromisoformat(day) if day else _today()
    done = send_radar_reports(
        db.session,
        on,
        days=RADAR_REPORT_DAYS,
        file_store=current_app.config["FILE_STORE"],
        config=current_app.config,
    )
    db.session.commit()
    if reschedule:
        _schedule(weekly_radar_report, REPORT_AT, "escalation-radar", days=7 - on.weekday() or 7)
    return done


def _schedule(func: Any, at: dt.time, name: str, *, days: int) -> str:
    """Enqueue `func` on the periodic queue `days` days from now at `at` (Rome), under the job id
    "<name>-YYYYMMDD": scheduling the same day twice enqueues it once."""
    from app.core.jobs import queue
    from app.positions.amounts import ROME

    now = dt.datetime.now(ROME)
    run_at = dt.datetime.combine(now.date() + dt.timedelta(days=days), at, tzinfo=ROME)
    job_id = f"{name}-{run_at:%Y%m%d}"
    queue(PERIODIC_QUEUE).enqueue_at(
        run_at.astimezone(dt.UTC), func, job_id=job_id, job_timeout=3600, failure_ttl=7 * 86400
    )
    return job_id


def schedule_all() -> list[str]:
    return [
        _schedule(daily_prescriptions, PRESCRIPTIONS_AT, "escalation-prescrizioni", days=1),
        _schedule(daily_proposals, PROPOSALS_AT, "escalation-proposte", days=1),
        _schedule(weekly_radar_report, REPORT_AT, "escalation-radar", days=7 - _today().weekday() or 7),
    ]
