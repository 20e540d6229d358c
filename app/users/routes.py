"""User administration screens (/amministrazione/utenti): list, new, edit, disable, reset the second factor or
the password. Thin: parse, authorise (admin.users), call one service, commit, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import ROLE_LABELS, STAFF_ROLES, current_principal, permission_required
from app.core.errors import DomainError
from app.core.history import versions_of
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.enti import queries as enti_queries
from app.extensions import db
from app.users import forms, queries, services

bp = Blueprint("users", __name__, url_prefix="/amministrazione/utenti")


def _choices(form: Any) -> None:
    enti = current_principal().ente_ids
    form.role.choices = [(role, ROLE_LABELS[role]) for role in sorted(STAFF_ROLES)]
    form.ente_ids.choices = [
        (e.id, f"{e.code} – {e.name}") for e in enti_queries.list_enti(db.session) if e.id in enti
    ]


def _refusal(form: Any, exc: DomainError) -> None:
    field = exc.details.get("field")
    (form[field].errors if field in form else form.form_errors).append(exc.message)


def _user_or_404(user_id: int) -> Any:
    user = queries.get_user(db.session, current_principal(), user_id)
    if user is None:
        abort(404, "Utente non trovato.")
    return user


@bp.route("/")
@permission_required("admin.users")
def user_list() -> Any:
    args = valid_query(forms.UserFilters(request.args))
    principal = current_principal()
    stato = args.stato.data or ""
    result = queries.list_users(
        db.session,
        principal,
        role=args.ruolo.data or None,
        ente_id=args.ente.data,
        active={"attivi": True, "disattivati": False}.get(stato),
        text=args.testo.data or None,
        page=args.pagina.data or 1,
    )
    enti = [e for e in enti_queries.list_enti(db.session) if e.id in principal.ente_ids]
    return render_template(
        "users/user_list.html",
        result=result,
        roles=ROLE_LABELS,
        staff_roles=sorted(STAFF_ROLES),
        enti=enti,
        filters={
            "ruolo": args.ruolo.data or "",
            "ente": args.ente.data or "",
            "stato": stato,
            "testo": args.testo.data or "",
        },
    )


@bp.route("/nuovo", methods=["GET", "POST"])
@permission_required("admin.users")
def new_user() -> Any:
    form = forms.NewUserForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            created = services.create_user(
                db.session,
                current_principal(),
                current_actor(),
                username=form.username.data,
                display_name=form.display_name.data,
                email=form.email.data,
                role=form.role.data,
                ente_ids=form.ente_ids.data,
            )
        except DomainError as exc:
            _refusal(form, exc)
        else:
            db.session.commit()
            return render_template("users/user_created.html", user=created.user, password=created.password)
    return render_template("users/user_form.html", form=form, user=None)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def user_detail(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = forms.EditUserForm(obj=user if request.method == "GET" else None)
    _choices(form)
    if request.method == "GET":
        form.ente_ids.data = [e.id for e in user.enti]
    if form.validate_on_submit():
        try:
            services.update_user(
                db.session,
                current_principal(),
                current_actor(),
                user,
                display_name=form.display_name.data,
                email=form.email.data,
                role=form.role.data,
                ente_ids=form.ente_ids.data,
            )
        except DomainError as exc:
            _refusal(form, exc)
        else:
            db.session.commit()
            flash("Utente aggiornato.", "success")
            return redirect(url_for("users.user_detail", user_id=user.id))
    return render_template(
        "users/user_form.html",
        form=form,
        user=user,
        action_form=forms.ActionForm(),
        versions=versions_of(db.session, user),
        history=queries.user_events(db.session, user.id),
    )


@bp.route(
    "/<int:user_id>/<any(disattiva, riattiva, 'azzera-secondo-fattore', 'nuova-password'):action>",
    methods=["POST"],
)
@permission_required("admin.users")
def user_action(user_id: int, action: str) -> Any:
    user = _user_or_404(user_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400, "Richiesta non valida: ricarica la pagina e riprova.")
    actor = current_actor()
    password = None
    try:
        if action in ("disattiva", "riattiva"):
            services.set_active(db.session, actor, user, action == "riattiva")
            message = (
                "Utente disattivato: le sue sessioni sono terminate."
                if action == "disattiva"
                else ("Utente riattivato.")
            )
        elif action == "azzera-secondo-fattore":
            services.reset_second_factor(db.session, actor, user)
            message = "Secondo fattore azzerato: al prossimo accesso l'utente ne attiverà uno nuovo."
        else:
            password = services.reset_password(db.session, actor, user)
            message = "Password reimpostata."
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("users.user_detail", user_id=user.id))
    db.session.commit()
    if password:
        return render_template("users/user_created.html", user=user, password=password, reset=True)
    flash(message, "success")
    return redirect(url_for("users.user_detail", user_id=user.id))
