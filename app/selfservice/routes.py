"""The taxpayer portal, /self-service/. Every page is the taxpayer's own data only: the queries go through
the scoping helper with the account's principal (one taxpayer), so another taxpayer's id answers 404."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_user

from app.core import security
from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.crm.messages import services as message_services
from app.extensions import db
from app.selfservice import oidc, queries, services
from app.selfservice.forms import ConsentsForm, ContactsForm, PlanQuery, PlanRequestForm, UploadForm

bp = Blueprint("selfservice", __name__, url_prefix="/self-service")
log = logging.getLogger(__name__)

# --- SPID / CIE login ----------------------------------------------------------------------------------


@bp.route("/accesso")
def login_page() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template(
        "selfservice/login.html",
        oidc_ready=oidc.configured(),
        password_login=current_app.config.get("SELF_SERVICE_PASSWORD_LOGIN", False),
    )


@bp.route("/accesso/spid-cie")
def oidc_start() -> Any:
    if not oidc.configured():
        abort(404)
    try:
        url, pending = oidc.start(url_for("selfservice.oidc_callback", _external=True))
    except oidc.LoginError as exc:
        return _refused(exc)
    session[oidc.PENDING] = pending
    return redirect(url, 303)


@bp.route("/accesso/ritorno")
def oidc_callback() -> Any:
    if not oidc.configured():
        abort(404)
    pending = session.pop(oidc.PENDING, None)  # one answer per login: a replayed callback finds nothing
    args = {k: request.args.get(k, "") for k in ("state", "code", "error")}
    try:
        identity = oidc.finish(pending, args)
        user = services.account_for(db.session, identity)
    except oidc.LoginError as exc:
        db.session.rollback()
        return _refused(exc)
    except services.NoPositions as exc:
        db.session.rollback()
        services.record_refusal(db.session, "no_taxpayer", exc.message)
        db.session.commit()
        return render_template("selfservice/no_positions.html", message=exc.message), 403
    services.record_login(db.session, user)
    from app.auth.services import record_login

    session.clear()  # a fresh session after authentication (no fixation)
    record_login(user)
    db.session.commit()
    login_user(user)
    session.update(security.session_claims(user))
    session.permanent = True
    return redirect(url_for("selfservice.home"))


def _refused(exc: oidc.LoginError) -> Any:
    log.warning("SPID/CIE login refused: %s", exc.code)
    services.record_refusal(db.session, exc.code, exc.message)
    db.session.commit()
    return render_template("selfservice/login_refused.html", message=exc.message), 401


# --- the portal ----------------------------------------------------------------------------------------


@bp.route("/")
@permission_required("self_service")
def home() -> Any:
    from app.payments.queries import own_receipts
    from app.positions import notice_view
    from app.taxpayers import queries as taxpayer_queries

    principal = current_principal()
    card = taxpayer_queries.get_card(
        db.session,
        principal,
        current_user.taxpayer_id,
        remote_addr=request.remote_addr,
        action="self_service",
    )
    # the amounts due are the card's (computed once): the table and the notices show the same figures
    amounts = notice_view.amounts_of(card.balances, card.positions)
    notices = notice_view.notices_of(
        db.session, card.positions, card.on or notice_view.today(), amounts=amounts
    )
    receipts = own_receipts(db.session, principal)
    from app.plans.queries import list_requests

    requests = list_requests(db.session, principal)
    db.session.commit()  # the access log row
    return render_template(
        "selfservice/home.html",
        card=card,
        notices=notices,
        amounts=amounts,
        receipts=receipts,
        requests=requests,
    )


@bp.route("/pagamenti")
@permission_required("self_service")
def payments() -> Any:
    from app.payments.queries import own_receipts

    principal = current_principal()
    rows: dict[tuple[int, dt.date, str], dict[str, Any]] = defaultdict(lambda: {"cents": 0})
    for movement in queries.own_payments(db.session, principal):
        row = rows[(movement.position_id, movement.value_date, movement.kind)]
        row.update(position=movement.position, date=movement.value_date, kind=movement.kind)
        row["cents"] -= movement.amount_cents
    return render_template(
        "selfservice/payments.html", rows=list(rows.values()), receipts=own_receipts(db.session, principal)
    )


@bp.route("/documenti")
@permission_required("self_service")
def documents() -> Any:
    docs = queries.own_documents(db.session, current_principal())
    return render_template(
        "selfservice/documents.html", documents=docs, uploads=[d for d in docs if d.channel == "web"]
    )


@bp.route("/documenti/<int:document_id>/scarica")
@permission_required("self_service")
def document_download(document_id: int) -> Any:
    """The original of one of the taxpayer's documents (logged on their timeline)."""
    from app.archive.services import record_access
    from app.jobs.files import path_of

    document = queries.get_own_document(db.session, current_principal(), document_id)
    if document is None:
        abort(404)
    record_access(db.session, document, current_actor())
    db.session.commit()
    response = send_file(
        path_of(current_app.config["FILE_STORE"], document.file_path),
        mimetype=document.mime_type,
        as_attachment=True,
        download_name=document.file_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/documenti/invia", methods=["GET", "POST"])
@permission_required("self_service")
def upload() -> Any:
    principal = current_principal()
    form = UploadForm()
    enti = services.own_enti(db.session, principal)
    form.ente_id.choices = [(e.id, e.name) for e in enti]
    if request.method == "GET" and len(enti) == 1:
        form.ente_id.data = enti[0].id
    result = None
    if form.validate_on_submit():
        limit = current_app.config.get("SELF_SERVICE_UPLOAD_MB", 20) * 1024 * 1024
        upload_file = form.file.data
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "documento"
            upload_file.save(path)
            if path.stat().st_size > limit:
                form.file.errors = [f"Il file supera i {limit // (1024 * 1024)} MB ammessi."]
            else:
                try:
                    result = services.upload_document(
                        db.session,
                        principal,
                        current_actor(),
                        path,
                        upload_file.filename or "documento",
                        ente_id=form.ente_id.data,
                        subject=form.subject.data,
                        file_store=current_app.config["FILE_STORE"],
                    )
                except DomainError as exc:
                    db.session.rollback()
                    form.ente_id.errors = [exc.message]
                else:
                    if result.status == "refused":
                        db.session.rollback()
                        form.file.errors = [f"Documento non accettato: {result.error}"]
                    elif result.status == "duplicate":
                        db.session.rollback()
                        form.file.errors = ["Questo documento è già stato ricevuto."]
                    else:
                        db.session.commit()
                        flash(f"Documento ricevuto: protocollo {result.protocol}.", "success")
                        return redirect(url_for("selfservice.documents"), 303)
    return render_template("selfservice/upload.html", form=form), (400 if form.errors else 200)


@bp.route("/rateazione", methods=["GET", "POST"])
@permission_required("self_service")
def plan() -> Any:
    """Simulate a plan (GET with the choices) and submit it as a request (POST)."""
    from app.plans import services as plan_services
    from app.positions.queries import list_positions_of_taxpayer

    principal = current_principal()
    positions = [
        p
        for p in list_positions_of_taxpayer(db.session, principal, current_user.taxpayer_id)
        if p.state not in ("pagata", "sgravata", "inesigibile", "prescritta", "in_rateazione")
    ]
    choices = [(p.id, f"{p.entrata.name} {p.year} – {p.description or p.external_id}") for p in positions]
    query = PlanQuery(request.args)
    query.posizioni.choices = choices
    query = valid_query(query, shown_on_form=("prima", "rate"))
    form = PlanRequestForm()
    form.posizioni.choices = choices
    asked = (form.posizioni.data if request.method == "POST" else query.posizioni.data) or []
    if any(position_id not in dict(choices) for position_id in asked):
        abort(404)  # not one of the taxpayer's open positions: nothing said about it
    simulation, error, allowed = None, None, None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                created = plan_services.submit_request(
                    db.session,
                    principal,
                    current_actor(),
                    form.posizioni.data,
                    installments=form.rate.data,
                    first_due=form.prima.data,
                    note=form.note.data,
                )
            except plan_services.PlanRefused as exc:
                db.session.rollback()
                error, allowed = exc.message, exc.allowed
            except DomainError as exc:
                db.session.rollback()
                error = exc.message
            else:
                db.session.commit()
                flash(f"Richiesta di rateazione n. {created.id} inviata: l'ufficio la esaminerà.", "success")
                return redirect(url_for("selfservice.plan_request", request_id=created.id), 303)
        selected, rate, prima = form.posizioni.data or [], form.rate.data, form.prima.data
    else:
        selected = [i for i in (query.posizioni.data or []) if i in dict(choices)]
        rate, prima = query.rate.data, query.prima.data
        if selected and rate and prima:
            try:
                simulation, _ = plan_services.simulate(
                    db.session, principal, selected, installments=rate, first_due=prima
                )
            except plan_services.PlanRefused as exc:
                error, allowed = exc.message, exc.allowed
            except DomainError as exc:
                error = exc.message
        form.posizioni.data, form.rate.data, form.prima.data = selected, rate, prima
    return render_template(
        "selfservice/plan.html",
        form=form,
        choices=choices,
        selected=selected,
        simulation=simulation,
        error=error,
        allowed=allowed,
        default_first=dt.date.today() + dt.timedelta(days=30),
    ), (422 if error and request.method == "POST" else 200)


@bp.route("/rateazione/richieste/<int:request_id>")
@permission_required("self_service")
def plan_request(request_id: int) -> Any:
    from app.plans.queries import get_request

    found = get_request(db.session, current_principal(), request_id)
    if found is None:
        abort(404)
    return render_template("selfservice/plan_request.html", req=found)


@bp.route("/recapiti", methods=["GET", "POST"])
@permission_required("self_service")
def contacts() -> Any:
    principal = current_principal()
    taxpayer = services.own_taxpayer(db.session, principal)
    current = {c.kind: c.value for c in taxpayer.contacts if c.valid_to_dt is None}
    form = ContactsForm(data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        changed = services.update_contacts(
            db.session,
            principal,
            current_actor(),
            {"email": form.email.data, "cellulare": form.cellulare.data, "pec": form.pec.data},
        )
        db.session.commit()
        flash(
            "Recapiti aggiornati: " + ", ".join(changed) + "." if changed else "Nessun recapito cambiato.",
            "success",
        )
        return redirect(url_for("selfservice.contacts"), 303)
    history = sorted(taxpayer.contacts, key=lambda c: c.valid_from_dt, reverse=True)
    return render_template(
        "selfservice/contacts.html",
        form=form,
        history=history,
        consent_form=ConsentsForm(),
        channels=message_services.CHANNELS,
        consents=message_services.open_consents(db.session, taxpayer.id),
    ), (400 if form.errors else 200)


@bp.route("/recapiti/consensi", methods=["POST"])
@permission_required("self_service")
def consents() -> Any:
    """Consents per channel and the preferred channel; each change a new version, source "contribuente"."""
    if not ConsentsForm().validate_on_submit():
        abort(400, "Modulo scaduto: ricarica la pagina e riprova.")
    taxpayer = services.own_taxpayer(db.session, current_principal())
    preferred = request.form.get("preferito") or None
    if preferred is not None and preferred not in message_services.CHANNELS:
        abort(400, "Canale preferito non valido.")
    try:
        changed = message_services.update_consents(
            db.session,
            taxpayer,
            granted={c for c in message_services.CHANNELS if request.form.get(f"consenso_{c}") == "s"},
            preferred=preferred,
            source="contribuente",
            actor=current_actor(),
        )
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("selfservice.contacts"), 303)
    db.session.commit()
    flash(
        "Consensi aggiornati: " + ", ".join(changed) + "." if changed else "Nessun consenso cambiato.",
        "success",
    )
    return redirect(url_for("selfservice.contacts"), 303)
