"""Screens of the acts: the acts list and an act's page with its PDF; campaigns (list, new with criteria,
preview with exclusions and sample acts, approve, stop/resume, progress); the act templates with a live
preview on a sample position (admin)."""

from __future__ import annotations

import base64
import io
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for

from app.atti import campaigns, forms, queries, rendering, services
from app.atti.models import ACT_STATUSES, ITEM_STATUSES
from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.pdf_images import render_pages
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.engine.states import STATES
from app.extensions import db

bp = Blueprint("atti", __name__, url_prefix="/atti")


def _enti() -> list[Any]:
    from app.enti.queries import list_enti

    return list_enti(db.session, current_principal().ente_ids)


# --- acts -------------------------------------------------------------------------------------------------


@bp.route("/")
@permission_required("acts.read")
def act_list() -> Any:
    args = valid_query(forms.ActFilters(request.args))
    type_code = args.tipo.data or None
    result = queries.list_acts(
        db.session,
        current_principal(),
        page=args.pagina.data or 1,
        ente_id=args.ente.data,
        type_code=type_code,
        status=args.stato.data or None,
        campaign_id=args.campagna.data,
    )
    return render_template(
        "atti/act_list.html",
        result=result,
        enti=_enti(),
        types=queries.act_types(db.session),
        statuses=ACT_STATUSES,
        filters={
            "ente": args.ente.data or "",
            "tipo": type_code or "",
            "stato": args.stato.data or "",
            "campagna": args.campagna.data or "",
        },
    )


@bp.route("/<int:act_id>")
@permission_required("acts.read")
def act_detail(act_id: int) -> Any:
    act = queries.get_act(db.session, current_principal(), act_id)
    if act is None:
        abort(404)
    _log_read(act, "act_detail")
    db.session.commit()
    from app.dynamics.queries import superseding_measures

    superseded = superseding_measures(db.session, current_principal(), act.id)  # importi superati da sgravio
    return render_template("atti/act_detail.html", act=act, superseded=superseded)


@bp.route("/<int:act_id>/pdf")
@permission_required("acts.read")
def act_pdf(act_id: int) -> Any:
    from app.archive.models import Document
    from app.jobs.files import path_of

    act = queries.get_act(db.session, current_principal(), act_id)
    if act is None:
        abort(404)
    document = db.session.get(Document, act.document_id)
    if document is None:
        abort(404)
    _log_read(act, "act_pdf")
    db.session.commit()
    path = path_of(current_app.config["FILE_STORE"], document.file_path)
    return send_file(
        path, mimetype="application/pdf", download_name=f"{act.protocol}.pdf", as_attachment=False
    )


def _log_read(act: Any, action: str) -> None:
    from app.core.audit import log_access

    log_access(
        db.session,
        current_actor(),
        action,
        taxpayer_id=act.taxpayer_id,
        remote_addr=request.remote_addr,
        detail={"act": act.id},
    )


# --- campaigns --------------------------------------------------------------------------------------------


@bp.route("/campagne")
@permission_required("acts.read")
def campaign_list() -> Any:
    args = valid_query(forms.ListFilters(request.args))
    result = queries.list_campaigns(db.session, current_principal(), page=args.pagina.data or 1)
    return render_template("atti/campaign_list.html", result=result)


def _campaign_form() -> forms.CampaignForm:
    from app.enti.models import Entrata

    form = forms.CampaignForm()
    enti = _enti()
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in enti]
    form.act_type.choices = [(t.code, t.name) for t in queries.act_types(db.session)]
    entrate = [e for ente in enti for e in db.session.query(Entrata).filter(Entrata.ente_id == ente.id)]
    form.entrata_id.choices = [(0, "Tutte")] + [(e.id, f"{e.ente.code} – {e.name}") for e in entrate]
    form.states.choices = list(STATES.items())
    if request.method == "GET" and not form.issue_date.data:
        from app.positions.amounts import today_rome

        form.issue_date.data = today_rome()
        form.states.data = ["notificata", "scaduta", "caricata", "parzialmente_pagata"]
    return form


