"""Batch job use cases: create (and enqueue after commit), claim, finish, cancel, run again, store the
row-level error report. Never commit here (tasks and routes do)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor
from app.core.db import utcnow
from app.core.errors import Conflict
from app.core.jobs import enqueue_after_commit
from app.jobs.models import BatchJob, BatchJobError

QUEUE = "imports"
CANCELLABLE = ("queued", "running")


def create_job(
    session: Session,
    *,
    kind: str,
    task: str,
    actor: Actor,
    ente_id: int | None,
    file_name: str | None = None,
    file_path: str | None = None,
    file_sha256: str | None = None,
    file_size: int | None = None,
    params: dict[str, Any] | None = None,
    enqueue: bool = True,
    queue_name: str = QUEUE,
) -> BatchJob:
    """A queued job; with `enqueue`, its RQ job is pushed once the transaction commits."""
    job = BatchJob(
        kind=kind,
        task=task,
        status="queued",
        ente_id=ente_id,
        created_by_id=actor.user_id,
        api_token_id=actor.api_token_id,
        actor_label=actor.label[:120],
        file_name=file_name,
        file_path=file_path,
        file_sha256=file_sha256,
        file_size=file_size,
        params=params or {},
        rows_done=0,
        attempts=0,
    )
    session.add(job)
    session.flush()
    if enqueue:
        _enqueue(session, job, queue_name)
    return job


def _enqueue(session: Session, job: BatchJob, queue_name: str = QUEUE) -> None:
    job.rq_job_id = f"batch-{job.id}" + (f"-{job.attempts + 1}" if job.attempts else "")
    enqueue_after_commit(session, job.task, job.id, queue_name=queue_name, job_id=job.rq_job_id)


@dataclass(frozen=True, slots=True)
class Claim:
    job: BatchJob
    attempt: int


def claim_job(session: Session, job_id: int) -> Claim | None:
    """Mark the job running for this run (compare-and-set). None when it is gone, done or cancelled.

    A job left `running` by a run that died (worker killed) can be claimed again: each run gets a new
    attempt number, and only the latest attempt may finish the job (`finish_job`)."""
    now = utcnow()
    result = session.execute(
        sa.update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.status.in_(("queued", "running", "failed")))
        .values(
            status="running",
            attempts=BatchJob.attempts + 1,
            started_dt=now,
            heartbeat_dt=now,
            finished_dt=None,
            phase="Avvio",
            rows_done=0,
            eta_seconds=None,
            error_message=None,
            result=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    job = session.get(BatchJob, job_id, populate_existing=True)
    assert job is not None
    return Claim(job, job.attempts)


def finish_job(
    session: Session,
    claim: Claim,
    *,
    status: str,
    result: dict[str, Any] | None,
    error_message: str | None = None,
    carico_id: int | None = None,
) -> bool:
    """Record the outcome, only if this run is still the job's latest attempt (else another run took over)
    and the job was not cancelled meanwhile. False: the caller rolls its work back."""
    values: dict[str, Any] = {
        "status": status,
        "result": result,
        "error_message": error_message,
        "finished_dt": utcnow(),
        "eta_seconds": None,
        "phase": "Completato" if status == "done" else "Terminato",
    }
    if carico_id is not None:
        values["carico_id"] = carico_id
    if status == "done":
        values["rows_done"] = sa.func.coalesce(BatchJob.rows_total, BatchJob.rows_done)
    done = (
        session.execute(
            sa.update(BatchJob)
            .where(
                BatchJob.id == claim.job.id,
                BatchJob.attempts == claim.attempt,
                BatchJob.status == "running",  # not cancelled meanwhile
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    session.expire(claim.job)
    return done


def cancel_job(session: Session, job: BatchJob) -> str:
    """Cancel a queued or running job; returns the status it had. A running one must then be stopped on its
    worker (`stop_rq_job`): whatever it was doing never commits, because `finish_job` only records the
    outcome of a job still running (the run rolls back instead)."""
    previous = job.status
    changed = session.execute(
        sa.update(BatchJob)
        .where(BatchJob.id == job.id, BatchJob.status.in_(CANCELLABLE))
        .values(status="cancelled", finished_dt=utcnow(), phase="Annullato", eta_seconds=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("Si può annullare solo un'elaborazione in coda o in corso.")
    session.expire(job)
    return previous


def stop_rq_job(connection: Any, rq_job_id: str) -> str:
    """Make the RQ side of a cancelled job stop: a job being executed gets RQ's stop-job command (its worker
    kills the work-horse's process group: the horse runs in a group of its own, so killing the worker's group
    does not reach it); a job still waiting is cancelled. Returns "stopped", "cancelled" or "gone"."""
    from rq.command import send_stop_job_command
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(rq_job_id, connection=connection)
    except NoSuchJobError:
        return "gone"
    if job.get_status() == JobStatus.STARTED:
        try:
            send_stop_job_command(connection, rq_job_id)
            return "stopped"
        except InvalidJobOperation:  # it finished in the meantime
            return "gone"
    try:
        job.cancel()
    except InvalidJobOperation:
        return "gone"
    return "cancelled"


def retry_job(session: Session, job: BatchJob) -> None:
    """Queue again a job that failed for a reason a new attempt can fix, or one still marked running whose
    worker stopped answering (`BatchJob.retryable`)."""
    if job.status == "failed" and not job.retryable:
        raise Conflict(
            "Il file è stato rifiutato: rilanciarlo darebbe lo stesso esito. "
            "Correggerlo e caricarlo di nuovo."
        )
    if not job.retryable:
        raise Conflict("Si può rilanciare solo un'elaborazione non riuscita o interrotta.")
    job.status = "queued"
    job.phase = "In coda (nuovo tentativo)"
    job.error_message = None
    session.flush()
    _enqueue(session, job)


def replace_errors(
    session: Session,
    job_id: int,
    rows: Iterator[dict[str, Any]] | None = None,
    *,
    copy_blocks: Iterator[bytes] | None = None,
) -> None:
    """The job's error report becomes `rows` (a run that starts again rewrites it from scratch)."""
    session.execute(sa.delete(BatchJobError).where(BatchJobError.batch_job_id == job_id))
    add_errors(session, rows, copy_blocks=copy_blocks)


