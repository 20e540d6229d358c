"""One row per run of a periodic job: asked for (now or at a time), running, done or failed, with its duration
and error; whether it overran its expected maximum and whether the alert went out."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.audit import EVENT_KINDS
from app.core.db import Base, CreatedMixin, UTCDateTime

RUN_STATUSES = {
    "scheduled": "Pianificata",
    "running": "In corso",
    "ok": "Riuscita",
    "failed": "Non riuscita",
    "cancelled": "Annullata",
}
TRIGGERS = {"cron": "Pianificazione periodica", "manual": "Esegui ora", "at": "Programmata dall'operatore"}

EVENT_KINDS.update(
    {
        "batch.run_requested": "Esecuzione di un lavoro periodico richiesta",
        "batch.run_scheduled": "Esecuzione di un lavoro programmata",
        "batch.run_cancelled": "Esecuzione programmata annullata",
    }
)


class PeriodicRun(CreatedMixin, Base):
    __tablename__ = "periodic_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(160))
    trigger: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default="scheduled")
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    started_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int | None] = mapped_column(sa.BigInteger)
    overran: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    error: Mapped[str | None] = mapped_column(sa.Text)
    alert_sent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(160), unique=True)

    __table_args__ = (
        sa.CheckConstraint("status IN ('scheduled','running','ok','failed','cancelled')", name="status"),
        sa.CheckConstraint("trigger IN ('cron','manual','at')", name="trigger"),
        sa.Index("ix_periodic_runs_job_created", "job_name", "created_dt"),
    )

    @property
    def status_label(self) -> str:
        return RUN_STATUSES.get(self.status, self.status)

    @property
    def trigger_label(self) -> str:
        return TRIGGERS.get(self.trigger, self.trigger)
