"""Screens of the payments module: flows and their upload, payments, review queue, anomalies, refunds, desk
payments with their quietanza, rendicontazione, riversamento, layouts, and the taxpayer card's fragment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.card_view import log_card_section
from app.core.db import count_rows
from app.core.errors import DomainError, NotFound
from app.core.query_forms import valid_query
from app.core.security import current_actor, local_path
from app.core.url_ids import parse_id
from app.enti.models import Ente
from app.extensions import db
from app.payments import export_sources, forms, queries, reports, services
from app.payments import riversamento as riv
from app.payments.models import (
    ANOMALY_KINDS,
    ANOMALY_STATUSES,
    FLOW_SOURCES,
    MATCH_METHODS,
    OUTCOME_CODES,
    PAYMENT_CHANNELS,
    PAYMENT_STATUSES,
    REFUND_STATUSES,
    PaymentLayout,
)
from app.positions.models import COMPONENT_LABELS
from app.reports.exports import FORMATS, ExportSpec, export_response
from app.reports.routes import export_list

bp = Blueprint("payments", __name__, url_prefix="/pagamenti")

LABELS = {
    "payment_statuses": PAYMENT_STATUSES,
    "anomaly_kinds": ANOMALY_KINDS,
    "outcome_codes": OUTCOME_CODES,
    "flow_sources": FLOW_SOURCES,
    "match_methods": MATCH_METHODS,
    "channels": PAYMENT_CHANNELS,
    "refund_statuses": REFUND_STATUSES,
    "anomaly_statuses": ANOMALY_STATUSES,
    "formats": FORMATS,
}


def _render(template: str, **context: Any) -> str:
    return render_template(template, **LABELS, **context)


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    if isinstance(exc, NotFound):  # out of scope or missing: the same 404 as every other id (no redirect)
        raise exc
    flash(exc.message, "danger")


# --- flows --------------------------------------------------------------------------------------------------


@bp.route("/")
@permission_required("position.read")
def flow_list() -> Any:
    form = forms.FlowFilters(request.args)
    form.fonte.choices = [("", "Tutte"), *FLOW_SOURCES.items()]
    form = valid_query(form)
    page = form.pagina.data or 1
    source = form.fonte.data or None
    flows = queries.list_flows(db.session, current_principal(), source=source, page=page)
    return _render(
        "payments/flow_list.html",
        fdr_form=(
            _fdr_form(queries.enti_of(db.session, current_principal()))
            if current_app.config.get("FDR_API_KEY")
            else None
        ),
        flows=flows[: queries.PAGE_SIZE],
        has_next=len(flows) > queries.PAGE_SIZE,
        page=page,
        source=source,
        counts=queries.counts_for_home(db.session, current_principal()),
    )


def _upload_form() -> forms.UploadForm:
    form = forms.UploadForm()
    form.format.choices = forms.UPLOAD_FORMATS
    form.layout.choices = [(n, n) for n in services.list_layout_names(db.session)]
    form.ente.choices = [("", "Dal contenuto del file")] + [
        (e.code, f"{e.code} – {e.name}") for e in queries.enti_of(db.session, current_principal())
    ]
    return form


def _fdr_form(enti: list[Ente]) -> forms.FdrFetchForm:
    form = forms.FdrFetchForm()
    form.ente.choices = [(e.code, f"{e.code} – {e.name}") for e in enti]
    return form


@bp.route("/scarica-fdr", methods=["POST"])
@permission_required("carichi.import")
def fdr_fetch() -> Any:
    """Queue a fetch of the ente's FdR flows from pagoPA now (batch job, followed on Elaborazioni)."""
    from app.payments.fdr_rest import NOT_CONFIGURED

    if not current_app.config.get("FDR_API_KEY"):
        flash(NOT_CONFIGURED, "danger")
        return redirect(url_for("payments.flow_list"))
    enti = queries.enti_of(db.session, current_principal())
    form = _fdr_form(enti)
    if not form.validate_on_submit():
        flash(
            " ".join(e for errors in form.errors.values() for e in errors) or "Richiesta non valida.",
            "danger",
        )
        return redirect(url_for("payments.flow_list"))
    ente = next(e for e in enti if e.code == form.ente.data)  # the form accepts only these codes
    job = services.queue_fdr_fetch(db.session, current_actor(), ente, published_after=form.dal.data)
    db.session.commit()
    flash(f"Scarico dei flussi FdR di {ente.code} avviato (elaborazione n. {job.id}).", "success")
    return redirect(url_for("jobs.job_detail", job_id=job.id))