def add_errors(
    session: Session,
    rows: Iterator[dict[str, Any]] | None = None,
    *,
    copy_blocks: Iterator[bytes] | None = None,
) -> None:
    """Append error rows: with PostgreSQL's COPY when `copy_blocks` (COPY text of ErrorSpool) is given."""
    conn = session.connection()
    if copy_blocks is not None and conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        columns = ", ".join(f'"{c}"' for c in ("batch_job_id", "line", "column", "reason", "value", "kind"))
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY batch_job_errors ({columns}) FROM STDIN WITH (FORMAT text, NULL '')") as copy,
        ):
            for block in copy_blocks:
                copy.write(block)
        return
    if rows is None:
        return
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 5000:
            session.execute(sa.insert(BatchJobError), batch)
            batch = []
    if batch:
        session.execute(sa.insert(BatchJobError), batch)


@dataclass(frozen=True, slots=True)
class Purge:
    removed: list[str]
    kept: int


def referenced_files(session: Session) -> set[str]:
    """Every path of the file store named by a column marked `info={STORED_FILE: True}`, in any module."""
    from app.core.db import Base
    from app.jobs.files import STORED_FILE

    paths: set[str] = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get(STORED_FILE):
                paths.update(session.scalars(sa.select(column).where(column.is_not(None)).distinct()).all())
    return paths


def purge_files(
    session: Session, root: str, *, older_than: dt.timedelta, now: dt.datetime, dry_run: bool = False
) -> Purge:
    """Remove the stored files that no row names and that are older than `older_than`: uploads previewed
    but never confirmed, and partial uploads left in `tmp/`. A file still referenced is never removed; a
    recent one is kept (its confirmation may be on its way). A thumbnail goes with its original: kept while
    the original is named."""
    from app.jobs.files import derived_from, remove, stored_files

    referenced = referenced_files(session)
    limit = (now - older_than).timestamp()
    removed: list[str] = []
    kept = 0
    for relative, mtime in stored_files(root):
        if relative in referenced or derived_from(relative) in referenced or mtime > limit:
            kept += 1
            continue
        if not dry_run:
            remove(root, relative)
        removed.append(relative)
    return Purge(sorted(removed), kept)
