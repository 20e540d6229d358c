"""Taxpayer search and the taxpayer card (page and HTMX fragment from one route, style.md B.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.audit import log_access
from app.core.card_view import card_view_token
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.timeline import TIMELINE_GROUPS
from app.extensions import db
from app.positions import exports as position_exports
from app.positions import notice_view
from app.positions.queries import list_positions_of_taxpayer
from app.reports.exports import FORMATS, export_response
from app.reports.routes import export_list
from app.taxpayers import card_exports, queries, services, statement
from app.taxpayers.forms import (
    RELATION_CHOICES,
    CardForm,
    DomicilioForm,
    EndRelationForm,
    RelationForm,
    SearchForm,
    TimelineForm,
)
from app.taxpayers.models import DOMICILIO_SOURCES

bp = Blueprint("taxpayers", __name__, url_prefix="/contribuenti")
ROME = ZoneInfo("Europe/Rome")
CARD_NOTICES = 2  # notice blocks (with their QR code) drawn on the card; the others load on demand
NOTICES_PAGE = 10
CARD_POSITIONS = 25  # positions drawn in the card's table (with `?tutte=1`: all); the totals count them all


@bp.route("/")
@permission_required("taxpayer.read")
def search() -> Any:
    form = valid_query(SearchForm(request.args))
    result = None
    if form.q.data:
        result = queries.search(db.session, current_principal(), form.q.data)
    template = "taxpayers/_search_results.html" if request.htmx else "taxpayers/taxpayer_search.html"
    return render_template(template, form=form, result=result, formats=FORMATS)


@bp.route("/esporta.<fmt>")
@permission_required("export")
def search_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    form = valid_query(SearchForm(request.args))
    result = queries.search_taxpayers(db.session, current_principal(), form.q.data or "", limit=10_000)
    rows = (
        {
            "codice_fiscale": t.codice_fiscale,
            "tipo": t.kind,
            "nominativo": t.display_name,
            "data_nascita": t.birth_date,
        }
        for t in result.taxpayers
    )
    return export_response(rows, position_exports.TAXPAYER_SEARCH_SPEC, fmt)


def _as_of(form: CardForm) -> dt.datetime | None:
    """End of the chosen day in Rome, as UTC: the card as it was at the close of that day."""
    if not form.al.data:
        return None
    end = dt.datetime.combine(form.al.data, dt.time(23, 59, 59, 999999), tzinfo=ROME)
    return end.astimezone(dt.UTC)


@bp.route("/<int:taxpayer_id>")
@permission_required("taxpayer.read")
def card(taxpayer_id: int) -> Any:
    form = valid_query(CardForm(request.args), shown_on_form=("al",))
    as_of = _as_of(form)
    card = queries.get_card(
        db.session,
        current_principal(),
        taxpayer_id,
        remote_addr=request.remote_addr,
        as_of=as_of,
        actor=current_actor(),
        group=form.gruppo.data or None,
    )
    notices = (
        {}
        if as_of
        else notice_view.notices_of(
            db.session,
            card.positions,
            card.on or notice_view.today(),
            amounts=notice_view.amounts_of(card.balances, card.positions),  # the card's figures, not again
        )
    )
    template = "taxpayers/_card_body.html" if request.htmx else "taxpayers/taxpayer_card.html"
    html = render_template(template, formats=FORMATS, notices=notices, **_card_context(card, form))
    db.session.commit()  # the access log row, after rendering: a commit expires every row the page shows
    return html


def _card_context(card: queries.Card, form: CardForm, **forms: Any) -> dict[str, Any]:
    """What the card's templates need besides the card: the edit forms (staff with taxpayer.edit) and the
    timeline's filter."""
    context: dict[str, Any] = {
        "card_notices": CARD_NOTICES,
        "card_positions": CARD_POSITIONS,
        "card": card,
        "form": form,
        "groups": TIMELINE_GROUPS,
        "domicilio_sources": DOMICILIO_SOURCES,
        # the logged view, passed to the sections the page loads at once: they log no row of their own
        "card_view": card_view_token(current_actor(), card.taxpayer.id),
    }
    if current_principal().can("position.read") and card.positions and not card.as_of:
        context.update(_calculation_forms(card))
    if not card.as_of:
        context.update(_short_sections(card))
    if current_principal().can("taxpayer.edit") and not card.as_of:
        context["domicilio_form"] = forms.get("domicilio_form") or DomicilioForm(formdata=None)
        context["relation_form"] = forms.get("relation_form") or RelationForm(formdata=None)
        context["end_relation_form"] = EndRelationForm(formdata=None)
    return context