@bp.route("/carica", methods=["GET", "POST"])
@permission_required("carichi.import")
def upload() -> Any:
    """Store the file and queue its import (batch job: progress on the Elaborazioni page)."""
    from app.jobs.files import store_stream

    form = _upload_form()
    if form.validate_on_submit():
        stored = store_stream(current_app.config["FILE_STORE"], form.file.data.stream)
        principal = current_principal()
        ente = next((e for e in queries.enti_of(db.session, principal) if e.code == form.ente.data), None)
        job = services.queue_flow_import(
            db.session,
            current_actor(),
            principal,
            stored,
            form.file.data.filename,
            fmt=form.format.data,
            layout=form.layout.data,
            ente_code=form.ente.data,
            ente_id=ente.id if ente else None,
        )
        db.session.commit()
        flash(
            f"File ricevuto: importazione e riconciliazione in corso (elaborazione n. {job.id}).", "success"
        )
        return redirect(url_for("jobs.job_detail", job_id=job.id))
    return _render("payments/upload.html", form=form)


@bp.route("/flussi/<int:flow_id>")
@permission_required("position.read")
def flow_detail(flow_id: int) -> Any:
    principal = current_principal()
    flow = queries.get_flow(db.session, principal, flow_id)
    form = _flow_payment_filters()
    page = form.pagina.data or 1
    status = form.stato.data or None
    payments = queries.payments_stmt(principal, flow_id=flow.id, status=status)
    rows = list(
        db.session.execute(
            payments.limit(queries.PAGE_SIZE + 1).offset((page - 1) * queries.PAGE_SIZE)
        ).mappings()
    )
    anomalies = list(
        db.session.execute(
            queries.anomalies_stmt(principal, flow_id=flow.id, status=None).limit(100)
        ).mappings()
    )
    return _render(
        "payments/flow_detail.html",
        flow=flow,
        rows=rows[: queries.PAGE_SIZE],
        has_next=len(rows) > queries.PAGE_SIZE,
        page=page,
        status=status,
        total=count_rows(db.session, payments),
        counts=queries.flow_counts(db.session, flow.id),
        anomalies=anomalies,
        credits=queries.list_bank_credits(db.session, principal, flow_id=flow.id),
        credit_form=forms.BankCreditForm(),
    )


def _flow_payment_filters() -> forms.FlowPaymentFilters:
    form = forms.FlowPaymentFilters(request.args)
    form.stato.choices = [("", "Tutti"), *PAYMENT_STATUSES.items()]
    return valid_query(form)


@bp.route("/flussi/<int:flow_id>/pagamenti.<fmt>")
@permission_required("export")
def flow_payments_export(flow_id: int, fmt: str) -> Any:
    flow = queries.get_flow(db.session, current_principal(), flow_id)
    status = _flow_payment_filters().stato.data or None
    return export_list(export_sources.flow_payments, fmt, {"flow_id": flow.id, "status": status})


@bp.route("/flussi/<int:flow_id>/accrediti", methods=["POST"])
@permission_required("carichi.import")
def bank_credit(flow_id: int) -> Any:
    principal = current_principal()
    flow = queries.get_flow(db.session, principal, flow_id)
    form = forms.BankCreditForm()
    if not form.validate_on_submit():
        flash(
            "Accredito non registrato: " + "; ".join(e for errs in form.errors.values() for e in errs),
            "danger",
        )
        return redirect(url_for("payments.flow_detail", flow_id=flow.id))
    try:
        services.register_bank_credit(
            db.session,
            principal,
            current_actor(),
            ente_id=flow.ente_id,
            value_date=form.value_date.data,
            amount_cents=forms.amount_cents(form.amount),
            reference=form.reference.data,
            causale=form.causale.data or flow.identifier,
        )
        db.session.commit()
        flash("Accredito registrato e confrontato con i flussi.", "success")
    except DomainError as exc:
        _fail(exc)
    return redirect(url_for("payments.flow_detail", flow_id=flow.id))


