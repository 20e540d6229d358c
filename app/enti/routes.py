"""Administration: the legal parameters (read, new periods, verification) and API tokens for the Regione's
systems (issue, revoke)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth import services as auth_services
from app.core.access import API_SCOPES, current_principal, permission_required
from app.core.errors import DomainError
from app.core.security import current_actor
from app.enti import approvals, periods, presentation, queries
from app.enti.forms import (
    ApiTokenForm,
    ParameterPeriodForm,
    ProposalDecisionForm,
    RatePeriodForm,
    RevokeForm,
    VerifyForm,
)
from app.extensions import db
from app.reports.exports import FORMATS, Column, ExportSpec, export_response

bp = Blueprint("admin", __name__, url_prefix="/amministrazione")


@bp.route("/parametri")
@permission_required("admin.users")
def parameters() -> Any:
    return render_template(
        "admin/parameters.html",
        rate_tables=queries.list_rate_tables(db.session),
        parameters=queries.list_parameters(db.session),
        verifiers=queries.verifier_names(db.session),
        changes=queries.parameter_events(db.session),
        describe=presentation.describe,
        proposals=queries.pending_proposals(db.session),
        formats=FORMATS,
        decision_form=ProposalDecisionForm(),
    )


@bp.route("/parametri/proposte/<any(approva, respingi):decision>", methods=["POST"])
@permission_required("admin.users")
def decide_proposal(decision: str) -> Any:
    """The second administrator's decision on a proposed period (four eyes)."""
    form = ProposalDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    proposal = approvals.get_proposal(db.session, form.proposal_id.data, lock=True)
    try:
        if decision == "approva":
            approvals.approve(db.session, current_actor(), proposal)
        else:
            approvals.reject(db.session, current_actor(), proposal, reason=form.reason.data or "")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("admin.parameters", _anchor="proposte"))
    db.session.commit()
    if decision == "approva":
        flash(f"Proposta approvata: il nuovo periodo vale dal {proposal.valid_from:%d/%m/%Y}.", "success")
    else:
        flash("Proposta respinta.", "success")
    return redirect(url_for("admin.parameters", _anchor="proposte"))


PARAMETERS_SPEC = ExportSpec(
    title="Parametri normativi",
    filename_stem="parametri_normativi",
    columns=(
        Column("kind", "Tipo"),
        Column("code", "Codice"),
        Column("valid_from", "Dal", "date"),
        Column("valid_to", "Al", "date"),
        Column("value", "Valore", width=50),
        Column("source", "Fonte", width=50),
        Column("verified", "Verifica", width=40),
    ),
)


@bp.route("/parametri/esporta.<fmt>")
@permission_required("admin.users")
def parameters_export(fmt: str) -> Any:
    """Every rate period and parameter row with validity, value, legal source and verification."""
    if fmt not in FORMATS:
        abort(404)
    return export_response(presentation.export_rows(db.session), PARAMETERS_SPEC, fmt)


def _first_error(form: Any) -> str | None:
    """The id of the first field in error (the page puts the focus there)."""
    return next((field.id for field in form if field.errors), None)


def _field_error(form: Any, error: DomainError) -> None:
    field = getattr(form, getattr(error, "field", ""), None)
    (field.errors if field is not None else form.form_errors).append(error.message)


@bp.route("/parametri/tassi/<code>/nuovo", methods=["GET", "POST"])
@permission_required("admin.users")
def new_rate_period(code: str) -> Any:
    table = periods.get_rate_table(db.session, code)
    form = RatePeriodForm()
    if form.validate_on_submit():
        try:
            proposal = approvals.propose(
                db.session,
                current_actor(),
                kind="tasso",
                code=table.code,
                rate=periods.parse_rate(form.rate.data),
                valid_from=form.valid_from.data,
                valid_to=form.valid_to.data,
                source=form.source.data,
            )
        except periods.FieldError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Nuovo periodo del tasso «{table.name}» dal {proposal.valid_from:%d/%m/%Y} proposto: "
                  "entra in vigore quando un secondo amministratore lo approva.", "success")
            return redirect(url_for("admin.parameters", _anchor="proposte"))
    current = table.periods[-1] if table.periods else None
    return render_template(
        "admin/parameter_new.html", form=form, table=table, current=current, focus=_first_error(form)
    )