def _calculation_forms(card: queries.Card) -> dict[str, Any]:
    """The quote and plan panels' empty forms, rendered with the page from the positions it already loaded
    (the same choices as positions.quote_panel/plan_panel, which answer their submissions): two requests and
    two loads of every position fewer per card."""
    from app.positions.forms import PlanForm, QuoteForm

    choices = [(p.id, f"{p.external_id} – {p.entrata.name} {p.year}") for p in card.positions]
    quote_form, plan_form = QuoteForm(formdata=None), PlanForm(formdata=None)
    quote_form.position.choices = plan_form.position.choices = choices
    return {"quote_form": quote_form, "plan_form": plan_form}


def _short_sections(card: queries.Card) -> dict[str, Any]:
    """The procedures and plans sections, rendered with the page: one short list each (a statement and a
    few rows), where loading them apart cost a request each (session, user, scope check) for the same rows.
    Their routes (procedures.card_section, plans.card_plans) still answer on their own."""
    principal, sections = current_principal(), {}
    if principal.can("procedures.read"):
        from app.procedures.queries import list_procedures

        sections["card_procedures"] = list_procedures(
            db.session, principal, taxpayer_id=card.taxpayer.id, limit=50
        )
    if principal.can("plans.read"):
        from app.plans import queries as plan_queries
        from app.plans.services import today

        sections["card_plans"] = plan_queries.list_plans(
            db.session, principal, taxpayer_id=card.taxpayer.id, limit=20
        )
        sections["plans_today"] = today()
    return sections


@bp.route("/<int:taxpayer_id>/cronologia")
@permission_required("taxpayer.read")
def card_timeline(taxpayer_id: int) -> Any:
    """The card's timeline (HTMX): one group of events (`gruppo`), a page from `da` ("mostra altri")."""
    form = valid_query(TimelineForm(request.args))
    principal = current_principal()
    taxpayer = queries.get_taxpayer(db.session, principal, taxpayer_id)
    if not request.htmx:
        return redirect(url_for(".card", taxpayer_id=taxpayer.id, gruppo=form.gruppo.data or None))
    offset = form.da.data or 0
    events, more = queries.timeline_page(
        db.session, principal, taxpayer.id, group=form.gruppo.data or None, offset=offset
    )
    log_access(
        db.session, current_actor(), "card_timeline", taxpayer_id=taxpayer.id, remote_addr=request.remote_addr
    )
    template = "taxpayers/_timeline_items.html" if offset else "taxpayers/_timeline.html"
    html = render_template(
        template,
        taxpayer=taxpayer,
        events=events,
        more=more,
        group=form.gruppo.data or None,
        next_offset=offset + len(events),
        groups=TIMELINE_GROUPS,
        formats=FORMATS,
    )
    db.session.commit()  # the access log row (after rendering: a commit expires the events)
    return html


