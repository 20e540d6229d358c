"""Route helpers and pages of the exports run as jobs: start one from a list's export link when it is large,
follow its progress, download the file when ready (only the user who asked for it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.core.access import current_principal, permission_required
from app.core.security import current_actor
from app.extensions import db
from app.reports import export_jobs
from app.reports.exports import FORMATS, MIMETYPES, PDF_MAX_ROWS, ExportTooLarge, export_response

bp = Blueprint("export_jobs", __name__, url_prefix="/esportazioni")


def export_list(
    source: export_jobs.Source, fmt: str, params: dict[str, Any], *, generated_at: dt.datetime | None = None
) -> Any:
    """The export route of a list: the file in the request, or, above EXPORT_JOB_THRESHOLD rows (CSV, XLSX,
    ODS, ODT, XML), a job and a redirect to its page. A PDF never becomes a job: above PDF_MAX_ROWS it is
    refused at once (422, Italian message pointing to CSV/XLSX, with the count).

    :raise 404: ``fmt`` is not an export format.
    """
    if fmt not in FORMATS:
        abort(404)
    large = start_large_export(source, fmt, params)
    if large is not None:
        return large
    spec, rows, count = source(db.session, current_principal(), dict(params))
    if fmt == "pdf" and (total := count()) > PDF_MAX_ROWS:
        raise ExportTooLarge("PDF", max_rows=PDF_MAX_ROWS, rows=total)
    return export_response(rows, spec, fmt, generated_at=generated_at)


def start_large_export(
    source: export_jobs.Source, fmt: str, params: dict[str, Any], *, title: str | None = None
) -> Any:
    """When the export has more rows than EXPORT_JOB_THRESHOLD, queue it as a job and answer with a redirect
    to its page; otherwise None (the route exports directly). ``title`` names the job (default: the
    spec's)."""
    if fmt not in export_jobs.JOB_FORMATS:
        return None
    principal = current_principal()
    spec, _rows, count = source(db.session, principal, dict(params))
    total = count()
    if not export_jobs.runs_as_job(fmt, total, int(current_app.config["EXPORT_JOB_THRESHOLD"])):
        return None
    job = export_jobs.start_export_job(
        db.session,
        principal,
        current_actor(),
        source,
        fmt,
        params,
        title=title or spec.title,
        rows_total=total,
        generated_at=dt.datetime.now(dt.UTC),
    )
    db.session.commit()
    flash(
        f"L'esportazione ha {total:,} righe".replace(",", ".")
        + ": viene preparata in background. Scaricala da questa pagina quando è pronta.",
        "info",
    )
    return redirect(url_for("export_jobs.export_status", job_id=job.id))


def _own_export_or_404(job_id: int) -> Any:
    from app.jobs.queries import get_job

    job = get_job(db.session, current_principal(), job_id)
    if job is None or job.kind != export_jobs.KIND or job.created_by_id != current_user.id:
        abort(404, "Esportazione non trovata.")
    return job


@bp.get("/<int:job_id>")
@permission_required("export")
def export_status(job_id: int) -> Any:
    job = _own_export_or_404(job_id)
    template = "reports/_export_status.html" if request.htmx else "reports/export_status.html"
    return render_template(template, job=job)


@bp.get("/<int:job_id>/file")
@permission_required("export")
def export_download(job_id: int) -> Any:
    from app.jobs.files import path_of

    job = _own_export_or_404(job_id)
    result = job.result or {}
    if job.status != "done" or not job.file_path:
        abort(404, "Il file non è ancora pronto.")
    return send_file(
        path_of(current_app.config["FILE_STORE"], job.file_path),
        mimetype=MIMETYPES.get(result.get("fmt") or "", "application/octet-stream"),
        as_attachment=True,
        download_name=result.get("filename") or f"esportazione_{job.id}",
        max_age=0,
    )
