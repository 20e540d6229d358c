"""Analisi: the dashboards (charts + tables + exports + PDF) and the ad-hoc query builder (saved, shared,
scheduled). Thin routes: parse, authorise, call the slice, commit, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from app.analytics import builder, dashboards, exports, scheduled
from app.analytics.datasets import dataset, datasets
from app.analytics.forms import BuilderQuery, DashboardQuery, SaveQueryForm, ScheduleForm, spec_args
from app.analytics.models import DELIVERIES, FREQUENCIES
from app.analytics.summary import last_refresh
from app.core.access import ROLE_LABELS, STAFF_ROLES, current_principal, permission_required
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.extensions import db
from app.reports.exports import FORMAT_LABELS, FORMATS, ExportTooLarge, export_response
from app.reports.routes import export_list

bp = Blueprint("analytics", __name__, url_prefix="/analisi")


def _enti() -> dict[int, str]:
    from app.enti.queries import list_enti

    return {e.id: f"{e.code} · {e.name}" for e in list_enti(db.session, current_principal().ente_ids)}


def _dashboard_args() -> tuple[int | None, list[dashboards.Panel]]:
    form = valid_query(DashboardQuery(request.args))
    principal = current_principal()
    ente_id = form.ente.data if form.ente.data in principal.ente_ids else None
    return ente_id, dashboards.build_dashboard(db.session, principal, ente_id=ente_id)


@bp.get("/")
@permission_required("analytics.read")
def dashboard() -> Any:
    ente_id, panels = _dashboard_args()
    refreshed, as_of = last_refresh(db.session)
    return render_template(
        "analytics/dashboard.html",
        panels=panels,
        enti=_enti(),
        ente_id=ente_id,
        refreshed=refreshed,
        as_of=as_of,
        formats=FORMATS,
    )


@bp.get("/cruscotto.pdf")
@permission_required("export")
def dashboard_pdf() -> Any:
    from app.analytics.pdf import render_dashboard_pdf

    if not current_principal().can("analytics.read"):
        abort(403)
    ente_id, panels = _dashboard_args()
    enti = _enti()
    now = utcnow()
    subtitle = f"Ente: {enti[ente_id]}" if ente_id else f"Enti: {', '.join(enti.values()) or 'nessuno'}"
    pdf = render_dashboard_pdf(panels, subtitle=subtitle, generated_at=now)
    name = f"cruscotto_{now:%Y%m%d}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.get("/cruscotto/<panel>.<fmt>")
@permission_required("export")
def panel_export(panel: str, fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    if not current_principal().can("analytics.read"):
        abort(403)
    _, panels = _dashboard_args()
    found = dashboards.panel_by_key(panels, panel)
    if found is None:
        abort(404)
    return export_response(found.rows, found.spec(), fmt)


# --- the query builder ----------------------------------------------------------------------------------


def _builder_form() -> tuple[BuilderQuery, builder.QuerySpec]:
    form = BuilderQuery(request.args)
    ds = dataset(request.args.get("dataset") or "posizioni") or datasets()["posizioni"]
    form.set_choices(ds)
    valid_query(form)
    return form, form.spec()


@bp.get("/interrogazioni")
@permission_required("analytics.query")
def query_builder() -> Any:
    principal = current_principal()
    form, spec = _builder_form()
    rows: list[dict[str, Any]] = []
    plan = chart = None
    error = None
    ran = "dataset" in request.args
    if ran:
        try:
            plan = builder.plan(spec, principal)
            rows = list(plan.rows(db.session, limit=builder.SCREEN_ROWS + 1))
            chart = plan.chart(rows[: builder.SCREEN_ROWS])
        except builder.SpecError as exc:
            error = str(exc)
    save_form = SaveQueryForm()
    save_form.condividi.choices = [
        ("", "Nessuno (solo io)"),
        *((r, ROLE_LABELS[r]) for r in ROLE_LABELS if r in STAFF_ROLES),
    ]
    return render_template(
        "analytics/builder.html",
        form=form,
        plan=plan,
        rows=rows[: builder.SCREEN_ROWS],
        more=len(rows) > builder.SCREEN_ROWS,
        chart=chart,
        error=error,
        ran=ran,
        save_form=save_form,
        args=spec_args(spec),
        formats=FORMATS,
        saved=scheduled.visible_queries(db.session, principal),
        screen_rows=builder.SCREEN_ROWS,
    )


@bp.get("/interrogazioni/export.<fmt>")
@permission_required("analytics.query")
def query_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    principal = current_principal()
    if not principal.can("export"):
        abort(403)
    _, spec = _builder_form()
    try:
        builder.plan(spec, principal)  # a bad spec is a 400 here, before any job
        return export_list(exports.query_results, fmt, exports.spec_params(spec))
    except builder.SpecError as exc:
        abort(400, description=str(exc))
    except ExportTooLarge as exc:
        flash(str(exc), "warning")
        return redirect(url_for("analytics.query_builder", **spec_args(spec)))


@bp.post("/interrogazioni/salva")
@permission_required("analytics.query")
def query_save() -> Any:
    principal = current_principal()
    form, spec = _builder_form()
    save_form = SaveQueryForm()
    save_form.condividi.choices = [("", ""), *((r, r) for r in ROLE_LABELS if r in STAFF_ROLES)]
    if not save_form.validate():
        flash("Indicare un nome per l'interrogazione.", "warning")
        return redirect(url_for("analytics.query_builder", **spec_args(spec)))
    try:
        saved = scheduled.save_query(
            db.session, principal, spec, save_form.nome.data or "", save_form.condividi.data or None
        )
    except builder.SpecError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("analytics.query_builder", **spec_args(spec)))
    db.session.commit()
    flash(f"Interrogazione «{saved.name}» salvata.", "success")
    return redirect(url_for("analytics.saved_query", saved_query_id=saved.id))


def _visible_or_404(saved_query_id: int) -> Any:
    saved = scheduled.get_visible(db.session, current_principal(), saved_query_id)
    if saved is None:
        abort(404)
    return saved


def _schedule_form(data: Any = None) -> ScheduleForm:
    form = ScheduleForm(data)
    form.frequenza.choices = [("", "Non pianificata"), *FREQUENCIES.items()]
    form.consegna.choices = list(DELIVERIES.items())
    form.formato.choices = [(f, FORMAT_LABELS[f]) for f in FORMATS]
    form.ente.choices = [(0, "—"), *_enti().items()]
    return form


@bp.get("/interrogazioni/<int:saved_query_id>")
@permission_required("analytics.query")
def saved_query(saved_query_id: int) -> Any:
    saved = _visible_or_404(saved_query_id)
    form = _schedule_form()
    if not form.is_submitted():
        form.frequenza.data = saved.frequency or ""
        form.consegna.data = saved.delivery or "email"
        form.formato.data = saved.export_format or "xlsx"
        form.destinatario.data = saved.recipient
        form.ente.data = saved.archive_ente_id or 0
        form.dal.data = saved.next_run
    spec = builder.QuerySpec.from_json(saved.spec)
    return render_template(
        "analytics/saved.html",
        saved=saved,
        form=form,
        args=spec_args(spec),
        owner=saved.owner_id == current_principal().user_id,
        frequencies=FREQUENCIES,
        deliveries=DELIVERIES,
        ds=dataset(saved.dataset),
        roles=ROLE_LABELS,
    )


@bp.post("/interrogazioni/<int:saved_query_id>/pianifica")
@permission_required("analytics.query")
def saved_query_schedule(saved_query_id: int) -> Any:
    saved = _visible_or_404(saved_query_id)
    form = _schedule_form()
    if not form.validate():
        flash("Pianificazione non valida: controllare i campi.", "warning")
        return redirect(url_for("analytics.saved_query", saved_query_id=saved.id))
    try:
        scheduled.set_schedule(
            saved,
            current_principal(),
            frequency=form.frequenza.data or None,
            delivery=form.consegna.data,
            export_format=form.formato.data,
            recipient=form.destinatario.data or None,
            archive_ente_id=form.ente.data or None,
            start=form.dal.data or dt.date.today(),
        )
    except DomainError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("analytics.saved_query", saved_query_id=saved.id))
    db.session.commit()
    flash("Pianificazione salvata." if saved.frequency else "Pianificazione rimossa.", "success")
    return redirect(url_for("analytics.saved_query", saved_query_id=saved.id))


@bp.post("/interrogazioni/<int:saved_query_id>/elimina")
@permission_required("analytics.query")
def saved_query_delete(saved_query_id: int) -> Any:
    saved = _visible_or_404(saved_query_id)
    if saved.owner_id != current_principal().user_id:
        abort(403)
    db.session.delete(saved)
    db.session.commit()
    flash("Interrogazione eliminata.", "success")
    return redirect(url_for("analytics.query_builder"))
