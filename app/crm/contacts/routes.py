"""Screens of the contact log: the card's "Contatti" section (list + one short HTMX form), booking a slot from
the card, the sportelli's day view, the statistics (tables, charts, exports) and the taxpayer's own
appointments page (self-service)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import Principal, current_principal, permission_required
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.url_ids import parse_id
from app.crm.contacts import forms, queries, services, stats
from app.crm.contacts.models import CHANNELS, DIRECTIONS, OUTCOMES
from app.extensions import db
from app.reports.exports import FORMATS
from app.reports.routes import export_list

bp = Blueprint("crm_contacts", __name__, url_prefix="/crm")
self_service_bp = Blueprint("crm_self_service", __name__, url_prefix="/self-service")
CALENDAR_DAYS = 14


def _ente_labels(ente_ids: list[int]) -> dict[int, str]:
    from app.enti.queries import list_enti

    return {e.id: f"{e.code} · {e.name}" for e in list_enti(db.session, frozenset(ente_ids))}


def _contact_form(principal: Principal, taxpayer_id: int, data: Any = None) -> forms.ContactForm:
    form = forms.ContactForm(data)
    enti = queries.enti_of_taxpayer(db.session, principal, taxpayer_id)
    labels = _ente_labels(enti)
    form.ente.choices = [(e, labels.get(e, str(e))) for e in enti]
    form.canale.choices = list(CHANNELS.items())
    form.direzione.choices = list(DIRECTIONS.items())
    form.esito.choices = list(OUTCOMES.items())
    topics = [t for t in queries.topics_on(db.session, principal, queries.today_rome()) if t.ente_id in enti]
    several = len(enti) > 1
    form.argomento.choices = [
        (t.id, f"{t.label} ({labels[t.ente_id].split(' · ')[0]})" if several else t.label) for t in topics
    ]
    from app.positions.queries import position_options

    positions = position_options(db.session, principal, taxpayer_id)
    form.posizioni.choices = [(p.id, f"{p.external_id} · {p.entrata_name} {p.year}") for p in positions]
    documents: list[tuple[int, str]] = []
    if principal.can("archive.read"):
        from app.archive.queries import document_choices

        found = document_choices(db.session, principal, taxpayer_id=taxpayer_id, limit=50)
        documents = [(d.id, f"{d.protocol} · {d.subject or d.file_name}") for d in found]
    form.documenti.choices = documents
    return form


def _card_section(taxpayer_id: int, form: forms.ContactForm | None = None, *, recorded: bool = False) -> Any:
    principal = current_principal()
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, principal, taxpayer_id)
    if form is None and principal.can("contact.write"):
        form = _contact_form(principal, taxpayer.id)
    contacts = queries.list_contacts_of_taxpayer(db.session, principal, taxpayer.id)
    appointments = queries.list_appointments_of_taxpayer(
        db.session, principal, taxpayer.id, upcoming_from=dt.datetime.now(dt.UTC)
    )
    return render_template(
        "crm/_card_contacts_body.html",
        taxpayer=taxpayer,
        contacts=contacts,
        appointments=appointments,
        form=form,
        recorded=recorded,
        cancel_form=forms.CancelForm(),
    )


@bp.route("/contribuenti/<int:taxpayer_id>/contatti")
@permission_required("contact.read")
def card_contacts(taxpayer_id: int) -> Any:
    """The card's "Contatti" section (loaded by htmx): last contacts, next appointments, the form. The read
    is logged (GDPR accountability), as the card's is: once per card view (app.core.card_view)."""
    from app.core.card_view import log_card_section

    page = _card_section(taxpayer_id)  # 404 before the log row for a taxpayer out of scope
    if log_card_section(
        db.session, current_actor(), "card_contacts", taxpayer_id=taxpayer_id, remote_addr=request.remote_addr
    ):
        db.session.commit()
    return page