# --- payments -----------------------------------------------------------------------------------------------


@bp.route("/<int:payment_id>")
@permission_required("position.read")
def payment_detail(payment_id: int) -> Any:
    principal = current_principal()
    payment = queries.get_payment(db.session, principal, payment_id)
    return _render(
        "payments/payment_detail.html",
        payment=payment,
        allocations=queries.allocations_of(db.session, principal, [payment.id])[payment.id],
        refunds=queries.refunds_of(db.session, principal, [payment.id])[payment.id],
        events=queries.payment_events(db.session, principal, payment),
        storno_form=forms.StornoForm(),
    )


@bp.route("/<int:payment_id>/storno", methods=["POST"])
@permission_required("carichi.import")
def payment_reverse(payment_id: int) -> Any:
    form = forms.StornoForm()
    if form.validate_on_submit():
        try:
            services.reverse_payment(
                db.session, current_principal(), current_actor(), payment_id, reason=form.reason.data
            )
            db.session.commit()
            flash("Pagamento stornato: scritture di storno registrate.", "success")
        except DomainError as exc:
            _fail(exc)
    else:
        flash("Indica il motivo dello storno.", "danger")
    return redirect(url_for("payments.payment_detail", payment_id=payment_id))


@bp.route("/<int:payment_id>/revisione", methods=["POST"])
@permission_required("carichi.import")
def payment_to_review(payment_id: int) -> Any:
    form = forms.NoteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        review = services.open_review(db.session, current_principal(), current_actor(), payment_id)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for("payments.payment_detail", payment_id=payment_id))
    return redirect(url_for("payments.review_detail", review_id=review.id))


@bp.route("/<int:payment_id>/quietanza.pdf")
@permission_required("position.read")
def receipt_pdf(payment_id: int) -> Any:
    payment = queries.get_payment(db.session, current_principal(), payment_id)
    if not payment.receipt_number:
        abort(404, "Questo pagamento non ha una quietanza di sportello.")
    return _receipt_response(payment, "inline")


@bp.route("/le-mie-quietanze/<int:payment_id>.pdf")
@permission_required("self_service")
def own_receipt_pdf(payment_id: int) -> Any:
    """Self-service: a taxpayer downloads the quietanza of one of their own desk payments."""
    payment = queries.get_own_receipt(db.session, current_principal(), payment_id)
    return _receipt_response(payment, "attachment")


def _receipt_response(payment: Any, disposition: str) -> Response:
    """The quietanza PDF of a desk payment, its reading logged (who, when, which taxpayer)."""
    from app.core.audit import log_access
    from app.payments.receipts import render_receipt

    pdf = render_receipt(db.session, payment, secret=current_app.config["SECRET_KEY"])
    log_access(
        db.session,
        current_actor(),
        "quietanza_pdf",
        taxpayer_id=payment.taxpayer_id,
        remote_addr=request.remote_addr,
        detail={"payment_id": payment.id},
    )
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="quietanza_{payment.receipt_number}.pdf"'},
    )


# --- desk ---------------------------------------------------------------------------------------------------


def _desk_prefill(principal: Any) -> dict[str, str]:
    """`?posizione=<id>` (the card's "Incassa allo sportello"): ente, id posizione and the notice's amount
    of the position, if the user can see it; else `?riferimento=&ente=` as given."""
    from app.positions.notice_view import notice_amount_cents, today
    from app.positions.queries import get_position

    query = valid_query(forms.DeskPrefill(request.args))  # a bad one is a 400 in Italian, never a 500
    position = get_position(db.session, principal, query.posizione.data) if query.posizione.data else None
    if position is None:
        return {"reference": query.riferimento.data or "", "ente": query.ente.data or ""}
    cents = notice_amount_cents(db.session, position, today())
    return {
        "ente": position.ente.code,
        "reference": position.external_id,
        "amount": f"{cents // 100},{cents % 100:02d}" if cents > 0 else "",
    }


