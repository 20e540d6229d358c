"""RQ jobs of the procedures. `request_fermo_cancellations()` (periodic queue, every morning at 06:30): the
cancellation of every registered fermo whose debt is paid is requested (`fermo.request_cancellations_of_paid`,
idempotent: a requested one is no longer `iscritto`); the registry of periodic jobs (PERIODIC_JOBS below,
`esattoria batch elenco`) runs it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core.audit import Actor
from app.extensions import db

PERIODIC_QUEUE = "periodic"
# Periodic jobs of this module: (callable, description, cron in Europe/Rome, expected max minutes), read by
# the registry of app/core/periodic.py.
PERIODIC_JOBS = (
    (
        "app.procedures.tasks.request_fermo_cancellations",
        "ogni giorno alle 06:30, la cancellazione dei fermi con debito pagato",
        "30 6 * * *",
        30,
    ),
)
JOB_ACTOR = Actor.system("cancellazione fermi")


def request_fermo_cancellations(on: str | None = None) -> dict[str, Any]:
    from app.positions.amounts import today_rome
    from app.procedures.fermo import request_cancellations_of_paid

    day = dt.date.fromisoformat(on) if on else today_rome()
    ids = request_cancellations_of_paid(db.session, JOB_ACTOR, day)
    db.session.commit()
    return {"date": day.isoformat(), "requested": ids}
