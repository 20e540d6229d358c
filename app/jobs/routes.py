"""The jobs page: live progress (HTMX polling), rejected-rows reports, cancel and run again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.errors import Conflict
from app.extensions import db
from app.jobs import exports, queries, services
from app.jobs.exports import JOB_KIND_LABELS
from app.jobs.models import ERROR_KINDS, JOB_STATUSES
from app.reports.routes import export_list

bp = Blueprint("jobs", __name__, url_prefix="/elaborazioni")


def _jobs_context() -> dict[str, Any]:
    jobs = queries.list_jobs(db.session, current_principal())
    return {
        "jobs": jobs,
        "polling": queries.any_active(jobs),
        "kinds": JOB_KIND_LABELS,
        "statuses": JOB_STATUSES,
    }


@bp.route("/")
@permission_required("carichi.import")
def job_list() -> Any:
    template = "jobs/_job_rows.html" if request.htmx else "jobs/job_list.html"
    return render_template(template, **_jobs_context())


@bp.route("/esporta.<fmt>")
@permission_required("carichi.import")
def job_export(fmt: str) -> Any:
    from app.reports.exports import FORMATS

    if fmt not in FORMATS:
        abort(404)
    if not current_principal().can("export"):
        abort(403)
    return export_list(exports.jobs, fmt, {})


@bp.route("/righe")
@permission_required("carichi.import")
def job_rows() -> Any:
    return render_template("jobs/_job_rows.html", **_jobs_context())


def _job_or_404(job_id: int) -> Any:
    job = queries.get_job(db.session, current_principal(), job_id)
    if job is None:
        abort(404, "Elaborazione non trovata.")
    return job


@bp.route("/<int:job_id>")
@permission_required("carichi.import")
def job_detail(job_id: int) -> Any:
    job = _job_or_404(job_id)
    return render_template(
        "jobs/job_detail.html",
        job=job,
        counts=queries.error_counts(db.session, job.id),
        errors=queries.first_errors(db.session, job.id),
        kinds=JOB_KIND_LABELS,
        error_kinds=ERROR_KINDS,
    )


@bp.route("/<int:job_id>/scarti.<fmt>")
@permission_required("carichi.import")
def job_report(job_id: int, fmt: str) -> Any:
    """The rejected-rows report of a job, CSV or XLSX (streamed)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    job = _job_or_404(job_id)
    return export_list(exports.rejected_rows, fmt, {"job_id": job.id})


@bp.route("/<int:job_id>/annulla", methods=["POST"])
@permission_required("carichi.import")
def job_cancel(job_id: int) -> Any:
    job = _job_or_404(job_id)
    try:
        previous = services.cancel_job(db.session, job)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("jobs.job_list"))
    rq_job_id = job.rq_job_id
    db.session.commit()
    _stop_rq(rq_job_id)
    if previous == "running":
        flash(
            f"Elaborazione n. {job_id} annullata: il worker la interrompe e nulla di quanto elaborato viene "
            "registrato.",
            "success",
        )
    else:
        flash(f"Elaborazione n. {job_id} annullata.", "success")
    return redirect(url_for("jobs.job_list"))


def _stop_rq(rq_job_id: str | None) -> None:
    """Best effort: the job row is already cancelled, so a job that still starts, or still runs, can record
    nothing (it exits at once, or rolls back when it tries to finish)."""
    if not rq_job_id:
        return
    try:
        from app.core.jobs import connection

        services.stop_rq_job(connection(), rq_job_id)
    except Exception:  # noqa: BLE001 - Redis down: the row is cancelled anyway
        current_app.logger.info("RQ job %s not stopped (Redis unavailable)", rq_job_id)


@bp.route("/<int:job_id>/riprova", methods=["POST"])
@permission_required("carichi.import")
def job_retry(job_id: int) -> Any:
    job = _job_or_404(job_id)
    try:
        services.retry_job(db.session, job)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("jobs.job_list"))
    db.session.commit()
    flash(f"Elaborazione n. {job_id} di nuovo in coda.", "success")
    return redirect(url_for("jobs.job_list"))
