"""RQ jobs of the escalation. Each re-fetches what it needs, is idempotent and commits its own work.

- `daily_proposals(day)`: the set-based proposals of every active rule (app/escalation/proposals.py);
- `daily_prescriptions(day)`: positions whose prescription date passed move to `prescritta`;
- `weekly_radar_report(day)`: the radar of the next `RADAR_REPORT_DAYS` days of every ente, as a PDF export
  (app/reports/exports.py) filed in the ente's archive and e-mailed to the Regione (app/core/mailer.py,
  recipients in the ente's parameter row `escalation_report_recipients`: {"emails": [...]}).
The registry of periodic jobs (PERIODIC_JOBS below, `esattoria batch elenco`) runs them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)
PERIODIC_QUEUE = "periodic"
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


def daily_proposals(day: str | None = None) -> dict[str, Any]:
    from app.escalation.proposals import compute_proposals

    on = dt.date.fromisoformat(day) if day else _today()
    summary = compute_proposals(db.session, on)
    db.session.commit()
    return summary.as_json()


def daily_prescriptions(day: str | None = None) -> dict[str, Any]:
    from app.escalation.radar import mark_prescribed

    on = dt.date.fromisoformat(day) if day else _today()
    moved = mark_prescribed(db.session, on)
    db.session.commit()
    return {"on": on.isoformat(), "prescritte": moved}


def weekly_radar_report(day: str | None = None) -> list[dict[str, Any]]:
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
    return done
