"""RQ jobs of the reports: a large export written into the file store (app/reports/export_jobs.py)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)


def run_export_job(job_id: int) -> dict[str, Any] | None:
    from app.jobs import services as job_services
    from app.jobs.progress import ProgressReporter
    from app.reports.export_jobs import write_job_file

    session = db.session
    claim = job_services.claim_job(session, job_id)
    if claim is None:
        session.rollback()
        return None
    session.commit()
    job = claim.job
    params = dict(job.params or {})
    reporter = ProgressReporter(db.engine, job.id)
    total = job.rows_total
    try:
        reporter.phase("Scrittura del file")
        stored, filename, rows = write_job_file(
            session, params, current_app.config["FILE_STORE"], lambda done: reporter.rows(done, total)
        )
        job = session.get(type(job), job_id)
        job.file_path = stored.relative_path
        job.file_sha256 = stored.sha256
        job.file_size = stored.size
        job.rows_total = rows
        job.rows_done = rows
        result = {"status": "pronto", "filename": filename, "rows": rows, "fmt": params.get("fmt")}
        if not job_services.finish_job(session, claim, status="done", result=result):
            session.rollback()
            return None
        session.commit()
        return result
    except Exception:
        session.rollback()
        log.exception("run_export_job: job %s failed", job_id)
        job_services.finish_job(
            session,
            claim,
            status="failed",
            result={"status": "errore"},
            error_message="Errore interno durante l'esportazione: nessun file prodotto.",
        )
        session.commit()
        raise
