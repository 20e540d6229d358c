"""The batch monitor (administrators): every periodic job with next and last run, outcome and duration, the
history, "Esegui ora", a run programmed for a later time, the history exported."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.batch import services, tasks
from app.batch.forms import CancelRunForm, RunNowForm, ScheduleRunForm
from app.core import periodic
from app.core.access import permission_required
from app.core.errors import DomainError
from app.core.security import current_actor
from app.extensions import db
from app.reports.exports import FORMATS, Column, ExportSpec, export_response

bp = Blueprint("batch", __name__, url_prefix="/amministrazione/batch")

RUNS_SPEC = ExportSpec(
    title="Esecuzioni dei lavori periodici",
    filename_stem="esecuzioni_lavori_periodici",
    columns=[
        Column("job", "Lavoro", width=40),
        Column("trigger", "Avvio"),
        Column("scheduled_for", "Programmata per", "datetime"),
        Column("started", "Inizio", "datetime"),
        Column("finished", "Fine", "datetime"),
        Column("duration_s", "Durata (s)", "int"),
        Column("status", "Esito"),
        Column("error", "Errore", width=50),
    ],
)


def _page(schedule_form: ScheduleRunForm | None = None) -> Any:
    return render_template(
        "batch/monitor.html",
        rows=services.overview(db.session),
        runs=services.history(db.session, limit=30),
        jobs=periodic.registry(),
        run_form=RunNowForm(),
        schedule_form=schedule_form or ScheduleRunForm(),
        cancel_form=CancelRunForm(),
        formats=FORMATS,
    )


@bp.get("/")
@permission_required("batch.manage")
def monitor() -> Any:
    return _page()


@bp.get("/lavoro/<job_name>")
@permission_required("batch.manage")
def job_detail(job_name: str) -> Any:
    job = periodic.get(job_name)
    if job is None:
        abort(404, "Lavoro periodico non trovato.")
    row = next(r for r in services.overview(db.session) if r.job.name == job.name)
    return render_template(
        "batch/job_detail.html",
        row=row,
        job=job,
        runs=services.history(db.session, job.name, limit=200),
        run_form=RunNowForm(job=job.name),
        cancel_form=CancelRunForm(),
        formats=FORMATS,
    )


@bp.post("/esegui")
@permission_required("batch.manage")
def run_now() -> Any:
    form = RunNowForm()
    job = periodic.get(form.job.data or "") if form.validate_on_submit() else None
    if job is None:
        abort(400)
    run = services.request_run(db.session, current_actor(), job)
    db.session.commit()
    tasks.enqueue_run(run.id, job.name, None)
    flash(f"«{job.description}»: esecuzione in coda.", "success")
    if request.form.get("next") == "job":
        return redirect(url_for("batch.job_detail", job_name=job.name))
    return redirect(url_for("batch.monitor"))


@bp.post("/programma")
@permission_required("batch.manage")
def schedule_run() -> Any:
    form = ScheduleRunForm()
    if form.validate_on_submit():
        job = periodic.get(form.job.data)
        if job is None:
            abort(400)
        at = form.run_at.data.replace(tzinfo=periodic.ROME)
        try:
            run = services.request_run(db.session, current_actor(), job, at=at)
        except DomainError as exc:
            db.session.rollback()
            form.run_at.errors = [*form.run_at.errors, exc.message]
        else:
            db.session.commit()
            tasks.enqueue_run(run.id, job.name, at)
            flash(f"«{job.description}»: esecuzione programmata.", "success")
            return redirect(url_for("batch.monitor"))
    return _page(form), 422


@bp.post("/annulla")
@permission_required("batch.manage")
def cancel_run() -> Any:
    form = CancelRunForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        run = services.cancel_run(db.session, current_actor(), form.run_id.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("batch.monitor"))
    db.session.commit()
    tasks.cancel_rq(run.rq_job_id)
    flash("Esecuzione programmata annullata.", "success")
    return redirect(url_for("batch.monitor"))


@bp.get("/esecuzioni.<fmt>")
@permission_required("batch.manage")
def runs_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    return export_response(services.runs_export_rows(db.session), RUNS_SPEC, fmt)
