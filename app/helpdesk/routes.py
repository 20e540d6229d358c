"""Screens of the help desk: the ticket list, a new ticket (from the desk, the card or a contact), the
ticket's page (workflow, assignment, comments, transfer, attachments, history, SLA clocks, related
articles), the SLA report with its exports, and the taxpayer's self-service `/self-service/assistenza`.

Who does what: `helpdesk.work` (the Gestore's agents) moves tickets, assigns, transfers and writes internal
notes; the Regione referent (`helpdesk.read` + `helpdesk.open` + `helpdesk.reports`) sees every ticket of its
enti with its whole history and the internal notes, opens tickets and writes public comments, and sees and
exports the reports, but cannot write or change internal notes (comments are never edited by anyone).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.access import current_principal, permission_required
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.url_ids import parse_id
from app.extensions import db
from app.helpdesk import forms, queries, services, sla, third_parties
from app.helpdesk.clock import ROME
from app.helpdesk.models import (
    CATEGORIES,
    CHANNELS,
    GROUPS,
    OPEN_STATUSES,
    REQUESTER_KINDS,
    STATUSES,
    Ticket,
)

bp = Blueprint("helpdesk", __name__)


def _ticket(ticket_id: int) -> Ticket:
    ticket = queries.get_ticket(db.session, current_principal(), ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _enti() -> list[Any]:
    from app.enti.queries import list_enti

    return list_enti(db.session, current_principal().ente_ids)


def _today() -> dt.date:
    return utcnow().astimezone(ROME).date()


@bp.route("/assistenza/")
@permission_required("helpdesk.read")
def ticket_list() -> Any:
    args = valid_query(forms.TicketFilters(request.args))
    filters = {
        "stato": args.stato.data or "",
        "urgenza": args.urgenza.data or "",
        "gruppo": args.gruppo.data or "",
        "q": args.q.data or "",
        "aperte": args.aperte.data or "",
        "mie": args.mie.data or "",
    }
    result = queries.list_tickets(
        db.session,
        current_principal(),
        page=args.page.data or 1,
        status=filters["stato"] or None,
        urgency=filters["urgenza"] or None,
        group=filters["gruppo"] or None,
        text=filters["q"] or None,
        mine=current_user.id if filters["mie"] else None,
        open_only=bool(filters["aperte"]),
    )
    return render_template(
        "helpdesk/ticket_list.html",
        result=result,
        filters=filters,
        statuses=STATUSES,
        groups=GROUPS,
        urgencies=queries.urgency_labels(db.session),
    )


@bp.route("/assistenza/nuova", methods=["GET", "POST"])
@permission_required("helpdesk.open")
def ticket_new() -> Any:
    from app.taxpayers.queries import get_taxpayer

    args = valid_query(forms.NewTicketArgs(request.args))
    form = forms.TicketForm()
    enti = _enti()
    if not enti:
        abort(403)
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in enti]
    form.channel.choices = [(k, v) for k, v in CHANNELS.items() if k != "portale"]
    form.urgency.choices = [
        (
            p.code,
            f"{p.label} (risposta {p.response_minutes} min, risoluzione "
            f"{p.resolution_minutes} min lavorativi)",
        )
        for p in sla.policies(db.session, _today())
    ]
    form.category.choices = list(CATEGORIES.items())
    form.requester_kind.choices = list(REQUESTER_KINDS.items())
    form.assigned_group.choices = [("", "Nessuno"), *GROUPS.items()]
    if request.method == "GET":
        form.channel.data = "operatore" if current_user.role != "regione" else "portale"
        form.urgency.data = "media"
        form.requester_kind.data = "regione" if current_user.role == "regione" else "operatore"
        form.requester_name.data = current_user.display_name
        form.requester_email.data = current_user.email or ""
        if args.contribuente.data:
            form.taxpayer_id.data = str(args.contribuente.data)
            form.requester_kind.data = "contribuente"
            form.channel.data = "telefono"
        form.position_id.data = args.posizione.data
        form.contact_id.data = args.contatto.data
    if current_user.role == "regione":
        form.channel.choices = [("portale", CHANNELS["portale"])]
    taxpayer = None
    raw = form.taxpayer_id.data or ""
    if raw:
        taxpayer_id = parse_id(raw)
        if taxpayer_id is None:
            abort(404)
        taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)  # 404 outside the user's enti
        if request.method == "GET" and form.requester_name.data == current_user.display_name:
            form.requester_name.data = taxpayer.display_name
            form.requester_email.data = ""
    if form.validate_on_submit():
        try:
            position_id = _position_of(form.position_id.data, taxpayer)
            document_id = _document(form.document_id.data)
            ticket = services.open_ticket(
                db.session,
                services.NewTicket(
                    ente_id=form.ente_id.data,
                    channel=form.channel.data,
                    urgency=form.urgency.data,
                    category=form.category.data,
                    subject=form.subject.data,
                    description=form.description.data,
                    requester_kind=form.requester_kind.data,
                    requester_name=form.requester_name.data,
                    requester_email=form.requester_email.data or None,
                    requester_user_id=current_user.id if form.requester_kind.data != "contribuente" else None,
                    taxpayer_id=taxpayer.id if taxpayer else None,
                    position_id=position_id,
                    document_id=document_id,
                    contact_id=form.contact_id.data,
                    assigned_group=form.assigned_group.data or None,
                ),
                current_actor(),
                now=utcnow(),
            )
            upload = form.attachment.data
            if upload and getattr(upload, "filename", ""):
                _attach(ticket, upload)
        except DomainError as exc:
            db.session.rollback()
            form.subject.errors = [*form.subject.errors, exc.message]
        else:
            db.session.commit()
            flash(f"Segnalazione {ticket.reference} aperta.", "success")
            return redirect(url_for("helpdesk.ticket_detail", ticket_id=ticket.id))
    return render_template("helpdesk/ticket_new.html", form=form, taxpayer=taxpayer)


def _position_of(position_id: int | None, taxpayer: Any) -> int | None:
    if not position_id:
        return None
    from app.positions.queries import get_position

    position = get_position(db.session, current_principal(), position_id)
    if position is None:
        raise DomainError(f"Posizione {position_id}: non trovata tra quelle dei tuoi enti.")
    if taxpayer is not None and position.taxpayer_id != taxpayer.id:
        raise DomainError(f"Posizione {position_id}: non è del contribuente indicato.")
    return int(position.id)


def _document(document_id: int | None) -> int | None:
    if not document_id:
        return None
    from app.archive.queries import get_document

    if get_document(db.session, current_principal(), document_id) is None:
        raise DomainError(f"Documento {document_id}: non trovato nell'archivio dei tuoi enti.")
    return document_id


def _attach(ticket: Ticket, upload: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="esattoria-assistenza-") as tmp:
        path = Path(tmp) / "allegato"
        upload.save(path)
        services.attach_file(
            db.session,
            ticket,
            path,
            upload.filename or "allegato",
            current_actor(),
            now=utcnow(),
            file_store=current_app.config["FILE_STORE"],
        )


def _detail_forms(ticket: Ticket) -> dict[str, Any]:
    status = forms.StatusForm()
    status.to.choices = [(s, STATUSES[s]) for s in sorted(services.TRANSITIONS.get(ticket.status, ()))]
    assign = forms.AssignForm()
    assign.group.choices = [("", "Nessuno"), *GROUPS.items()]
    assign.user_id.choices = [(0, "Nessuno")] + [
        (u.id, u.display_name) for u in queries.agents(db.session, ticket.ente_id)
    ]
    if request.method == "GET":
        assign.group.data = ticket.assigned_group or ""
        assign.user_id.data = ticket.assigned_user_id or 0
    return {
        "status_form": status,
        "assign_form": assign,
        "comment_form": forms.CommentForm(),
        "transfer_form": forms.TransferForm(),
        "answer_form": forms.AnswerForm(),
        "third_party_form": forms.ThirdPartyForm(),
        "third_party_answer_form": forms.ThirdPartyAnswerForm(),
        "attach_form": forms.AttachForm(),
    }


@bp.route("/assistenza/<int:ticket_id>")
@permission_required("helpdesk.read")
def ticket_detail(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    return _render_detail(ticket)


def _render_detail(ticket: Ticket, **extra: Any) -> Any:
    from app.crm.knowledge.queries import related_to_ticket

    clocks = sla.evaluate(db.session, ticket, utcnow())
    articles = related_to_ticket(db.session, current_principal(), ticket, limit=5)
    context = {**_detail_forms(ticket), **extra}
    return render_template(
        "helpdesk/ticket_detail.html",
        ticket=ticket,
        clocks=clocks,
        articles=articles,
        urgencies=queries.urgency_labels(db.session),
        mails=_mails(ticket),
        transfer_to=current_app.config.get("HELPDESK_TRANSFER_TO"),
        open_statuses=OPEN_STATUSES,
        statuses=STATUSES,
        **context,
    )


def _mails(ticket: Ticket) -> list[Any]:
    import sqlalchemy as sa

    from app.core.access import scoped
    from app.helpdesk.models import TicketMail

    return list(
        db.session.scalars(
            scoped(sa.select(TicketMail), TicketMail, current_principal())
            .where(TicketMail.ticket_id == ticket.id)
            .order_by(TicketMail.id)
        )
    )


def _done(ticket: Ticket, message: str) -> Any:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("helpdesk.ticket_detail", ticket_id=ticket.id))


def _refused(ticket: Ticket, exc: DomainError | str) -> Any:
    db.session.rollback()
    flash(exc.message if isinstance(exc, DomainError) else exc, "danger")
    return redirect(url_for("helpdesk.ticket_detail", ticket_id=ticket.id))


@bp.route("/assistenza/<int:ticket_id>/commenti", methods=["POST"])
@permission_required("helpdesk.open")
def ticket_comment(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.CommentForm()
    if not form.validate_on_submit():
        return _refused(ticket, "; ".join(e for errs in form.errors.values() for e in errs))
    internal = bool(form.internal.data)
    if internal and not current_principal().can("helpdesk.work"):
        abort(403)  # the Regione referent reads the Gestore's internal notes, never writes them
    try:
        services.add_comment(
            db.session, ticket, form.body.data, current_actor(), now=utcnow(), internal=internal
        )
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, "Nota interna aggiunta." if internal else "Risposta pubblicata.")


@bp.route("/assistenza/<int:ticket_id>/stato", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_status(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.StatusForm()
    form.to.choices = [(s, STATUSES[s]) for s in STATUSES]
    if not form.validate_on_submit():
        return _refused(ticket, "Scegli lo stato.")
    try:
        services.change_status(
            db.session,
            ticket,
            form.to.data,
            current_actor(),
            now=utcnow(),
            note=form.note.data or "",
            solution=form.solution.data,
        )
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, f"Stato: {STATUSES[ticket.status]}.")


@bp.route("/assistenza/<int:ticket_id>/assegna", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_assign(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.AssignForm()
    form.group.choices = [("", "Nessuno"), *GROUPS.items()]
    people = {u.id: u.display_name for u in queries.agents(db.session, ticket.ente_id)}
    form.user_id.choices = [(0, "Nessuno"), *people.items()]
    if not form.validate_on_submit():
        return _refused(ticket, "Assegnazione non valida: scegli un gruppo o un operatore dell'ente.")
    user_id = form.user_id.data or None
    try:
        services.assign(
            db.session,
            ticket,
            form.group.data or None,
            user_id,
            current_actor(),
            now=utcnow(),
            user_label=people.get(user_id or 0),
        )
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, "Assegnazione registrata.")


@bp.route("/assistenza/<int:ticket_id>/trasferisci", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_transfer(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.TransferForm()
    if not form.validate_on_submit():
        return _refused(ticket, "Scrivi il motivo del trasferimento.")
    try:
        mail = services.transfer(
            db.session,
            ticket,
            form.reason.data,
            current_actor(),
            now=utcnow(),
            recipient=current_app.config.get("HELPDESK_TRANSFER_TO"),
        )
    except DomainError as exc:
        return _refused(ticket, exc)
    note = (
        f" E-mail a {mail.recipient} in invio."
        if mail
        else " Nessun indirizzo HELPDESK_TRANSFER_TO: avvisare a mano."
    )
    return _done(ticket, "Segnalazione trasferita al primo livello della Regione." + note)


@bp.route("/assistenza/<int:ticket_id>/terzi", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_third_party(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.ThirdPartyForm()
    if not form.validate_on_submit():
        return _refused(ticket, "Indica il terzo, la sua e-mail e la richiesta.")
    try:
        mail = third_parties.involve(
            db.session, ticket, party=form.party.data, email=form.email.data, request=form.request.data,
            actor=current_actor(), now=utcnow(),
        )
    except DomainError as exc:
        return _refused(ticket, exc)
    party = form.party.data.strip()
    return _done(ticket, f"Richiesta a {party} in invio a {mail.recipient}: in attesa di terzi.")


@bp.route("/assistenza/<int:ticket_id>/terzi/risposta", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_third_party_answer(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.ThirdPartyAnswerForm()
    if not form.validate_on_submit():
        return _refused(ticket, "Indica chi ha risposto e la risposta.")
    try:
        third_parties.record_answer(
            db.session, ticket, party=form.party.data, answer=form.answer.data, actor=current_actor(),
            now=utcnow(),
        )
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, "Risposta del terzo registrata: la segnalazione torna in carico.")


@bp.route("/assistenza/<int:ticket_id>/risposta-primo-livello", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_answer(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.AnswerForm()
    if not form.validate_on_submit():
        return _refused(ticket, "Scrivi la risposta del primo livello.")
    try:
        services.record_transfer_answer(db.session, ticket, form.answer.data, current_actor(), now=utcnow())
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, "Risposta del primo livello registrata: la segnalazione torna in carico.")


@bp.route("/assistenza/<int:ticket_id>/allegati", methods=["POST"])
@permission_required("helpdesk.work")
def ticket_attach(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)
    form = forms.AttachForm()
    if not form.validate_on_submit() or not getattr(form.attachment.data, "filename", ""):
        return _refused(ticket, "Scegli un file.")
    try:
        _attach(ticket, form.attachment.data)
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, "Allegato protocollato nell'archivio e collegato.")


# --- reports ---------------------------------------------------------------------------------------------


def _period() -> tuple[dt.date, dt.date, Any]:
    args = valid_query(forms.ReportFilters(request.args), shown_on_form=("dal", "al"))
    today = _today()
    end = args.al.data or today
    start = args.dal.data or dt.date(end.year, 1, 1)
    if start > end:
        start, end = end, start
    args.dal.data, args.al.data = start, end
    return start, end, args


@bp.route("/assistenza/report")
@permission_required("helpdesk.reports")
def sla_report() -> Any:
    from app.reports.exports import FORMATS

    start, end, args = _period()
    report = queries.sla_report(db.session, current_principal(), start, end)
    chart = {
        "labels": [r.label for r in report.by_month],
        "resolution": [r.resolution_percent or 0 for r in report.by_month],
        "response": [r.response_percent or 0 for r in report.by_month],
        "classes": [r.label for r in report.by_class],
        "class_resolution": [r.resolution_percent or 0 for r in report.by_class],
        "backlog": [sum(v.values()) for v in report.backlog.values()],
        "backlog_labels": [STATUSES[s] for s in report.backlog],
    }
    return render_template(
        "helpdesk/sla_report.html",
        report=report,
        start=start,
        end=end,
        form=args,
        chart=chart,
        formats=FORMATS,
        urgencies=queries.urgency_labels(db.session),
        statuses=STATUSES,
    )


@bp.route("/assistenza/report.<fmt>")
@permission_required("helpdesk.reports")
def sla_report_export(fmt: str) -> Any:
    from app.reports.exports import Column, ExportSpec, export_response

    if not current_principal().can("export"):
        abort(403)
    start, end, _ = _period()
    report = queries.sla_report(db.session, current_principal(), start, end)
    spec = ExportSpec(
        title=f"SLA help desk {start:%d/%m/%Y} - {end:%d/%m/%Y}",
        filename_stem="sla_help_desk",
        columns=[
            Column("dimension", "Dimensione"),
            Column("label", "Valore"),
            Column("resolved", "Risolte", "int"),
            Column("within_resolution", "Risolte entro SLA", "int"),
            Column("resolution_percent", "% risoluzione entro SLA", "int"),
            Column("responded", "Prese in carico", "int"),
            Column("within_response", "Prese in carico entro SLA", "int"),
            Column("response_percent", "% presa in carico entro SLA", "int"),
            Column("mttr_minutes", "MTTR (minuti lavorativi)", "int"),
            Column("reopened", "Riaperte", "int"),
            Column("reopen_percent", "% riaperte", "int"),
            Column("backlog", "Aperte (arretrato)", "int"),
        ],
    )

    def rows() -> Any:
        for dimension, items in (
            ("Classe", report.by_class),
            ("Mese", report.by_month),
            ("Gruppo", report.by_group),
            ("Totale", [report.total]),
        ):
            for r in items:
                yield {
                    "dimension": dimension,
                    "label": r.label,
                    "resolved": r.resolved,
                    "within_resolution": r.within_resolution,
                    "resolution_percent": r.resolution_percent,
                    "responded": r.responded,
                    "within_response": r.within_response,
                    "response_percent": r.response_percent,
                    "mttr_minutes": r.mttr_minutes,
                    "reopened": r.reopened,
                    "reopen_percent": r.reopen_percent,
                    "backlog": None,
                }
        for status, by_class in report.backlog.items():
            empty = {column.key: None for column in spec.columns}
            yield {
                **empty,
                "dimension": "Arretrato (aperte)",
                "label": STATUSES[status],
                "backlog": sum(by_class.values()),
            }

    return export_response(rows(), spec, fmt)


# --- self-service ----------------------------------------------------------------------------------------


def _own_taxpayer() -> Any:
    from app.taxpayers.queries import get_taxpayer

    principal = current_principal()
    if principal.taxpayer_id is None:
        abort(403)
    return get_taxpayer(db.session, principal, principal.taxpayer_id)


@bp.route("/self-service/assistenza", methods=["GET", "POST"])
@permission_required("self_service")
def self_service() -> Any:
    taxpayer = _own_taxpayer()
    form = forms.SelfServiceForm()
    form.category.choices = [(k, v) for k, v in CATEGORIES.items() if k not in ("applicativo", "dati")]
    if form.validate_on_submit():
        ente_id = _taxpayer_ente(taxpayer.id)
        try:
            ticket = services.open_ticket(
                db.session,
                services.NewTicket(
                    ente_id=ente_id,
                    channel="portale",
                    urgency="bassa",
                    category=form.category.data,
                    subject=form.subject.data,
                    description=form.description.data,
                    requester_kind="contribuente",
                    requester_name=taxpayer.display_name,
                    requester_email=form.email.data or None,
                    requester_user_id=current_user.id,
                    taxpayer_id=taxpayer.id,
                ),
                current_actor(),
                now=utcnow(),
            )
        except DomainError as exc:
            db.session.rollback()
            form.subject.errors = [exc.message]
        else:
            db.session.commit()
            flash(f"Richiesta inviata: il numero di riferimento è {ticket.reference}.", "success")
            return redirect(url_for("helpdesk.self_service_ticket", ticket_id=ticket.id))
    tickets = queries.tickets_of_taxpayer(db.session, current_principal(), taxpayer.id)
    return render_template("helpdesk/self_service.html", form=form, tickets=tickets)


def _taxpayer_ente(taxpayer_id: int) -> int:
    import sqlalchemy as sa

    from app.core.access import scoped
    from app.taxpayers.models import TaxpayerEnte

    ente_id = db.session.scalar(
        scoped(sa.select(TaxpayerEnte.ente_id), TaxpayerEnte, current_principal())
        .where(TaxpayerEnte.taxpayer_id == taxpayer_id)
        .order_by(TaxpayerEnte.ente_id)
        .limit(1)
    )
    if ente_id is None:
        abort(403)
    return int(ente_id)


@bp.route("/self-service/assistenza/<int:ticket_id>", methods=["GET", "POST"])
@permission_required("self_service")
def self_service_ticket(ticket_id: int) -> Any:
    ticket = _ticket(ticket_id)  # scoped to the taxpayer's own tickets
    form = forms.SelfServiceReplyForm()
    if form.validate_on_submit():
        try:
            services.add_comment(
                db.session, ticket, form.body.data, current_actor(), now=utcnow(), from_requester=True
            )
        except DomainError as exc:
            db.session.rollback()
            form.body.errors = [exc.message]
        else:
            db.session.commit()
            flash("Messaggio inviato.", "success")
            return redirect(url_for("helpdesk.self_service_ticket", ticket_id=ticket.id))
    return render_template("helpdesk/self_service_ticket.html", ticket=ticket, form=form)
