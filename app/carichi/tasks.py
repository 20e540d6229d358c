"""The import job (RQ, queue "imports"; the CLI runs the same function synchronously).

Steps, each committed on its own so that a crash at any moment leaves a consistent state:
1. claim the job (queued/running/failed -> running, a new attempt number) and commit;
2. phase 1, no transaction held: check and validate the stored file, spooling stage rows and rejected rows;
   progress goes to the job row on its own connection (`ProgressReporter`);
3. store the rejected-rows report (replacing one from an earlier attempt) and commit: it is kept whatever
   happens next, and it belongs to the job, not to the carico;
4. phase 2 in ONE transaction: load (or apply) everything, record the outcome on the job, commit. A refusal
   (error rate, duplicate file) rolls everything back and records the refusal instead.
Killing the worker during 4 leaves nothing of the file visible (the transaction never committed); running the
job again starts from 1 and completes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from flask import current_app

from app.carichi import services
from app.carichi.loading import Refused
from app.carichi.pipeline import PARALLEL_MIN_BYTES, ErrorSpool
from app.carichi.reading import FileRefused
from app.core.errors import DomainError
from app.extensions import db
from app.jobs import services as job_services
from app.jobs.files import path_of
from app.jobs.progress import ProgressReporter

log = logging.getLogger(__name__)


def run_import(job_id: int) -> dict[str, Any] | None:
    """Run (or run again) the import job `job_id`; returns its result, None when there is nothing to do."""
    session = db.session
    claim = job_services.claim_job(session, job_id)
    if claim is None:
        session.rollback()
        log.info("run_import: job %s is gone, done or cancelled; nothing to do", job_id)
        return None
    session.commit()
    job = claim.job
    session.info["actor_id"] = job.created_by_id
    reporter = ProgressReporter(db.engine, job.id)
    actor = services.actor_of_job(job)
    today = dt.date.today()
    config = current_app.config
    try:
        target = services.target_of_job(session, job)
        spec, ctx = target.spec, services.row_context(session, target, today)
        job_id, sha256, file_path = job.id, job.file_sha256, job.file_path or ""
        session.commit()  # nothing is held open while the file is read
        reporter.phase("Lettura e controllo delle righe")
        prepared = services.prepare_import(
            job_id,
            sha256,
            spec,
            ctx,
            path_of(config["FILE_STORE"], file_path),
            progress=reporter.rows,
            workers=int(config.get("IMPORT_WORKERS") or os.cpu_count() or 1),
            parallel_min_bytes=int(config.get("IMPORT_PARALLEL_MIN_BYTES", PARALLEL_MIN_BYTES)),
        )
    except (FileRefused, DomainError, FileNotFoundError) as exc:
        message = getattr(exc, "message", None) or "Il file archiviato non è più disponibile."
        line = getattr(exc, "line", None)
        session.rollback()
        job_services.replace_errors(
            session,
            job.id,
            iter(
                [
                    {
                        "batch_job_id": job.id,
                        "line": line,
                        "column": None,
                        "reason": message[:500],
                        "value": None,
                        "kind": "rejected",
                    }
                ]
            ),
        )
        result = services.summary(
            carico_id=None, accepted=0, rejected=0, duplicates=0, status="rifiutato", message=message
        )
        job_services.finish_job(session, claim, status="failed", result=result, error_message=message)
        session.commit()
        return result
    except Exception as exc:
        _fail(claim, exc)
        raise
    late = ErrorSpool(job.id)
    try:
        reporter.rows(prepared.rows, prepared.rows, force=True)
        job_services.replace_errors(
            session, job.id, prepared.errors.rows(), copy_blocks=prepared.errors.copy_blocks()
        )
        session.commit()
        counts = {"rows": prepared.rows, "valid": prepared.valid}
        try:
            reporter.phase("Caricamento nel database")
            loaded = services.load_import(
                session,
                job,
                target,
                prepared,
                late,
                actor,
                today,
                lambda label: reporter.phase(label, during_load=True),
            )
        except Refused as exc:
            session.rollback()
            job_services.add_errors(session, late.rows(), copy_blocks=late.copy_blocks())
            rejected = prepared.rejected + sum(1 for e in late.rows() if e["kind"] == "rejected")
            result = services.summary(
                carico_id=None,
                accepted=0,
                rejected=rejected,
                duplicates=0,
                status=exc.status,
                message=exc.message,
                **counts,
            )
            job_services.finish_job(session, claim, status="failed", result=result, error_message=exc.message)
            session.commit()
            return result
        job_services.add_errors(session, late.rows(), copy_blocks=late.copy_blocks())
        outcome = loaded.result
        status = "caricato" if target.layout.flow == "carico" else "applicato"
        result = services.summary(
            carico_id=loaded.carico_id,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            duplicates=outcome.duplicates,
            status=status,
            total_cents=outcome.total_cents,
            taxpayers_created=outcome.taxpayers_created,
            **counts,
        )
        if not job_services.finish_job(
            session, claim, status="done", result=result, carico_id=loaded.carico_id
        ):
            session.rollback()  # a later attempt took the job over: its outcome stands
            return None
        session.commit()
        return result
    except Exception as exc:
        _fail(claim, exc)
        raise
    finally:
        prepared.close()
        late.close()


def run_preview(
    ente_id: int, entrata_id: int | None, layout_id: int, relative_path: str, today: str
) -> dict[str, Any]:
    """The upload page's preview of a stored file (queue "default"; the page polls for the outcome). Reads
    only: the session is rolled back whatever happens."""
    session = db.session
    try:
        target = services.resolve_target(session, ente_id=ente_id, entrata_id=entrata_id, layout_id=layout_id)
        return services.preview_result(
            session,
            target,
            path_of(current_app.config["FILE_STORE"], relative_path),
            dt.date.fromisoformat(today),
        )
    except DomainError as exc:
        return {"refused": exc.message}
    finally:
        session.rollback()


def _fail(claim: job_services.Claim, exc: Exception) -> None:
    """An unexpected error: nothing of the file was kept (the load never committed); say so on the job."""
    session = db.session
    session.rollback()
    log.exception("run_import: job %s failed", claim.job.id)
    message = f"Errore interno durante l'elaborazione: {type(exc).__name__}. Nessuna riga è stata caricata."
    result = services.summary(
        carico_id=None, accepted=0, rejected=0, duplicates=0, status="errore", message=message
    )
    job_services.finish_job(session, claim, status="failed", result=result, error_message=message)
    session.commit()
