"""Screens of the escalation: the proposals' review by step (`/escalation/proposte`), one step's proposals
with a sample, exclusions and the approval as a campaign, the rules (`/escalation/regole`, administrators) and
the prescription radar (`/escalation/prescrizioni`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required, scoped
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.url_ids import parse_id
from app.enti.models import Ente, Entrata
from app.escalation import procedure_steps, proposals, radar, rules
from app.escalation import timeline as _timeline  # noqa: F401 - registers the timeline sources
from app.escalation.forms import (
    ApproveForm,
    ExcludeForm,
    NewRuleForm,
    ProposeForm,
    RadarFilters,
    ReviewFilters,
    StepForm,
)
from app.extensions import db
from app.positions.amounts import today_rome

bp = Blueprint("escalation", __name__, url_prefix="/escalation")


def _visible_enti() -> list[Ente]:
    ids = current_principal().ente_ids
    return list(db.session.scalars(sa.select(Ente).where(Ente.id.in_(ids)).order_by(Ente.code)))


def _act_names() -> dict[str, str]:
    from app.atti.models import ActType

    return dict(db.session.execute(sa.select(ActType.code, ActType.name)).tuples().all())


@bp.app_context_processor
def _escalation_context() -> dict[str, Any]:
    return (
        {"act_name": lambda code: _act_names().get(code, code)} if request.blueprint == "escalation" else {}
    )


@bp.route("/proposte")
@permission_required("escalation.review")
def review() -> Any:
    filters = valid_query(ReviewFilters(request.args))
    groups = proposals.review_groups(db.session, current_principal(), filters.ente.data)
    return render_template("escalation/review.html", groups=groups, filters=filters, enti=_visible_enti())


@bp.route("/proposte/<int:escalation_step_id>", methods=["GET", "POST"])
@permission_required("escalation.review")
def step_review(escalation_step_id: int) -> Any:
    step_id = escalation_step_id
    principal = current_principal()
    step = proposals.get_step(db.session, principal, step_id)
    if step is None:
        abort(404)
    form = ApproveForm()
    if request.method == "GET":
        form.issue_date.data = today_rome()
    if form.validate_on_submit() and step.starts_procedure:
        name = (form.third_party.data or "").strip()
        try:
            run = procedure_steps.approve_procedure_step(
                db.session,
                principal,
                current_actor(),
                step,
                on=form.issue_date.data,
                options={"terzo": {"tipo": "banca", "nome": name}} if name else None,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(
                f"Procedure avviate: {run.started}; non avviate: {run.refused} (il motivo è nella cronologia "
                "della posizione).",
                "success" if run.started else "warning",
            )
            return redirect(url_for("escalation.review"), 303)
    elif form.validate_on_submit():
        try:
            campaign_id = proposals.approve_step(
                db.session,
                principal,
                current_actor(),
                step.id,
                issue_date=form.issue_date.data,
                can_approve=principal.can("acts.approve"),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(f"Proposte approvate: campagna n. {campaign_id} avviata.", "success")
            return redirect(url_for("escalation.review"), 303)
    groups = [g for g in proposals.review_groups(db.session, principal) if g.step.id == step.id]
    sample = proposals.step_proposals(db.session, principal, step.id)
    excluded = proposals.step_proposals(db.session, principal, step.id, status="esclusa", limit=20)
    return render_template(
        "escalation/step.html",
        step=step,
        group=groups[0] if groups else None,
        sample=sample,
        excluded=excluded,
        form=form,
        exclude_form=ExcludeForm(),
    )


@bp.post("/proposte/<int:escalation_step_id>/escludi")
@permission_required("escalation.review")
def exclude(escalation_step_id: int) -> Any:
    step_id = escalation_step_id
    if proposals.get_step(db.session, current_principal(), step_id) is None:
        abort(404)
    form = ExcludeForm()
    proposal_id = parse_id(form.proposal_id.data)
    if not form.validate_on_submit() or proposal_id is None:
        abort(400)
    try:
        proposals.exclude_proposal(
            db.session, current_principal(), current_actor(), proposal_id, form.note.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash("Posizione esclusa dalla proposta.", "success")
    return redirect(url_for("escalation.step_review", escalation_step_id=step_id), 303)


@bp.route("/regole", methods=["GET", "POST"])
@permission_required("escalation.rules")
def rule_list() -> Any:
    principal = current_principal()
    form = NewRuleForm()
    entrate = list(
        db.session.scalars(
            scoped(sa.select(Entrata), Entrata, principal).order_by(Entrata.ente_id, Entrata.code)
        )
    )
    form.entrata.choices = [(e.id, f"{e.ente.code} · {e.name}") for e in entrate]
    if form.validate_on_submit():
        entrata = next((e for e in entrate if e.id == form.entrata.data), None)
        if entrata is None:
            abort(404)
        try:
            rules.ensure_parameters(db.session)
            rule = rules.create_default_rule(db.session, entrata, current_actor())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash("Regola creata con i passi predefiniti.", "success")
            return redirect(url_for("escalation.rule_detail", escalation_rule_id=rule.id), 303)
    return render_template("escalation/rules.html", rules=rules.list_rules(db.session, principal), form=form)


@bp.route("/regole/<int:escalation_rule_id>", methods=["GET", "POST"])
@permission_required("escalation.rules")
def rule_detail(escalation_rule_id: int) -> Any:
    rule_id = escalation_rule_id
    principal = current_principal()
    rule = rules.get_rule(db.session, principal, rule_id)
    if rule is None:
        abort(404)
    form = StepForm()
    if form.validate_on_submit():
        step = next((s for s in rule.steps if str(s.id) == str(form.step_id.data)), None)
        if step is None:
            abort(404)
        try:
            rules.update_step(
                db.session,
                step,
                current_actor(),
                days=form.days.data,
                anchor=form.anchor.data,
                min_euro=form.min_euro.data,
                max_euro=form.max_euro.data,
                active=bool(form.active.data),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(f"Passo «{step.name}» salvato.", "success")
            return redirect(url_for("escalation.rule_detail", escalation_rule_id=rule.id), 303)
    forms = {}
    for step in rule.steps:
        f = StepForm(formdata=None, prefix=f"s{step.id}")
        f.step_id.data, f.days.data, f.anchor.data, f.active.data = (
            step.id,
            step.days,
            step.anchor,
            step.active,
        )
        f.min_euro.data = None if step.min_cents is None else step.min_cents / 100
        f.max_euro.data = None if step.max_cents is None else step.max_cents / 100
        forms[step.id] = f
    return render_template("escalation/rule.html", rule=rule, forms=forms, form=form)


@bp.route("/prescrizioni")
@permission_required("escalation.radar")
def radar_list() -> Any:
    principal = current_principal()
    filters = valid_query(RadarFilters(request.args))
    enti = _visible_enti()
    ente_id = filters.ente.data or (enti[0].id if enti else None)
    if ente_id is not None and ente_id not in principal.ente_ids:
        abort(404)
    days = filters.giorni.data or 90
    on = today_rome()
    rows = radar.radar(db.session, principal, ente_id=ente_id, on=on, days=days) if ente_id else []
    return render_template(
        "escalation/radar.html",
        rows=rows,
        enti=enti,
        ente_id=ente_id,
        days=days,
        on=on,
        can_propose=principal.can("escalation.review"),
        propose_form=ProposeForm(),
    )


@bp.post("/prescrizioni/proponi")
@permission_required("escalation.review")
def radar_propose() -> Any:
    form = ProposeForm()
    if not form.validate_on_submit():
        abort(400)
    position_id, step_id = parse_id(form.position_id.data), parse_id(form.step_id.data)
    if position_id is None or step_id is None:
        abort(400)  # the form's hidden ids, tampered with
    try:
        radar.propose_from_radar(
            db.session,
            current_principal(),
            current_actor(),
            position_id=position_id,
            step_id=step_id,
            on=today_rome(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash("Atto interruttivo proposto: lo trova tra le proposte da approvare.", "success")
    return redirect(
        url_for(
            "escalation.radar_list", **({"ente": request.args["ente"]} if request.args.get("ente") else {})
        ),
        303,
    )
