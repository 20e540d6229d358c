"""Delivery screens: print pre-check and batches, outcome upload, the work list of failed notifications, and
an act's delivery page (send by PEC / SEND, manual outcome with the scanned return receipt)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for

from app.archive import mailbox
from app.atti.delivery import letters, outcomes_import, queries, services
from app.atti.delivery.forms import (
    ActionForm,
    BatchForm,
    CloseForm,
    EnteQuery,
    ManualOutcomeForm,
    OutcomeUploadForm,
)
from app.atti.delivery.models import OUTCOMES
from app.atti.delivery.outcomes_file import OutcomesRefused
from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.extensions import db

bp = Blueprint("recapito", __name__, url_prefix="/atti/recapito")
PERMISSION = "atti.recapito"
MANUAL_OUTCOMES = ("notificato", "compiuta_giacenza", "rifiutato", "irreperibile", "trasferito", "deceduto")

if services.pec_receipt_filed not in mailbox.FILED_HOOKS:
    mailbox.FILED_HOOKS.append(services.pec_receipt_filed)


def _today() -> Any:
    from app.positions.amounts import today_rome

    return today_rome()


def _enti() -> list[Any]:
    from app.enti.queries import list_enti

    return list_enti(db.session, current_principal().ente_ids)


@bp.route("/")
@permission_required(PERMISSION)
def index() -> Any:
    """Print pre-check of the chosen ente: what can go to the provider, what cannot (and why), what goes by
    PEC; and the batches already prepared."""
    query = valid_query(EnteQuery(request.args))
    enti = _enti()
    ente = next((e for e in enti if e.id == query.ente.data), enti[0] if enti else None)
    check = None
    if ente is not None:
        check = services.print_precheck(
            db.session,
            queries.acts_to_send(db.session, current_principal(), ente.id),
            messages=letters.messages_to_send(db.session, ente.id, current_principal()),
        )
    return render_template(
        "atti/delivery/index.html",
        enti=enti,
        ente=ente,
        check=check,
        batches=queries.list_batches(db.session, current_principal()),
        form=BatchForm(ente_id=ente.id if ente else None),
    )


@bp.route("/lotti", methods=["POST"])
@permission_required(PERMISSION)
def batch_create() -> Any:
    form = BatchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ente_id = int(form.ente_id.data)
    except (TypeError, ValueError):
        abort(400)
    ente = next((e for e in _enti() if e.id == ente_id), None)
    if ente is None:
        abort(404)
    from app.core.db import utcnow

    acts = queries.acts_to_send(db.session, current_principal(), ente.id)
    messages = letters.messages_to_send(db.session, ente.id, current_principal(), lock=True)
    try:
        batch = services.create_print_batch(
            db.session,
            ente,
            acts,
            current_actor(),
            file_store=current_app.config["FILE_STORE"],
            today=_today(),
            now=utcnow(),
            messages=messages,
        )
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("recapito.index", ente=ente.id))
    db.session.commit()
    flash(
        f"Lotto {batch.code} preparato: {batch.acts} atti, {batch.messages} comunicazioni, "
        f"{batch.pages} pagine.",
        "success",
    )
    return redirect(url_for("recapito.batch_detail", batch_id=batch.id))


@bp.route("/lotti/<int:batch_id>")
@permission_required(PERMISSION)
def batch_detail(batch_id: int) -> Any:
    batch = queries.get_batch(db.session, current_principal(), batch_id)
    if batch is None:
        abort(404)
    return render_template(
        "atti/delivery/batch.html",
        batch=batch,
        deliveries=queries.batch_deliveries(db.session, batch),
        letters=queries.batch_messages(db.session, batch),
    )


@bp.route("/lotti/<int:batch_id>/zip")
@permission_required(PERMISSION)
def batch_download(batch_id: int) -> Any:
    from app.jobs.files import path_of

    batch = queries.get_batch(db.session, current_principal(), batch_id)
    if batch is None:
        abort(404)
    response = send_file(
        path_of(current_app.config["FILE_STORE"], batch.file_path),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{batch.code}.zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/esiti", methods=["GET", "POST"])
@permission_required(PERMISSION)
def outcomes_upload() -> Any:
    form = OutcomeUploadForm()
    enti = _enti()
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in enti]
    summary, errors = None, None
    if form.validate_on_submit():
        ente = next((e for e in enti if e.id == form.ente_id.data), None)
        if ente is None:
            abort(404)
        upload = form.file.data
        data = upload.read(services.MAX_UPLOAD + 1)
        try:
            if len(data) > services.MAX_UPLOAD:
                raise DomainError("File troppo grande.")
            summary = outcomes_import.import_outcomes(
                db.session, ente, data, upload.filename or "esiti", current_actor()
            )
            db.session.commit()
        except OutcomesRefused as exc:
            db.session.rollback()
            errors = [str(e) for e in exc.errors]
        except DomainError as exc:
            db.session.rollback()
            errors = [str(exc)]
    status = 422 if errors else 200
    return render_template("atti/delivery/outcomes.html", form=form, summary=summary, errors=errors), status


@bp.route("/lista-lavoro")
@permission_required(PERMISSION)
def worklist() -> Any:
    return render_template(
        "atti/delivery/worklist.html",
        items=queries.worklist(db.session, current_principal()),
        form=CloseForm(),
    )


@bp.route("/esiti/<int:outcome_id>/lavorato", methods=["POST"])
@permission_required(PERMISSION)
def worklist_close(outcome_id: int) -> Any:
    outcome = queries.get_outcome(db.session, current_principal(), outcome_id)
    if outcome is None:
        abort(404)
    form = CloseForm()
    if not form.validate_on_submit():
        flash("Scrivi cosa è stato fatto (massimo 300 caratteri).", "danger")
        return redirect(url_for("recapito.worklist"))
    try:
        services.close_work_item(db.session, outcome, current_actor(), form.note.data)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("recapito.worklist"))
    db.session.commit()
    flash("Esito segnato come lavorato.", "success")
    return redirect(url_for("recapito.worklist"))


def _manual_form(act: Any) -> ManualOutcomeForm:
    form = ManualOutcomeForm()
    form.outcome.choices = [(code, OUTCOMES[code]) for code in MANUAL_OUTCOMES]
    form.document_id.choices = [(0, "Nessuno")] + list(
        queries.receipt_documents(db.session, current_principal(), act)
    )
    return form


@bp.route("/atti/<int:act_id>", methods=["GET", "POST"])
@permission_required(PERMISSION)
def act_detail(act_id: int) -> Any:
    act = queries.get_act(db.session, current_principal(), act_id)
    if act is None:
        abort(404)
    form = _manual_form(act)
    status = 200
    if form.validate_on_submit():
        try:
            services.apply_outcome(
                db.session,
                act,
                current_actor(),
                outcome=form.outcome.data,
                event_date=form.event_date.data,
                cad_date=form.cad_date.data,
                source="manuale",
                reference="Inserimento manuale",
                document_id=form.document_id.data or None,
            )
            db.session.commit()
            flash("Esito registrato.", "success")
            return redirect(url_for("recapito.act_detail", act_id=act.id))
        except (DomainError, ValueError) as exc:
            db.session.rollback()
            form.outcome.errors = [str(exc)]
            status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "atti/delivery/act.html",
        act=act,
        form=form,
        action=ActionForm(),
        pec=services.digital_domicile(act.taxpayer),
        deliveries=queries.act_deliveries(db.session, act),
        outcomes=queries.act_outcomes(db.session, act),
        send_configured=bool(
            current_app.config.get("SEND_API_URL") and current_app.config.get("SEND_API_KEY")
        ),
    ), status


@bp.route("/atti/<int:act_id>/pec", methods=["POST"])
@permission_required(PERMISSION)
def act_send_pec(act_id: int) -> Any:
    from app.core.mailer import MailerError, SmtpSettings

    act = queries.get_act(db.session, current_principal(), act_id)
    if act is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        smtp = SmtpSettings.from_config(current_app.config)
        services.send_act_by_pec(
            db.session,
            act,
            current_actor(),
            smtp=smtp,
            file_store=current_app.config["FILE_STORE"],
            today=_today(),
        )
        db.session.commit()
        flash("Atto inviato via PEC.", "success")
    except (DomainError, MailerError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("recapito.act_detail", act_id=act_id))


@bp.route("/atti/<int:act_id>/send", methods=["POST"])
@permission_required(PERMISSION)
def act_send_send(act_id: int) -> Any:
    from app.atti.delivery.send import SendClient

    act = queries.get_act(db.session, current_principal(), act_id)
    if act is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with SendClient.from_config(current_app.config) as client:
            services.send_act_by_send(
                db.session,
                act,
                current_actor(),
                client,
                file_store=current_app.config["FILE_STORE"],
                today=_today(),
            )
        db.session.commit()
        flash("Atto inviato a SEND: lo IUN arriverà con il controllo dello stato.", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("recapito.act_detail", act_id=act_id))