@bp.route("/parametri/<code>/nuovo", methods=["GET", "POST"])
@permission_required("admin.users")
def new_parameter_period(code: str) -> Any:
    current = periods.latest_parameter(db.session, code)
    form = ParameterPeriodForm()
    if not form.is_submitted():
        form.value.data = json.dumps(current.value, ensure_ascii=False, indent=2)
    if form.validate_on_submit():
        try:
            proposal = approvals.propose(
                db.session,
                current_actor(),
                kind="parametro",
                code=code,
                value=periods.parse_value(form.value.data, current.value),
                valid_from=form.valid_from.data,
                valid_to=form.valid_to.data,
                source=form.source.data,
            )
        except periods.FieldError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Nuovo periodo del parametro «{code}» dal {proposal.valid_from:%d/%m/%Y} proposto: entra "
                  "in vigore quando un secondo amministratore lo approva.", "success")
            return redirect(url_for("admin.parameters", _anchor="proposte"))
    return render_template(
        "admin/parameter_new.html", form=form, code=code, current=current, focus=_first_error(form),
        describe=presentation.describe,
    )


@bp.route("/parametri/<any(tasso, parametro):kind>/<int:row_id>/verifica", methods=["GET", "POST"])
@permission_required("admin.users")
def verify_parameter(kind: str, row_id: int) -> Any:
    row = periods.get_row(db.session, kind, row_id)
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            periods.verify_row(db.session, current_actor(), row, against=form.against.data)
        except periods.FieldError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Verifica registrata.", "success")
            anchor = f"tasso-{row.table.code}" if kind == "tasso" else f"parametro-{row.code}"
            return redirect(url_for("admin.parameters", _anchor=anchor))
    return render_template(
        "admin/parameter_verify.html", form=form, kind=kind, row=row, focus=_first_error(form),
        describe=presentation.describe,
    )


@bp.route("/token-api", methods=["GET", "POST"])
@permission_required("admin.tokens")
def api_tokens() -> Any:
    enti = current_principal().ente_ids  # an administrator issues, sees and revokes tokens of their enti only
    form = ApiTokenForm()
    form.ente_id.choices = [
        (e.id, f"{e.code} – {e.name}") for e in queries.list_enti(db.session) if e.id in enti
    ]
    form.scopes.choices = list(API_SCOPES.items())
    issued = None
    if form.validate_on_submit():
        try:
            token, issued = auth_services.issue_api_token(
                db.session,
                name=form.name.data,
                ente_id=form.ente_id.data,
                scopes=form.scopes.data,
                created_by_id=current_user.id,
            )
        except DomainError as exc:
            form.scopes.errors.append(exc.message)
        else:
            db.session.commit()
            flash("Token emesso: copialo ora, non sarà più mostrato.", "success")
    tokens = auth_services.api_tokens_of(db.session, enti)
    return render_template(
        "admin/api_tokens.html",
        form=form,
        tokens=tokens,
        issued=issued,
        revoke_form=RevokeForm(),
        scopes=API_SCOPES,
    )


@bp.route("/token-api/<int:token_id>/revoca", methods=["POST"])
@permission_required("admin.tokens")
def revoke_api_token(token_id: int) -> Any:
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    token = auth_services.api_token_of(db.session, current_principal().ente_ids, token_id)
    if token is None:
        abort(404)
    auth_services.revoke_api_token(token)
    db.session.commit()
    flash(f"Token «{token.name}» revocato.", "success")
    return redirect(url_for("admin.api_tokens"))
