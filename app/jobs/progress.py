"""Live progress of a running job, written in its own short transactions on its own connection, so that the
jobs page sees it while the job's load transaction is still open (and a crash loses none of it).

Under the test suite's isolation (the app's engine is one shared connection) the updates go through that
connection instead. On SQLite a second writer would wait for the load transaction's lock, so updates that
would happen during a load are skipped there (`during_load=True`).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from app.core.db import utcnow
from app.jobs.models import BatchJob


class ProgressReporter:
    def __init__(self, bind: Any, job_id: int, *, interval: float = 0.5) -> None:
        self.bind = bind
        self.job_id = job_id
        self.interval = interval
        self.shared = isinstance(bind, sa.engine.Connection)
        self.during_load_ok = self.shared or bind.dialect.name == "postgresql"
        self.started = time.monotonic()
        self._last = 0.0
        self.rows_done = 0
        self.rows_total: int | None = None

    def rows(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        """Rows processed so far (and the total, when known); writes at most every `interval` seconds."""
        self.rows_done = done
        if total is not None:
            self.rows_total = total
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        eta = None
        if self.rows_total and done:
            elapsed = now - self.started
            eta = int(elapsed / done * max(self.rows_total - done, 0))
        self._write(rows_done=done, rows_total=self.rows_total, eta_seconds=eta)

    def phase(self, label: str, *, during_load: bool = False) -> None:
        """A new phase (shown on the jobs page); `during_load`: a call made inside the load transaction."""
        if during_load and not self.during_load_ok:
            return
        self._write(phase=label[:80], eta_seconds=sa.null())

    def _write(self, **values: Any) -> None:
        self._last = time.monotonic()
        values = {k: v for k, v in values.items() if v is not None}
        values["heartbeat_dt"] = utcnow()
        stmt = (
            sa.update(BatchJob)
            .where(BatchJob.id == self.job_id, BatchJob.status == "running")
            .values(**values)
        )
        if self.shared:
            self.bind.execute(stmt)
            return
        with self.bind.begin() as conn:
            conn.execute(stmt)