@bp.route("/sportello", methods=["GET", "POST"])
@permission_required("taxpayer.edit")
def desk() -> Any:
    principal = current_principal()
    form = forms.DeskForm(data=_desk_prefill(principal) if request.method == "GET" else None)
    enti = queries.enti_of(db.session, principal)
    form.ente.choices = [(e.code, f"{e.code} – {e.name}") for e in enti]
    form.channel.choices = list(services.DESK_CHANNELS.items())
    if form.validate_on_submit():
        ente = next(e for e in enti if e.code == form.ente.data)
        position = queries.position_by_reference(db.session, principal, ente.id, form.reference.data)
        if position is None:
            form.reference.errors = [
                *form.reference.errors,
                "Nessuna posizione dell'ente con questo riferimento.",
            ]
        else:
            try:
                payment = services.register_desk_payment(
                    db.session,
                    principal,
                    current_actor(),
                    position_id=position.id,
                    amount_cents=forms.amount_cents(form.amount),
                    channel=form.channel.data,
                    payer_name=form.payer_name.data or None,
                    idempotency_key=form.idempotency_key.data,
                )
                db.session.commit()
                flash(f"Pagamento registrato: quietanza n. {payment.receipt_number}.", "success")
                return redirect(url_for("payments.payment_detail", payment_id=payment.id))
            except services.DeskFormReplayed as replay:  # the same form again: its payment, not a second one
                db.session.rollback()
                flash(replay.message, "info")
                return redirect(url_for("payments.payment_detail", payment_id=replay.payment_id))
            except services.DeskFormReused as exc:
                db.session.rollback()
                form.fresh_key()
                form.amount.errors = [*form.amount.errors, exc.message]
            except DomainError as exc:
                db.session.rollback()
                form.amount.errors = [*form.amount.errors, exc.message]
    return _render("payments/desk.html", form=form)


# --- review queue -------------------------------------------------------------------------------------------


@bp.route("/revisione")
@permission_required("carichi.import")
def review_list() -> Any:
    page = valid_query(forms.PageFilters(request.args)).pagina.data or 1
    rows = queries.list_reviews(db.session, current_principal(), page=page)
    return _render(
        "payments/review_list.html",
        rows=rows[: queries.PAGE_SIZE],
        page=page,
        has_next=len(rows) > queries.PAGE_SIZE,
    )


@bp.route("/revisione/esporta.<fmt>")
@permission_required("carichi.import")
def review_export(fmt: str) -> Any:
    """The whole open review queue (every page) in every export format."""
    principal = current_principal()
    if fmt not in FORMATS:
        abort(404)
    if not principal.can("export"):
        abort(403)
    return export_list(export_sources.review_queue, fmt, {})


@bp.route("/revisione/<int:review_id>")
@permission_required("carichi.import")
def review_detail(review_id: int) -> Any:
    principal = current_principal()
    review = queries.get_review(db.session, principal, review_id)
    return _render(
        "payments/review_detail.html",
        review=review,
        payment=review.payment,
        candidates=queries.candidate_positions(db.session, principal, review),
        form=forms.NoteForm(),
        reject_form=forms.RequiredNoteForm(),
    )


def _chosen_position(review: Any, field: str) -> int | None:
    """The position an operator chose: `posizione` carries the internal id (the radio buttons of the
    candidates); any other field a reference typed by hand (id_posizione or codice avviso)."""
    value = request.form.get(field, "").strip()
    if not value:
        return None
    if field == "posizione":
        position_id = parse_id(value)
        if position_id is None:
            raise DomainError("Posizione non valida.")
        return position_id
    position = queries.position_by_reference(db.session, current_principal(), review.ente_id, value)
    if position is None:
        raise DomainError(f"Nessuna posizione dell'ente con riferimento «{value}».")
    return position.id


def _review_action(review_id: int) -> tuple[Any, Any, forms.NoteForm]:
    """The principal, the review they act on (404 out of their scope) and the action's note form (400 when it
    does not validate, e.g. without its CSRF token): the start of confirming and of splitting a review."""
    principal = current_principal()
    review = queries.get_review(db.session, principal, review_id)
    form = forms.NoteForm()
    if not form.validate_on_submit():
        abort(400)
    return principal, review, form


