"""The back office's work list of rateazione requests (`/rateazioni/richieste`) and the decision on each; the
stored plans (`/rateazioni/piani`), their detail with the installments, the card's section, the desk's
request for a position."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.engine.states import TRANSITIONS
from app.extensions import db
from app.plans import monitor_sections as _monitor_sections  # noqa: F401 - registers the monitor section
from app.plans import queries, services
from app.plans.forms import AnnulForm, DecisionForm, DeskRequestForm, PlanFilters, ProrogaForm, RequestFilters

bp = Blueprint("plans", __name__, url_prefix="/rateazioni")

# the states a position may enter a plan from (app/engine/states.py, operation "rateazione")
RATEIZZABILI = frozenset(t.from_state for t in TRANSITIONS if t.operation == "rateazione")


@bp.app_context_processor
def _plan_states() -> dict[str, Any]:
    return {"rateizzabili": RATEIZZABILI}


@bp.route("/richieste")
@permission_required("plans.decide")
def request_list() -> Any:
    filters = valid_query(RequestFilters(request.args))
    status = filters.stato.data if request.args.get("stato") is not None else "richiesta"
    requests = queries.list_requests(db.session, current_principal(), status=status or None)
    return render_template("plans/request_list.html", filters=filters, requests=requests, status=status)


@bp.route("/richieste/<int:request_id>", methods=["GET", "POST"])
@permission_required("plans.decide")
def request_detail(request_id: int) -> Any:
    principal = current_principal()
    plan_request = queries.get_request(db.session, principal, request_id)
    if plan_request is None:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decision = services.decide(
                db.session,
                principal,
                current_actor(),
                request_id,
                approve=bool(form.approve.data),
                note=form.note.data,
                file_store=current_app.config["FILE_STORE"],
            )
        except DomainError as exc:
            db.session.rollback()
            form.note.errors = [exc.message]
        else:
            db.session.commit()
            if decision.pending_second:
                flash(f"Richiesta n. {request_id}: prima approvazione registrata, serve la seconda.", "info")
                return redirect(url_for("plans.request_list"), 303)
            flash(f"Richiesta n. {request_id} {plan_request.status_label.lower()}.", "success")
            if decision.act_error:
                flash(f"Comunicazione di accoglimento non emessa: {decision.act_error}", "warning")
            if decision.plan is not None:
                return redirect(url_for("plans.plan_detail", plan_id=decision.plan.id), 303)
            return redirect(url_for("plans.request_list"), 303)
    return render_template("plans/request_detail.html", req=plan_request, form=form)


@bp.route("/piani")
@permission_required("plans.read")
def plan_list() -> Any:
    filters = valid_query(PlanFilters(request.args))
    plans = queries.list_plans(db.session, current_principal(), status=filters.stato.data or None)
    return render_template("plans/plan_list.html", filters=filters, plans=plans, today=services.today())


@bp.route("/piani/<int:plan_id>")
@permission_required("plans.read")
def plan_detail(plan_id: int) -> Any:
    return _plan_page(plan_id, ProrogaForm(), AnnulForm())


def _plan_page(plan_id: int, proroga_form: ProrogaForm, annul_form: AnnulForm) -> Any:
    plan = queries.get_plan(db.session, current_principal(), plan_id)
    if plan is None:
        abort(404)
    return render_template(
        "plans/plan_detail.html",
        plan=plan,
        today=services.today(),
        proroga_form=proroga_form,
        annul_form=annul_form,
    )


@bp.post("/piani/<int:plan_id>/proroga")
@permission_required("plans.decide")
def plan_proroga(plan_id: int) -> Any:
    """The proroga (L. 160/2019 c. 797) from the plan's page, by the roles that approve plans."""
    from app.plans.proroga import extend_plan

    plan = queries.get_plan(db.session, current_principal(), plan_id)
    if plan is None:
        abort(404)
    form = ProrogaForm()
    if form.validate_on_submit():
        try:
            extension = extend_plan(
                db.session,
                current_principal(),
                current_actor(),
                plan,
                installments=form.installments.data,
                reason=form.reason.data,
                on=services.today(),
                first_due=form.first_due.data,
                file_store=current_app.config["FILE_STORE"],
            )
        except DomainError as exc:
            db.session.rollback()
            form.installments.errors = [exc.message]
        else:
            db.session.commit()
            count = len(extension.installments)
            flash(f"Piano n. {plan_id} prorogato: {count} nuove rate con i loro codici avviso.", "success")
            if extension.act_error:
                flash(
                    f"Comunicazione di accoglimento della proroga non emessa: {extension.act_error}",
                    "warning",
                )
            return redirect(url_for("plans.plan_detail", plan_id=plan_id), 303)
    return _plan_page(plan_id, form, AnnulForm(formdata=None)), 422


