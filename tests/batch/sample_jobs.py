"""Periodic jobs for the batch tests (registered by tests/batch/conftest.py, run by dotted path)."""

from __future__ import annotations

import datetime as dt
from typing import Any

CALLS: list[dict[str, Any]] = []


class Clock:
    """A settable clock standing in for app.core.db.utcnow in the batch monitor (no sleeps)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


CLOCK = Clock(dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC))


def ok_job() -> str:
    CALLS.append({"job": "ok"})
    CLOCK.advance(seconds=2.5)
    return "fatto"


def failing_job() -> None:
    CALLS.append({"job": "failing"})
    raise RuntimeError("Servizio FdR non raggiungibile")


def slow_job() -> None:
    CALLS.append({"job": "slow"})
    CLOCK.advance(minutes=7)