@bp.route("/revisione/<int:review_id>/conferma", methods=["POST"])
@permission_required("carichi.import")
def review_confirm(review_id: int) -> Any:
    principal, review, form = _review_action(review_id)
    try:
        target = _chosen_position(review, "altra") or _chosen_position(review, "posizione")
        payment = services.confirm_review(
            db.session, principal, current_actor(), review.id, position_id=target, note=form.note.data
        )
        db.session.commit()
        flash(f"Pagamento {payment.external_id} imputato alla posizione.", "success")
        return redirect(url_for("payments.review_list"))
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for("payments.review_detail", review_id=review_id))


@bp.route("/revisione/<int:review_id>/ripartisci", methods=["POST"])
@permission_required("carichi.import")
def review_split(review_id: int) -> Any:
    from app.payments.parsing import parse_amount

    principal, review, form = _review_action(review_id)
    try:
        parts: list[tuple[int, int]] = []
        for key, value in request.form.items():
            if key.startswith("quota_") and value.strip():
                position_id = parse_id(key.removeprefix("quota_"))
                if position_id is None:
                    raise ValueError(f"posizione «{key}» non valida")
                parts.append((position_id, _amount(parse_amount, value)))
        other = _chosen_position(review, "altra")
        if other is not None and request.form.get("altra_quota", "").strip():
            parts.append((other, _amount(parse_amount, request.form["altra_quota"])))
        services.split_review(db.session, principal, current_actor(), review.id, parts, note=form.note.data)
        db.session.commit()
        flash("Pagamento ripartito tra le posizioni indicate.", "success")
        return redirect(url_for("payments.review_list"))
    except (DomainError, ValueError) as exc:
        if isinstance(exc, DomainError):
            _fail(exc)
        else:
            db.session.rollback()
            flash(f"Quote non valide: {exc}", "danger")
        return redirect(url_for("payments.review_detail", review_id=review_id))


def _amount(parse: Any, value: str) -> int:
    return int(parse(value))


@bp.route("/revisione/<int:review_id>/respingi", methods=["POST"])
@permission_required("carichi.import")
def review_reject(review_id: int) -> Any:
    form = forms.RequiredNoteForm()
    if not form.validate_on_submit():
        flash("Per respingere un pagamento scrivi il motivo.", "danger")
        return redirect(url_for("payments.review_detail", review_id=review_id))
    try:
        services.reject_review(
            db.session, current_principal(), current_actor(), review_id, note=form.note.data
        )
        db.session.commit()
        flash("Pagamento respinto: l'importo è nell'elenco dei rimborsi da eseguire.", "success")
        return redirect(url_for("payments.review_list"))
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for("payments.review_detail", review_id=review_id))


# --- anomalies and refunds ----------------------------------------------------------------------------------


def _anomaly_form() -> forms.AnomalyFilters:
    """Filters of the anomalies list and export: no `stato` means the open ones, `stato=tutte` (or empty)
    every state."""
    form = forms.AnomalyFilters(request.args)
    form.tipo.choices = [("", "Tutti"), *ANOMALY_KINDS.items()]
    form.stato.choices = [("", "Tutte"), ("tutte", "Tutte"), *ANOMALY_STATUSES.items()]
    return valid_query(form)


def _anomaly_filters(form: forms.AnomalyFilters | None = None) -> dict[str, Any]:
    form = form or _anomaly_form()
    status = form.stato.data if "stato" in request.args else "aperta"
    return {"kind": form.tipo.data or None, "status": status if status in ANOMALY_STATUSES else None}


@bp.route("/anomalie")
@permission_required("position.read")
def anomaly_list() -> Any:
    principal = current_principal()
    form = _anomaly_form()
    filters = _anomaly_filters(form)
    page = form.pagina.data or 1
    anomalies = queries.anomalies_stmt(principal, **filters)
    rows = list(
        db.session.execute(
            anomalies.limit(queries.PAGE_SIZE + 1).offset((page - 1) * queries.PAGE_SIZE)
        ).mappings()
    )
    return _render(
        "payments/anomaly_list.html",
        rows=rows[: queries.PAGE_SIZE],
        has_next=len(rows) > queries.PAGE_SIZE,
        page=page,
        filters=filters,
        total=count_rows(db.session, anomalies),
        counts=queries.anomaly_counts(db.session, principal),
        form=forms.RequiredNoteForm(),
    )