@bp.route("/contribuenti/<int:taxpayer_id>/contatti", methods=["POST"])
@permission_required("contact.write")
def record_contact(taxpayer_id: int) -> Any:
    principal = current_principal()
    from app.taxpayers.queries import get_taxpayer

    get_taxpayer(db.session, principal, taxpayer_id)  # 404 before anything else
    form = _contact_form(principal, taxpayer_id, request.form)
    if form.validate():
        try:
            services.record_contact(
                db.session,
                principal,
                current_actor(),
                services.ContactInput(
                    taxpayer_id=taxpayer_id,
                    ente_id=form.ente.data,
                    channel=form.canale.data,
                    direction=form.direzione.data,
                    topic_id=form.argomento.data,
                    outcome=form.esito.data,
                    duration_seconds=(form.durata.data or 0) * 60,
                    notes=form.note.data or "",
                    position_ids=tuple(form.posizioni.data or ()),
                    document_ids=tuple(form.documenti.data or ()),
                ),
            )
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            return _card_section(taxpayer_id, recorded=True)
    return _card_section(taxpayer_id, form)


# --- appointments from the card ---------------------------------------------------------------------------


def _slot_page(principal: Principal, args: forms.SlotQuery) -> dict[str, Any]:
    sportelli = queries.bookable_sportelli(db.session, principal)
    chosen = next((s for s in sportelli if s.id == args.sportello.data), sportelli[0] if sportelli else None)
    today = queries.today_rome()
    day = args.giorno.data if args.giorno.data and args.giorno.data >= today else today
    slots = queries.calendar(db.session, [chosen], day, 1)[chosen.id][day] if chosen else []
    now = dt.datetime.now(dt.UTC)
    return {
        "sportelli": sportelli,
        "chosen": chosen,
        "day": day,
        "today": today,
        "slots": [s for s in slots if s.start_dt > now],
        "booking_form": forms.BookingForm(),
    }


@bp.route("/contribuenti/<int:taxpayer_id>/appuntamenti")
@permission_required("contact.write")
def card_slots(taxpayer_id: int) -> Any:
    """Free slots of a sportello on a day, to book by phone for this taxpayer (htmx fragment)."""
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)
    args = valid_query(forms.SlotQuery(request.args), shown_on_form=("giorno",))
    return render_template("crm/_card_slots.html", taxpayer=taxpayer, **_slot_page(current_principal(), args))


def _book(taxpayer_id: int) -> str | None:
    """Book from the posted form; None on success, else the Italian reason."""
    form = forms.BookingForm(request.form)
    if not form.validate():
        return "Scegli uno sportello e un orario."
    sportello_id = parse_id(form.sportello.data)
    try:
        start = dt.datetime.fromisoformat(form.inizio.data)
    except ValueError:
        return "Orario non valido."
    if start.tzinfo is None or sportello_id is None:
        return "Orario non valido."
    try:
        services.book_appointment(
            db.session,
            current_principal(),
            current_actor(),
            sportello_id=sportello_id,
            taxpayer_id=taxpayer_id,
            start_dt=start.astimezone(dt.UTC),
            notes=form.note.data or "",
        )
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        return exc.message
    db.session.commit()
    return None


@bp.route("/contribuenti/<int:taxpayer_id>/appuntamenti", methods=["POST"])
@permission_required("contact.write")
def card_book(taxpayer_id: int) -> Any:
    from app.taxpayers.queries import get_taxpayer

    get_taxpayer(db.session, current_principal(), taxpayer_id)
    error = _book(taxpayer_id)
    if error:
        flash(error, "danger")
    else:
        flash("Appuntamento prenotato; conferma registrata tra i contatti.", "success")
    return redirect(url_for("taxpayers.card", taxpayer_id=taxpayer_id) + "#contatti", code=303)


@bp.route("/appuntamenti/<int:appointment_id>/annulla", methods=["POST"])
@permission_required("contact.write")
def cancel(appointment_id: int) -> Any:
    if not forms.CancelForm(request.form).validate():
        abort(400)
    try:
        appointment = services.cancel_appointment(
            db.session, current_principal(), current_actor(), appointment_id
        )
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
        return redirect(url_for("crm_contacts.sportelli"), code=303)
    db.session.commit()
    flash("Appuntamento annullato.", "success")
    return redirect(url_for("taxpayers.card", taxpayer_id=appointment.taxpayer_id) + "#contatti", code=303)


# --- the sportelli's calendar --------------------------------------------------------------------------


@bp.route("/sportelli/")
@permission_required("contact.read")
def sportelli() -> Any:
    principal = current_principal()
    rows = queries.list_sportelli(db.session, principal)
    return render_template(
        "crm/sportelli.html", sportelli=rows, enti=_ente_labels(sorted(principal.ente_ids))
    )