@bp.route("/<int:taxpayer_id>/avvisi")
@permission_required("taxpayer.read")
def card_notices(taxpayer_id: int) -> Any:
    """The card's other notices (HTMX), NOTICES_PAGE at a time from `da`, with the amounts of the engine."""
    form = valid_query(TimelineForm(request.args))
    principal = current_principal()
    taxpayer = queries.get_taxpayer(db.session, principal, taxpayer_id)
    if not request.htmx:
        return redirect(url_for(".card", taxpayer_id=taxpayer.id, _anchor="h-avvisi"))
    positions = list_positions_of_taxpayer(db.session, principal, taxpayer.id)
    numbers = queries.notice_numbers(db.session, [p.id for p in positions])
    candidates = [p for p in positions if p.id in numbers and p.state not in notice_view.CLOSED_STATES]
    offset = form.da.data or 0
    page = candidates[offset : offset + NOTICES_PAGE]
    notices = notice_view.notices_of(db.session, page, notice_view.today())
    html = render_template(
        "taxpayers/_notices_page.html",
        taxpayer=taxpayer,
        page=[p for p in page if p.id in notices],
        notices=notices,
        next_offset=offset + len(page),
        remaining=len(candidates) - offset - len(page),
    )
    db.session.commit()
    return html


def _export_taxpayer(taxpayer_id: int, fmt: str, what: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    taxpayer = queries.get_taxpayer(db.session, current_principal(), taxpayer_id)
    log_access(
        db.session,
        current_actor(),
        f"export_{fmt}",
        taxpayer_id=taxpayer.id,
        remote_addr=request.remote_addr,
        detail={"what": what},
    )
    db.session.commit()
    return taxpayer


@bp.route("/<int:taxpayer_id>/cronologia.<fmt>")
@permission_required("export")
def card_timeline_export(taxpayer_id: int, fmt: str) -> Any:
    form = valid_query(TimelineForm(request.args))
    taxpayer = _export_taxpayer(taxpayer_id, fmt, "cronologia")
    return export_list(
        card_exports.timeline, fmt, {"taxpayer_id": taxpayer.id, "group": form.gruppo.data or None}
    )


@bp.route("/<int:taxpayer_id>/recapiti.<fmt>")
@permission_required("export")
def card_contacts_export(taxpayer_id: int, fmt: str) -> Any:
    taxpayer = _export_taxpayer(taxpayer_id, fmt, "recapiti")
    title = f"Indirizzi e recapiti di {taxpayer.display_name} ({taxpayer.codice_fiscale})"
    return export_response(queries.contact_rows(taxpayer), card_exports.contacts_spec(title), fmt)


@bp.route("/<int:taxpayer_id>/collegamenti.<fmt>")
@permission_required("export")
def card_relations_export(taxpayer_id: int, fmt: str) -> Any:
    taxpayer = _export_taxpayer(taxpayer_id, fmt, "collegamenti")
    relations = queries.list_relations(db.session, current_principal(), taxpayer.id)
    title = f"Collegamenti di {taxpayer.display_name} ({taxpayer.codice_fiscale})"
    return export_response(queries.relation_rows(relations), card_exports.relations_spec(title), fmt)


@bp.route("/<int:taxpayer_id>/estratto-conto.pdf", methods=["POST"])
@permission_required("taxpayer.read")
def estratto_conto(taxpayer_id: int) -> Any:
    """The estratto conto (Typst PDF): every visible position with its components and amounts from the
    engine, at today. A POST (with CSRF) because printing it is an event on the timeline."""
    principal = current_principal()
    card = queries.get_card(
        db.session,
        principal,
        taxpayer_id,
        remote_addr=request.remote_addr,
        action="estratto_conto",
        actor=current_actor(),
    )
    pdf = statement.render_statement(db.session, card, principal)
    services.record_estratto_conto(
        db.session,
        current_actor(),
        card.taxpayer,
        positions=len(card.positions),
        total_due_cents=card.total_due_cents,
        on=card.on or notice_view.today(),
    )
    db.session.commit()
    name = f"estratto_conto_{card.taxpayer.codice_fiscale}_{(card.on or notice_view.today()):%Y%m%d}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _render_card_with_errors(taxpayer_id: int, **forms: Any) -> Any:
    """The card again, with a refused form's errors (HTTP 422), nothing saved."""
    db.session.rollback()
    form = CardForm(formdata=None)
    card = queries.get_card(
        db.session, current_principal(), taxpayer_id, remote_addr=request.remote_addr, actor=current_actor()
    )
    html = render_template(
        "taxpayers/taxpayer_card.html", formats=FORMATS, notices={}, **_card_context(card, form, **forms)
    )
    db.session.commit()  # the access log row
    return html, 422


@bp.route("/<int:taxpayer_id>/domicilio-digitale", methods=["POST"])
@permission_required("taxpayer.edit")
def set_domicilio(taxpayer_id: int) -> Any:
    taxpayer = queries.get_taxpayer(db.session, current_principal(), taxpayer_id)
    form = DomicilioForm()
    if form.validate_on_submit():
        try:
            services.set_domicilio_digitale(
                db.session, current_actor(), taxpayer, form.indirizzo.data, source=form.fonte.data
            )
        except DomainError as exc:
            form.indirizzo.errors = [exc.message]
        else:
            db.session.commit()
            flash("Domicilio digitale registrato.", "success")
            return redirect(url_for(".card", taxpayer_id=taxpayer.id, _anchor="domicilio-digitale"))
    return _render_card_with_errors(taxpayer.id, domicilio_form=form)


@bp.route("/<int:taxpayer_id>/collegamenti", methods=["POST"])
@permission_required("taxpayer.edit")
def add_relation(taxpayer_id: int) -> Any:
    principal = current_principal()
    taxpayer = queries.get_taxpayer(db.session, principal, taxpayer_id)
    form = RelationForm()
    if form.validate_on_submit():
        kind, card_is_from, _ = RELATION_CHOICES[form.tipo.data]
        found = queries.search_taxpayers(db.session, principal, form.codice_fiscale.data, limit=1)
        exact = found.mode in ("codice_fiscale", "partita_iva") and found.taxpayers
        other = found.taxpayers[0] if exact else None
        if other is None:
            form.codice_fiscale.errors = [
                found.error or "Nessun contribuente visibile con questo codice fiscale."
            ]
        else:
            try:
                services.add_relation(
                    db.session,
                    current_actor(),
                    kind=kind,
                    from_taxpayer=taxpayer if card_is_from else other,
                    to_taxpayer=other if card_is_from else taxpayer,
                    valid_from=form.dal.data,
                    source=form.fonte.data,
                    note=form.nota.data,
                )
            except DomainError as exc:
                form.tipo.errors = [exc.message]
            else:
                db.session.commit()
                flash("Collegamento registrato.", "success")
                return redirect(url_for(".card", taxpayer_id=taxpayer.id, _anchor="collegamenti"))
    return _render_card_with_errors(taxpayer.id, relation_form=form)


@bp.route("/<int:taxpayer_id>/collegamenti/chiudi", methods=["POST"])
@permission_required("taxpayer.edit")
def end_relation(taxpayer_id: int) -> Any:
    principal = current_principal()
    taxpayer = queries.get_taxpayer(db.session, principal, taxpayer_id)
    form = EndRelationForm()
    if not form.validate_on_submit():
        flash("Indicare la data di fine del collegamento.", "danger")
        return redirect(url_for(".card", taxpayer_id=taxpayer.id, _anchor="collegamenti"))
    relation = queries.get_relation(db.session, principal, taxpayer.id, form.collegamento.data)
    try:
        services.end_relation(
            db.session, current_actor(), relation, valid_to=form.al.data, reason=form.motivo.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash("Collegamento chiuso.", "success")
    return redirect(url_for(".card", taxpayer_id=taxpayer.id, _anchor="collegamenti"))


@bp.route("/<int:taxpayer_id>/posizioni.<fmt>")
@permission_required("export")
def card_positions_export(taxpayer_id: int, fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    principal = current_principal()
    taxpayer = queries.get_taxpayer(db.session, principal, taxpayer_id)
    log_access(
        db.session, current_actor(), f"export_{fmt}", taxpayer_id=taxpayer.id, remote_addr=request.remote_addr
    )
    db.session.commit()
    return position_exports.positions_export(
        db.session,
        principal,
        fmt,
        taxpayer_id=taxpayer.id,
        title=f"Posizioni di {taxpayer.display_name} ({taxpayer.codice_fiscale})",
    )