@bp.route("/campagne/nuova", methods=["GET", "POST"])
@permission_required("acts.issue")
def campaign_new() -> Any:
    from app.enti.models import Ente

    form = _campaign_form()
    if form.validate_on_submit():
        ente = db.session.get(Ente, form.ente_id.data)
        if ente is None or ente.id not in current_principal().ente_ids:
            abort(403)
        entrata_id = form.entrata_id.data or None
        if entrata_id and entrata_id not in {c[0] for c in form.entrata_id.choices}:
            abort(400)
        criteria = campaigns.Criteria(
            entrata_id=entrata_id,
            carico_id=form.carico_id.data,
            states=list(form.states.data or []),
            min_cents=campaigns.euro_to_cents(form.min_amount.data),
            max_cents=campaigns.euro_to_cents(form.max_amount.data),
            notified_days=form.notified_days.data,
            prescription_days=form.prescription_days.data,
        )
        try:
            campaign = campaigns.create_campaign(
                db.session,
                current_principal(),
                current_actor(),
                ente=ente,
                act_code=form.act_type.data,
                name=form.name.data,
                criteria=criteria,
                issue_date=form.issue_date.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, exc.message]
        else:
            db.session.commit()
            return redirect(url_for("atti.campaign_detail", campaign_id=campaign.id))
    return render_template("atti/campaign_new.html", form=form)


def _campaign_or_404(campaign_id: int) -> Any:
    campaign = queries.get_campaign(db.session, current_principal(), campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/campagne/<int:campaign_id>")
@permission_required("acts.read")
def campaign_detail(campaign_id: int) -> Any:
    from app.jobs.models import BatchJob

    campaign = _campaign_or_404(campaign_id)
    counts = campaigns.item_counts(db.session, campaign.id)
    job = db.session.get(BatchJob, campaign.job_id) if campaign.job_id else None
    principal = current_principal()
    context = {
        "campaign": campaign,
        "counts": counts,
        "job": job,
        "item_statuses": ITEM_STATUSES,
        "four_eyes": campaigns.four_eyes(db.session, campaign.ente_id, campaign.issue_date),
        "can_issue": principal.can("acts.issue"),
        "can_approve": principal.can("acts.approve"),
    }
    if request.headers.get("HX-Request"):
        return render_template("atti/_campaign_progress.html", **context)
    return render_template(
        "atti/campaign_detail.html",
        form=forms.ActionForm(),
        excluded=queries.excluded_items(db.session, campaign),
        samples=queries.sample_positions(db.session, campaign),
        **context,
    )


@bp.route("/campagne/<int:campaign_id>/esempio/<any('1','2','3'):n>.pdf")
@permission_required("acts.read")
def campaign_sample(campaign_id: int, n: str) -> Any:
    """A sample act of the campaign (rendered now, never stored, marked as a preview)."""
    from app.positions.models import Position

    campaign = _campaign_or_404(campaign_id)
    positions = queries.sample_positions(db.session, campaign)
    if int(n) > len(positions):
        abort(404)
    position = db.session.get(Position, positions[int(n) - 1])
    try:
        prepared = services.check_position(db.session, position, campaign.act_type, campaign.issue_date)
        data = services.act_data(
            ente=position.ente,
            entrata=position.entrata,
            position=position,
            taxpayer=position.taxpayer,
            act_type=campaign.act_type,
            protocol="ANTEPRIMA",
            on=campaign.issue_date,
            notice_number=services.existing_notice_number(db.session, position),
            lines=prepared.lines,
            total_cents=prepared.amount_cents,
            term=prepared.term,
            signature=services.signatory(db.session, position.ente, campaign.issue_date),
        )
        pdf = rendering.render(prepared.template.source, data).pdf
    except (DomainError, rendering.TemplateError) as exc:
        abort(422, getattr(exc, "message", str(exc)))
    db.session.rollback()
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=f"anteprima-{n}.pdf")