@bp.route("/anomalie/esporta.<fmt>")
@permission_required("export")
def anomaly_export(fmt: str) -> Any:
    return export_list(export_sources.anomalies, fmt, _anomaly_filters())


@bp.route("/anomalie/<int:anomaly_id>/chiudi", methods=["POST"])
@permission_required("carichi.import")
def anomaly_close(anomaly_id: int) -> Any:
    form = forms.RequiredNoteForm()
    if not form.validate_on_submit():
        flash("Per chiudere un'anomalia scrivi come è stata risolta.", "danger")
    else:
        try:
            services.close_anomaly(
                db.session, current_principal(), current_actor(), anomaly_id, note=form.note.data
            )
            db.session.commit()
            flash(f"Anomalia n. {anomaly_id} chiusa.", "success")
        except DomainError as exc:
            _fail(exc)
    return redirect(local_path(request.form.get("next")) or url_for("payments.anomaly_list"))


def _refund_status() -> str | None:
    """The refunds shown: those to pay when no `stato` is given, every one with `stato=tutti`."""
    form = forms.RefundFilters(request.args)
    form.stato.choices = [("", "Tutti"), ("tutti", "Tutti"), *REFUND_STATUSES.items()]
    status = valid_query(form).stato.data if "stato" in request.args else "da_rimborsare"
    return status if status in REFUND_STATUSES else None


@bp.route("/rimborsi")
@permission_required("position.read")
def refund_list() -> Any:
    status = _refund_status()
    refunds = queries.refunds_stmt(current_principal(), status=status)
    rows = list(db.session.execute(refunds.limit(500)).mappings())
    return _render(
        "payments/refund_list.html",
        rows=rows,
        status=status,
        total=count_rows(db.session, refunds),
        form=forms.RefundForm(),
    )


@bp.route("/rimborsi/esporta.<fmt>")
@permission_required("export")
def refund_export(fmt: str) -> Any:
    return export_list(export_sources.refunds, fmt, {"status": _refund_status()})


@bp.route("/rimborsi/<int:refund_id>/eseguito", methods=["POST"])
@permission_required("carichi.import")
def refund_done(refund_id: int) -> Any:
    form = forms.RefundForm()
    if not form.validate_on_submit():
        flash("Indica il riferimento del bonifico di rimborso.", "danger")
    else:
        try:
            services.mark_refunded(
                db.session,
                current_principal(),
                current_actor(),
                refund_id,
                reference=form.reference.data,
                note=form.note.data,
            )
            db.session.commit()
            flash(f"Rimborso n. {refund_id} segnato come eseguito.", "success")
        except DomainError as exc:
            _fail(exc)
    return redirect(url_for("payments.refund_list"))


# --- rendicontazione ----------------------------------------------------------------------------------------


def _report_form() -> tuple[forms.ReportForm, reports.Filters, tuple[str, ...]]:
    principal = current_principal()
    form = forms.ReportForm(request.args)
    form.ente.choices = [("", "Tutti")] + [(e.code, e.code) for e in queries.enti_of(db.session, principal)]
    form.entrata.choices = [("", "Tutte")] + sorted(
        {(e.code, e.code) for e in queries.entrate_of(db.session, principal)}
    )
    form.per.choices = [(k, v[0]) for k, v in reports.DIMENSIONS.items()]
    form.componente.choices = [("", "Tutte"), *COMPONENT_LABELS.items()]
    valid_query(form, shown_on_form=("dal", "al"))
    filters = reports.Filters(
        dal=form.dal.data,
        al=form.al.data,
        ente=form.ente.data or None,
        entrata=form.entrata.data or None,
        capitolo=form.capitolo.data or None,
        anno=form.anno.data,
        componente=form.componente.data or None,
        canale=form.canale.data or None,
        mese=form.mese.data,
    )
    grouping = reports.grouping_of(form.per.data or [])
    if not request.args.getlist("per"):
        form.per.data = list(grouping)
    return form, filters, grouping


