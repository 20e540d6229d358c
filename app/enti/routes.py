"""Administration: parameter tables (read) and API tokens for the Regione's systems (issue, revoke)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth import services as auth_services
from app.core.access import API_SCOPES, current_principal, permission_required
from app.core.errors import DomainError
from app.enti import queries
from app.enti.forms import ApiTokenForm, RevokeForm
from app.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/amministrazione")


@bp.route("/parametri")
@permission_required("admin.users")
def parameters() -> Any:
    return render_template(
        "admin/parameters.html",
        rate_tables=queries.list_rate_tables(db.session),
        parameters=queries.list_parameters(db.session),
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