def _action(campaign_id: int, permission: str, run: Any, done: str) -> Any:
    campaign = _campaign_or_404(campaign_id)
    if not current_principal().can(permission):
        abort(403)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        run(campaign)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("atti.campaign_detail", campaign_id=campaign_id))


@bp.route("/campagne/<int:campaign_id>/approva", methods=["POST"])
@permission_required("acts.issue")
def campaign_approve(campaign_id: int) -> Any:
    can = current_principal().can("acts.approve")
    return _action(
        campaign_id,
        "acts.issue",
        lambda c: campaigns.approve_campaign(db.session, c, current_actor(), can_approve=can),
        "Campagna approvata: l'emissione degli atti è in corso.",
    )


@bp.route("/campagne/<int:campaign_id>/sospendi", methods=["POST"])
@permission_required("acts.issue")
def campaign_stop(campaign_id: int) -> Any:
    return _action(
        campaign_id,
        "acts.issue",
        lambda c: campaigns.stop_campaign(db.session, c),
        "Campagna sospesa: gli atti già emessi restano.",
    )


@bp.route("/campagne/<int:campaign_id>/riprendi", methods=["POST"])
@permission_required("acts.issue")
def campaign_resume(campaign_id: int) -> Any:
    return _action(
        campaign_id,
        "acts.issue",
        lambda c: campaigns.resume_campaign(db.session, c, current_actor()),
        "Campagna ripresa dal punto in cui era stata sospesa.",
    )


# --- templates --------------------------------------------------------------------------------------------


@bp.route("/modelli")
@permission_required("acts.templates")
def template_list() -> Any:
    return render_template(
        "atti/template_list.html", templates=queries.list_templates(db.session, current_principal())
    )


@bp.route("/modelli/<int:act_template_id>", methods=["GET", "POST"])
@permission_required("acts.templates")
def template_edit(act_template_id: int) -> Any:
    from app.enti.models import Entrata

    template = queries.get_template(db.session, current_principal(), act_template_id)
    if template is None:
        abort(404)
    form = forms.TemplateForm()
    entrate = list(
        db.session.query(Entrata).filter(Entrata.ente_id == template.ente_id).order_by(Entrata.code)
    )
    form.entrata_id.choices = [(0, "Tutte le entrate")] + [(e.id, e.name) for e in entrate]
    if request.method == "GET":
        form.source.data = template.source
        form.entrata_id.data = template.entrata_id or 0
        from app.positions.amounts import today_rome

        form.valid_from.data = max(today_rome(), template.valid_from)
    error = None
    if form.validate_on_submit():
        try:
            new = services.save_template_version(
                db.session,
                ente_id=template.ente_id,
                entrata_id=form.entrata_id.data or None,
                act_type=template.act_type,
                source=form.source.data.replace("\r\n", "\n"),
                valid_from=form.valid_from.data,
                actor=current_actor(),
                note=form.note.data or None,
            )
        except rendering.TemplateError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            flash(
                f"Nuova versione {new.version} del modello salvata: gli atti già emessi non cambiano.",
                "success",
            )
            return redirect(url_for("atti.template_edit", act_template_id=new.id))
    return render_template(
        "atti/template_edit.html", template=template, form=form, error=error, preview=forms.PreviewForm()
    )


@bp.route("/modelli/anteprima", methods=["POST"])
@permission_required("acts.templates")
def template_preview() -> Any:
    """HTMX: the first page of the template rendered on a sample position (an image), or Typst's error."""
    form = forms.PreviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        act_type = services.act_type_by_code(db.session, form.act_type.data)
    except DomainError:
        abort(400)
    try:
        pdf = rendering.render(form.source.data.replace("\r\n", "\n"), services.sample_data(act_type)).pdf
    except rendering.TemplateError as exc:
        return render_template("atti/_template_preview.html", error=exc, images=[])
    return render_template("atti/_template_preview.html", error=None, images=_png_pages(pdf))


def _png_pages(pdf: bytes, pages: int = 2) -> list[str]:
    out = []
    for image in render_pages(pdf, scale=0.9, pages=pages):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        out.append(base64.b64encode(buffer.getvalue()).decode())
    return out