@bp.route("/rendicontazione")
@permission_required("position.read")
def report() -> Any:
    form, filters, grouping = _report_form()
    principal = current_principal()
    rows = list(
        db.session.execute(reports.collected_stmt(principal, grouping, filters).limit(5000)).mappings()
    )
    unallocated = list(db.session.execute(reports.unallocated_stmt(principal, filters)).mappings())
    return _render(
        "payments/report.html",
        form=form,
        rows=rows,
        grouping=grouping,
        filters=filters,
        dimensions=reports.DIMENSIONS,
        unallocated=unallocated,
        total=sum(int(r["importo_cents"] or 0) for r in rows),
    )


@bp.route("/rendicontazione/esporta.<fmt>")
@permission_required("export")
def report_export(fmt: str) -> Any:
    _form, filters, grouping = _report_form()
    return export_list(export_sources.collected, fmt, {**filters.as_args(), "per": list(grouping)})


@bp.route("/rendicontazione/dettaglio")
@permission_required("position.read")
def report_detail() -> Any:
    form, filters, _grouping = _report_form()
    page = form.pagina.data or 1
    detail = reports.detail_stmt(current_principal(), filters)
    rows = list(
        db.session.execute(
            detail.limit(queries.PAGE_SIZE + 1).offset((page - 1) * queries.PAGE_SIZE)
        ).mappings()
    )
    return _render(
        "payments/report_detail.html",
        rows=rows[: queries.PAGE_SIZE],
        filters=filters,
        page=page,
        has_next=len(rows) > queries.PAGE_SIZE,
        total=count_rows(db.session, detail),
        dimensions=reports.DIMENSIONS,
    )


@bp.route("/rendicontazione/dettaglio.<fmt>")
@permission_required("export")
def report_detail_export(fmt: str) -> Any:
    _form, filters, _grouping = _report_form()
    return export_list(export_sources.collected_detail, fmt, filters.as_args())


@bp.route("/rendicontazione/non-attribuiti.<fmt>")
@permission_required("export")
def unallocated_export(fmt: str) -> Any:
    _form, filters, _grouping = _report_form()
    return export_list(export_sources.unallocated, fmt, filters.as_args())


# --- riversamento -------------------------------------------------------------------------------------------


@bp.route("/riversamento", methods=["GET", "POST"])
@permission_required("export")
def riversamento_list() -> Any:
    principal = current_principal()
    enti = queries.enti_of(db.session, principal)
    form = forms.RiversamentoForm()
    form.ente.choices = [(e.code, f"{e.code} – {e.name}") for e in enti]
    if request.method == "POST":
        if not current_principal().can("carichi.import"):
            abort(403)
        if form.validate_on_submit():
            ente = next(e for e in enti if e.code == form.ente.data)
            try:
                row = riv.produce_riversamento(
                    db.session,
                    principal,
                    current_actor(),
                    ente_id=ente.id,
                    dal=form.dal.data,
                    al=form.al.data,
                    file_store=current_app.config["FILE_STORE"],
                )
                db.session.commit()
                flash(f"Riversamento n. {row.id} prodotto: {row.allocations_count} movimenti.", "success")
                return redirect(url_for("payments.riversamento_list"))
            except DomainError as exc:
                _fail(exc)
    elif not form.dal.data:
        today = queries.today_rome()
        form.dal.data, form.al.data = today.replace(day=1), today
    return _render(
        "payments/riversamento.html", form=form, rows=queries.list_riversamenti(db.session, principal)
    )


@bp.route("/riversamento/<int:riversamento_id>.<kind>")
@permission_required("export")
def riversamento_file(riversamento_id: int, kind: str) -> Any:
    if kind not in ("csv", "xml"):
        abort(404)
    row = queries.get_riversamento(db.session, current_principal(), riversamento_id)
    body = riv.read_document(current_app.config["FILE_STORE"], row, kind)
    name = f"riversamento_{row.ente.code}_{row.period_from:%Y%m%d}_{row.period_to:%Y%m%d}.{kind}"
    return Response(
        body,
        mimetype="text/csv" if kind == "csv" else "application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/riversamento/riepilogo.<fmt>")