@bp.post("/piani/<int:plan_id>/annullamento")
@permission_required("plans.decide")
def plan_annul(plan_id: int) -> Any:
    """The annulment of a plan before any payment: the amounts its approval fixed reversed."""
    from app.plans.annulment import annul_plan

    plan = queries.get_plan(db.session, current_principal(), plan_id)
    if plan is None:
        abort(404)
    form = AnnulForm()
    if form.validate_on_submit():
        try:
            annul_plan(
                db.session,
                current_principal(),
                current_actor(),
                plan,
                reason=form.reason.data,
                on=services.today(),
            )
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors = [exc.message]
        else:
            db.session.commit()
            flash(f"Piano n. {plan_id} annullato: importi fissati stornati.", "success")
            return redirect(url_for("plans.plan_detail", plan_id=plan_id), 303)
    return _plan_page(plan_id, ProrogaForm(formdata=None), form), 422


@bp.route("/contribuenti/<int:taxpayer_id>/piani")
@permission_required("plans.read")
def card_plans(taxpayer_id: int) -> Any:
    """The card's section (loaded by htmx): the taxpayer's plans and their next installment."""
    from app.taxpayers.queries import get_taxpayer

    principal = current_principal()
    get_taxpayer(db.session, principal, taxpayer_id)  # 404 for a taxpayer out of scope
    plans = queries.list_plans(db.session, principal, taxpayer_id=taxpayer_id, limit=20)
    return render_template(
        "plans/_card_plans.html", plans=plans, today=services.today(), taxpayer_id=taxpayer_id
    )


@bp.route("/posizioni/<int:position_id>/richiesta", methods=["GET", "POST"])
@permission_required("plans.request")
def desk_request(position_id: int) -> Any:
    """A rateazione requested at the desk for one position: simulated by the engine, then decided like the
    requests from the reserved area."""
    from app.positions.queries import get_position

    principal = current_principal()
    position = get_position(db.session, principal, position_id)
    if position is None:
        abort(404)
    form = DeskRequestForm()
    if position.state not in RATEIZZABILI:
        return render_template("plans/desk_request.html", form=None, position=position)
    if form.validate_on_submit():
        try:
            plan_request = services.submit_request(
                db.session,
                principal,
                current_actor(),
                [position.id],
                installments=form.installments.data,
                first_due=form.first_due.data,
                note=form.note.data,
            )
        except services.PlanRefused as exc:
            db.session.rollback()
            allowed = (
                f" (rate ammesse: da {exc.allowed['min']} a {exc.allowed['max']})" if exc.allowed else ""
            )
            form.installments.errors = [exc.message + allowed]
        except DomainError as exc:
            db.session.rollback()
            form.installments.errors = [exc.message]
        else:
            db.session.commit()
            flash(f"Richiesta di rateazione n. {plan_request.id} registrata.", "success")
            if current_principal().can("plans.decide"):
                return redirect(url_for("plans.request_detail", request_id=plan_request.id), 303)
            return redirect(url_for("positions.position_detail", position_id=position.id), 303)
    return render_template("plans/desk_request.html", form=form, position=position)
