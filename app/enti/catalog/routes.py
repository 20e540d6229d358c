"""Enti and entrate (administrators, within their own enti): list, create, edit, each change's history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user

from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.history import versions_of
from app.core.security import SESSION_GENERATION, current_actor
from app.enti import presentation, queries
from app.enti.catalog import services as admin
from app.enti.catalog.forms import EnteForm, EntrataForm
from app.extensions import db

bp = Blueprint("enti_admin", __name__, url_prefix="/amministrazione/enti")


def _ente_or_404(code: str) -> Any:
    ente = queries.get_ente_by_code(db.session, code)
    if ente is None or ente.id not in current_principal().ente_ids:
        abort(404, "Ente non trovato.")
    return ente


def _entrata_or_404(ente: Any, code: str) -> Any:
    entrata = queries.get_entrata(db.session, ente.id, code)
    if entrata is None:
        abort(404, "Entrata non trovata.")
    return entrata


def _field_error(form: Any, error: DomainError) -> None:
    field = getattr(form, error.details.get("field") or "", None)
    (field.errors if field is not None else form.form_errors).append(error.message)


def _entrata_choices(form: EntrataForm) -> EntrataForm:
    form.interest_rate_table.choices = admin.rate_table_choices(db.session)
    form.prescription_regime.choices = admin.prescription_choices(db.session)
    form.installment_regime.choices = admin.installment_choices(db.session)
    return form


@bp.get("/")
@permission_required("admin.users")
def ente_list() -> Any:
    return render_template(
        "admin/enti.html", enti=queries.list_enti(db.session, current_principal().ente_ids)
    )


@bp.route("/nuovo", methods=["GET", "POST"])
@permission_required("admin.users")
def ente_new() -> Any:
    form = EnteForm()
    if form.validate_on_submit():
        data = {k: form[k].data for k in admin.ENTE_FIELDS}
        try:
            ente = admin.create_ente(db.session, current_actor(), current_user, code=form.code.data, **data)
        except DomainError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            # the new ente joined the creator's enti, which ends their sessions (app/auth/models.py): this
            # one, which made the change, goes on; the others end
            session[SESSION_GENERATION] = current_user.session_generation
            flash(f"Ente {ente.code} creato: è tra gli enti che amministri.", "success")
            return redirect(url_for("enti_admin.ente_edit", ente_code=ente.code))
    return render_template("admin/ente_form.html", form=form, ente=None, versions=[])


@bp.route("/<ente_code>", methods=["GET", "POST"])
@permission_required("admin.users")
def ente_edit(ente_code: str) -> Any:
    ente = _ente_or_404(ente_code)
    form = EnteForm(obj=ente)
    if form.validate_on_submit():
        data = {k: form[k].data for k in admin.ENTE_FIELDS}
        try:
            changed = admin.update_ente(db.session, current_actor(), ente, **data)
        except DomainError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Ente aggiornato." if changed else "Nessuna modifica.", "success")
            return redirect(url_for("enti_admin.ente_edit", ente_code=ente.code))
    return render_template(
        "admin/ente_form.html", form=form, ente=ente, versions=versions_of(db.session, ente)
    )


@bp.route("/<ente_code>/entrate/nuova", methods=["GET", "POST"])
@permission_required("admin.users")
def entrata_new(ente_code: str) -> Any:
    ente = _ente_or_404(ente_code)
    form = _entrata_choices(EntrataForm())
    if form.validate_on_submit():
        data = {k: form[k].data for k in admin.ENTRATA_FIELDS}
        try:
            entrata = admin.create_entrata(db.session, current_actor(), ente, code=form.code.data, **data)
        except DomainError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Entrata {entrata.code} creata.", "success")
            return redirect(
                url_for("enti_admin.entrata_edit", ente_code=ente.code, entrata_code=entrata.code)
            )
    return render_template(
        "admin/entrata_form.html", form=form, ente=ente, entrata=None, versions=[], rules=[]
    )


@bp.route("/<ente_code>/entrate/<entrata_code>", methods=["GET", "POST"])
@permission_required("admin.users")
def entrata_edit(ente_code: str, entrata_code: str) -> Any:
    ente = _ente_or_404(ente_code)
    entrata = _entrata_or_404(ente, entrata_code)
    form = _entrata_choices(EntrataForm(obj=entrata))
    if form.validate_on_submit():
        data = {k: form[k].data for k in admin.ENTRATA_FIELDS}
        try:
            changed = admin.update_entrata(db.session, current_actor(), entrata, **data)
        except DomainError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Entrata aggiornata." if changed else "Nessuna modifica.", "success")
            return redirect(
                url_for("enti_admin.entrata_edit", ente_code=ente.code, entrata_code=entrata.code)
            )
    return render_template(
        "admin/entrata_form.html",
        form=form,
        ente=ente,
        entrata=entrata,
        versions=versions_of(db.session, entrata),
        rules=admin.entrata_rules(db.session, entrata),
        describe=presentation.describe,
    )