@permission_required("export")
def riversamento_summary_export(fmt: str) -> Any:
    principal = current_principal()
    ente = next(
        (e for e in queries.enti_of(db.session, principal) if e.code == request.args.get("ente")), None
    )
    try:
        dal = dt.date.fromisoformat(request.args.get("dal", ""))
        al = dt.date.fromisoformat(request.args.get("al", ""))
    except ValueError:
        abort(400, "Indica ente, dal e al (AAAA-MM-GG).")
    if ente is None:
        abort(404, "Ente non trovato.")
    spec = ExportSpec(
        title=f"Riepilogo riversamento {ente.code} dal {dal:%d/%m/%Y} al {al:%d/%m/%Y}",
        filename_stem="riversamento_riepilogo",
        columns=riv.SUMMARY_SPEC.columns,
        totals=riv.SUMMARY_SPEC.totals,
    )
    return export_response(
        db.session.execute(riv.summary_stmt(principal, ente.id, dal, al)).mappings(), spec, fmt
    )


# --- layouts ------------------------------------------------------------------------------------------------


@bp.route("/tracciati")
@permission_required("carichi.import")
def layout_list() -> Any:
    rows = list(db.session.scalars(sa.select(PaymentLayout).order_by(PaymentLayout.name)))
    return _render("payments/layouts.html", builtin=services.BUILTIN_LAYOUTS, rows=rows)


@bp.route("/tracciati/nuovo", methods=["GET", "POST"], defaults={"layout_id": None})
@bp.route("/tracciati/<int:layout_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def layout_edit(layout_id: int | None) -> Any:
    """A payments tracciato edited as fields, with the preview of a sample file (nothing saved for it)."""
    from app.payments import layouts
    from app.payments.parsing import REQUIRED_FIELDS

    layout = db.session.get(PaymentLayout, layout_id) if layout_id else None
    if layout_id and layout is None:
        abort(404, "Tracciato non trovato.")
    if request.method == "POST":
        form = forms.layout_form()
    else:
        form = forms.layout_form(data=layouts.editor_data(layout))
    problems: list[str] = []
    preview: dict[str, Any] | None = None
    wants_preview = "anteprima" in request.form
    if form.validate_on_submit():
        rows = [entry.form.data for entry in form.columns]
        values, problems = layouts.row_values(form.data, rows, dict(layout.options or {}) if layout else {})
        if wants_preview:
            sample = form.sample.data
            if problems:
                preview = {"problems": problems}
            elif not sample or not getattr(sample, "filename", None):
                preview = {"problems": ["Scegliere un file di prova."]}
            else:
                preview = {
                    **layouts.preview_sample(values, sample.stream.read(), dt.date.today()),
                    "file_name": sample.filename,
                }
        else:
            same_name = sa.select(PaymentLayout).where(PaymentLayout.name == values["name"])
            other = db.session.scalars(same_name).first()
            if other is not None and other is not layout:
                problems.append(f"Esiste già un tracciato di nome «{values['name']}».")
            if not problems:
                layout = layout or PaymentLayout()
                for name, value in values.items():
                    setattr(layout, name, value)
                db.session.add(layout)
                db.session.commit()
                flash(f"Tracciato «{layout.name}» salvato.", "success")
                return redirect(url_for("payments.layout_edit", layout_id=layout.id))
    elif wants_preview:
        preview = {"problems": ["Correggere gli errori del modulo e riprovare."]}
    if wants_preview and request.headers.get("HX-Request"):
        return _render("payments/_layout_preview.html", preview=preview)
    return _render(
        "payments/layout_edit.html",
        form=form,
        layout=layout,
        problems=[] if wants_preview else problems,
        preview=preview,
        required=REQUIRED_FIELDS,
    )


# --- the taxpayer card's fragment ---------------------------------------------------------------------------


@bp.route("/contribuenti/<int:taxpayer_id>")
@permission_required("taxpayer.read")
def card_payments(taxpayer_id: int) -> Any:
    """HTMX fragment of the card: each payment of the taxpayer and how it was allocated (read logged, once
    per card view: app.core.card_view)."""
    data = queries.card_payments(db.session, current_principal(), taxpayer_id)
    logged = log_card_section(
        db.session,
        current_actor(),
        "card_payments",
        taxpayer_id=data.taxpayer.id,
        remote_addr=request.remote_addr,
    )
    html = _render("payments/_card_payments.html", data=data)
    if logged:
        db.session.commit()  # the access log row, after rendering (a commit expires the rows the page reads)
    return html