@bp.route("/sportelli/<int:sportello_id>")
@permission_required("contact.read")
def sportello_day(sportello_id: int) -> Any:
    """A sportello's day: every slot with its bookings (operators)."""
    args = valid_query(forms.SlotQuery(request.args), shown_on_form=("giorno",))
    sportello = queries.get_sportello(db.session, current_principal(), sportello_id)
    day = args.giorno.data or queries.today_rome()
    slots = queries.calendar(db.session, [sportello], day, 1)[sportello.id][day]
    return render_template(
        "crm/sportello_day.html",
        sportello=sportello,
        day=day,
        slots=slots,
        form=args,
        previous=day - dt.timedelta(days=1),
        next=day + dt.timedelta(days=1),
        cancel_form=forms.CancelForm(),
    )


# --- statistics ------------------------------------------------------------------------------------------


def _stats_args() -> tuple[forms.StatsQuery, queries.StatsFilter]:
    principal = current_principal()
    form = forms.StatsQuery(request.args)
    form.dimensione.choices = list(queries.DIMENSIONS.items())
    form.canale.choices = [("", "Tutti"), *CHANNELS.items()]
    form.esito.choices = [("", "Tutti"), *OUTCOMES.items()]
    codes = {t.code: t.label for t in queries.all_topics(db.session, principal)}
    form.argomento.choices = [("", "Tutti"), *sorted(codes.items(), key=lambda kv: kv[1])]
    valid_query(form, shown_on_form=("dal", "al"))
    ente = form.ente.data if form.ente.data in principal.ente_ids else None
    filters = queries.StatsFilter(
        ente_id=ente,
        dal=form.dal.data,
        al=form.al.data,
        channel=form.canale.data or None,
        topic_code=form.argomento.data or None,
        outcome=form.esito.data or None,
        operator_id=form.operatore.data,
    )
    return form, filters


@bp.route("/statistiche")
@permission_required("contact.read")
def statistics() -> Any:
    form, filters = _stats_args()
    principal = current_principal()
    dimension = form.dimensione.data or "canale"
    rows = queries.contact_statistics(db.session, principal, dimension, filters)
    return render_template(
        "crm/statistics.html",
        form=form,
        rows=rows,
        dimension=dimension,
        dimension_label=queries.DIMENSIONS[dimension],
        chart=stats.chart_data(rows, queries.DIMENSIONS[dimension]),
        total=sum(r.contacts for r in rows),
        enti=_ente_labels(sorted(principal.ente_ids)),
        operators=queries.operators_with_contacts(db.session, principal),
        formats=FORMATS,
        args={k: v for k, v in request.args.items() if v},
    )


@bp.route("/statistiche.<fmt>")
@permission_required("export")
def statistics_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    if not current_principal().can("contact.read"):
        abort(403)
    form, filters = _stats_args()
    params = {**filters.as_args(), "dimension": form.dimensione.data or "canale"}
    return export_list(stats.statistics_source, fmt, params)


# --- self-service: the taxpayer's appointments ----------------------------------------------------------


@self_service_bp.route("/appuntamenti")
@permission_required("self_service")
def my_appointments() -> Any:
    principal = current_principal()
    args = valid_query(forms.SlotQuery(request.args), shown_on_form=("giorno",))
    mine = queries.list_appointments_of_taxpayer(db.session, principal, principal.taxpayer_id or 0)
    return render_template(
        "crm/self_service_appointments.html",
        appointments=mine,
        cancel_form=forms.CancelForm(),
        now=dt.datetime.now(dt.UTC),
        form=args,
        **_slot_page(principal, args),
    )


@self_service_bp.route("/appuntamenti", methods=["POST"])
@permission_required("self_service")
def my_book() -> Any:
    principal = current_principal()
    if principal.taxpayer_id is None:
        abort(404)
    error = _book(principal.taxpayer_id)
    if error:
        flash(error, "danger")
    else:
        flash("Appuntamento prenotato. Trovi la conferma qui sotto.", "success")
    return redirect(url_for("crm_self_service.my_appointments"), code=303)


@self_service_bp.route("/appuntamenti/<int:appointment_id>/annulla", methods=["POST"])
@permission_required("self_service")
def my_cancel(appointment_id: int) -> Any:
    if not forms.CancelForm(request.form).validate():
        abort(400)
    try:
        services.cancel_appointment(db.session, current_principal(), current_actor(), appointment_id)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash("Appuntamento annullato.", "success")
    return redirect(url_for("crm_self_service.my_appointments"), code=303)
