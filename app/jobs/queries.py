"""Reads of batch jobs and their error reports, through the per-ente scoping helper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.core.access import Principal, scoped
from app.jobs.models import ACTIVE_STATUSES, BatchJob, BatchJobError


def list_jobs(session: Session, principal: Principal, *, limit: int | None = 50) -> list[BatchJob]:
    stmt = (
        sa.select(BatchJob)
        .options(joinedload(BatchJob.ente))
        .order_by(BatchJob.created_dt.desc(), BatchJob.id.desc())
        .limit(limit)
    )
    return list(session.scalars(scoped(stmt, BatchJob, principal)))


def get_job(session: Session, principal: Principal, job_id: int) -> BatchJob | None:
    return session.scalars(
        scoped(sa.select(BatchJob).where(BatchJob.id == job_id), BatchJob, principal)
    ).first()


def any_active(jobs: list[BatchJob]) -> bool:
    return any(job.status in ACTIVE_STATUSES for job in jobs)


def error_counts(session: Session, job_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(BatchJobError.kind, sa.func.count())
        .where(BatchJobError.batch_job_id == job_id)
        .group_by(BatchJobError.kind)
    )
    return {kind: int(n) for kind, n in rows}


def first_errors(session: Session, job_id: int, *, limit: int = 200) -> list[BatchJobError]:
    return list(
        session.scalars(
            sa.select(BatchJobError)
            .where(BatchJobError.batch_job_id == job_id)
            .order_by(BatchJobError.line, BatchJobError.id)
            .limit(limit)
        )
    )


def error_rows(session: Session, job_id: int) -> Iterator[Any]:
    """Every error row of a job, streamed in line order (the report download)."""
    stmt = (
        sa.select(
            BatchJobError.line,
            BatchJobError.column,
            BatchJobError.reason,
            BatchJobError.value,
            BatchJobError.kind,
        )
        .where(BatchJobError.batch_job_id == job_id)
        .order_by(BatchJobError.line, BatchJobError.id)
    )
    return session.execute(stmt.execution_options(yield_per=2000)).mappings()
