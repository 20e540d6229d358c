"""Login (password, then TOTP or its enrolment), logout and the home page of each role."""

from __future__ import annotations

from typing import Any

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services
from app.auth.forms import LoginForm, TotpForm
from app.auth.models import User
from app.core import security
from app.core.access import permission_required
from app.core.ratelimit import exhausted, record
from app.core.security import local_path
from app.extensions import db

bp = Blueprint("auth", __name__)
main_bp = Blueprint("main", __name__)

PENDING = "pending_user_id"
# where to go after the login, kept across the second-factor step ("next" itself is one of the keys
# Flask-Login drops from a session without a login, i.e. the pending one: the target was lost)
NEXT = "login_next"
FAILED_LOGIN = "login-failed"  # per client address
FAILED_TOTP = "totp-failed"  # per user
WINDOW = 600  # seconds


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        address = request.remote_addr or "-"
        if exhausted(FAILED_LOGIN, address, limit=cfg["LOGIN_MAX_FAILURES_PER_IP"], window_seconds=WINDOW):
            form.password.errors.append(
                "Troppi accessi non riusciti da questo indirizzo: riprovare tra qualche minuto."
            )
            return render_template("auth/login.html", form=form), 429
        try:
            outcome = services.authenticate(
                db.session,
                form.username.data,
                form.password.data,
                totp_required=cfg["TOTP_REQUIRED"],
                max_failures=cfg["LOGIN_MAX_FAILURES"],
                lock_minutes=cfg["LOGIN_LOCK_MINUTES"],
            )
        except (services.LoginRefused, services.LoginThrottled) as exc:
            db.session.commit()  # keep the failure count
            record(FAILED_LOGIN, address, window_seconds=WINDOW)
            form.password.errors.append(exc.message)
            status = exc.status
        else:
            if outcome.user.role == "contribuente" and not cfg.get("SELF_SERVICE_PASSWORD_LOGIN"):
                db.session.rollback()
                form.password.errors.append("I contribuenti accedono con SPID o CIE.")
                return render_template("auth/login.html", form=form), 403
            db.session.commit()
            session.pop(PENDING, None)
            target = _safe_next(request.args.get("next"))
            if outcome.needs_enrolment or outcome.needs_totp:
                session[PENDING] = outcome.user.id
                session[NEXT] = target
                return redirect(url_for("auth.totp_enrol" if outcome.needs_enrolment else "auth.totp"))
            return _finish_login(outcome.user, target)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _finish_login(user: User, target: str, message: str | None = None) -> Any:
    session.clear()  # a fresh session after authentication (no fixation)
    services.record_login(user)
    db.session.commit()
    login_user(user)
    session.update(security.session_claims(user))
    session.permanent = True
    if message:
        flash(message, "success")
    return redirect(target)


def _pending_next() -> str:
    return _safe_next(session.get(NEXT))


def _pending_user() -> User | None:
    user_id = session.get(PENDING)
    return db.session.get(User, user_id) if user_id else None


@bp.route("/login/verifica", methods=["GET", "POST"])
def totp() -> Any:
    user = _pending_user()
    if user is None or not user.totp_enrolled:
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        if _totp_exhausted(user):
            return _back_to_password()
        try:
            services.verify_totp(db.session, user, form.code.data, now=security.clock())
        except services.LoginRefused as exc:
            db.session.rollback()
            record(FAILED_TOTP, str(user.id), window_seconds=WINDOW)
            form.code.errors.append(exc.message)
        else:
            return _finish_login(user, _pending_next())
    return render_template("auth/totp.html", form=form, user=user)


def _totp_exhausted(user: User) -> bool:
    return exhausted(
        FAILED_TOTP, str(user.id), limit=current_app.config["TOTP_MAX_FAILURES"], window_seconds=WINDOW
    )


def _back_to_password() -> Any:
    """Too many wrong codes: the pending login is dropped, the password must be given again."""
    session.pop(PENDING, None)
    flash("Troppi codici di verifica errati: accedere di nuovo tra qualche minuto.", "danger")
    return redirect(url_for("auth.login")), 303


@bp.route("/login/attiva-verifica", methods=["GET", "POST"])
def totp_enrol() -> Any:
    user = _pending_user()
    if user is None or user.totp_enrolled:
        return redirect(url_for("auth.login"))
    uri = services.start_totp_enrolment(user)
    db.session.commit()
    form = TotpForm()
    if form.validate_on_submit():
        if _totp_exhausted(user):
            return _back_to_password()
        try:
            services.verify_totp(
                db.session, user, form.code.data, now=security.clock(), confirm_enrolment=True
            )
        except services.LoginRefused as exc:
            db.session.rollback()
            record(FAILED_TOTP, str(user.id), window_seconds=WINDOW)
            form.code.errors.append(exc.message)
        else:
            return _finish_login(user, _pending_next(), "Verifica in due passaggi attivata.")
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return render_template("auth/totp_enrol.html", form=form, user=user, qr=qr, secret=user.totp_secret)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Ends every login session of the user on the server: a copy of the cookie is worth nothing after."""
    if current_user.is_authenticated:
        services.end_sessions(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash("Sei uscito dall'applicazione.", "info")
    return redirect(url_for("auth.login"))


@main_bp.route("/")
@login_required
def home() -> Any:
    if current_user.role == "contribuente":
        return redirect(url_for("selfservice.home"))
    from app.core.access import current_principal
    from app.positions.queries import dashboard_counts

    counts = dashboard_counts(db.session, current_principal())
    return render_template("main/home.html", counts=counts)


@main_bp.route("/la-mia-posizione")
@permission_required("self_service")
def self_service() -> Any:
    """The old address of the taxpayer's page: the portal lives under /self-service/ now."""
    return redirect(url_for("selfservice.home"), 301)
