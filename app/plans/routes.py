"""The back office's work list of rateazione requests (`/rateazioni/richieste`) and the decision on each."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.extensions import db
from app.plans import queries, services
from app.plans.forms import DecisionForm, RequestFilters

bp = Blueprint("plans", __name__, url_prefix="/rateazioni")

MAX_ID = 2**31 - 1


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
    if request_id > MAX_ID:
        abort(404)
    principal = current_principal()
    plan_request = queries.get_request(db.session, principal, request_id)
    if plan_request is None:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            services.decide(
                db.session,
                principal,
                current_actor(),
                request_id,
                approve=bool(form.approve.data),
                note=form.note.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form.note.errors = [exc.message]
        else:
            db.session.commit()
            flash(f"Richiesta n. {request_id} {plan_request.status_label.lower()}.", "success")
            return redirect(url_for("plans.request_list"), 303)
    return render_template("plans/request_detail.html", req=plan_request, form=form)
