"""Batch jobs: every massive operation (an import, an export, a mass mailing) runs as an RQ job recorded here,
with who asked, the stored file, its parameters, live progress, the outcome and the row-level errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.db import Base, CreatedMixin, JsonDoc, UTCDateTime, utcnow
from app.jobs.files import STORED_FILE

JOB_STATUSES = {
    "queued": "In coda",
    "running": "In corso",
    "done": "Completato",
    "failed": "Non riuscito",
    "cancelled": "Annullato",
}
ACTIVE_STATUSES = ("queued", "running")
REFUSED_OUTCOMES = ("rifiutato", "duplicato")  # result["status"] of a job whose input was refused
ERROR_KINDS = {"rejected": "Scartata", "duplicate": "Duplicata"}
STALE_AFTER_SECONDS = 600


class BatchJob(CreatedMixin, Base):
    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    # Dotted path of the RQ function that runs the job (used to run it again after a crash).
    task: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(12), default="queued")
    phase: Mapped[str | None] = mapped_column(sa.String(80))
    ente_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    api_token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    file_name: Mapped[str | None] = mapped_column(sa.String(255))
    file_path: Mapped[str | None] = mapped_column(sa.String(500), info={STORED_FILE: True})
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    file_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    rows_total: Mapped[int | None] = mapped_column()
    rows_done: Mapped[int] = mapped_column(default=0)
    eta_seconds: Mapped[int | None] = mapped_column()
    started_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Fencing token: each run increments it; a run only finishes the job if it is still the latest one.
    attempts: Mapped[int] = mapped_column(default=0)
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    carico_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carichi.id"))

    ente = relationship("Ente")

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued','running','done','failed','cancelled')", name="status"),
        sa.Index("ix_batch_jobs_status_created", "status", "created_dt"),
    )

    @property
    def status_label(self) -> str:
        return JOB_STATUSES.get(self.status, self.status)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def stale(self) -> bool:
        """Running, but its worker has not reported for 10 minutes (killed?): it may be run again."""
        return (
            self.status == "running"
            and self.heartbeat_dt is not None
            and (utcnow() - self.heartbeat_dt).total_seconds() > STALE_AFTER_SECONDS
        )

    @property
    def retryable(self) -> bool:
        """Whether running it again can change the outcome: a crash, a timeout, the database or the file store
        unavailable (outcome "errore", or no outcome written), or a worker gone silent. Never a refused or
        duplicate file: the same file would be refused again (it is corrected and uploaded anew)."""
        if self.stale:
            return True
        return self.status == "failed" and (self.result or {}).get("status") not in REFUSED_OUTCOMES

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


class BatchJobError(Base):
    """One rejected (or duplicate) row of a job's input: line, column and an Italian reason.

    The report belongs to the job, not to what the job produced: it is kept when the file is refused."""

    __tablename__ = "batch_job_errors"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    batch_job_id: Mapped[int] = mapped_column(sa.ForeignKey("batch_jobs.id", ondelete="CASCADE"))
    line: Mapped[int | None] = mapped_column()
    column: Mapped[str | None] = mapped_column(sa.String(80))
    reason: Mapped[str] = mapped_column(sa.String(500))
    value: Mapped[str | None] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(12), default="rejected")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('rejected','duplicate')", name="kind"),
        sa.Index("ix_batch_job_errors_job_line", "batch_job_id", "line"),
    )


# Who sees what (app.core.access): a job belongs to its ente (a job of no ente is seen by no one through the
# scoping helper), its error rows go with it.
register_scope(BatchJob, ente=BatchJob.ente_id)
register_scope(BatchJobError, ente=through(BatchJobError.batch_job_id))
