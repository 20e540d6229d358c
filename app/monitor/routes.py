"""Searches, visure and the position monitor (issue 15 points 1-2). Thin routes: the statements live in
`searches`, `visure`, `life`; exports go through `app.reports.exports`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request

from app.core.access import current_principal, permission_required
from app.core.audit import log_access
from app.core.paging import Page, page_within
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.engine.states import STATES as STATE_LABELS
from app.extensions import db
from app.monitor import export_sources, exports, forms, searches, visure
from app.monitor.dossier import render_dossier
from app.monitor.life import build_monitor
from app.monitor.sections import section_by_key
from app.positions.amounts import today_rome, with_amount_due
from app.reports.exports import FORMATS, export_response
from app.reports.routes import export_list

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
PAGE_SIZE = 50
ALL = [("", "Tutti")]


@bp.context_processor
def _labels() -> dict[str, Any]:
    from app.atti.models import ACT_STATUSES
    from app.payments.models import PAYMENT_CHANNELS, PAYMENT_STATUSES

    return {
        "act_statuses": ACT_STATUSES,
        "outcome_labels": exports.OUTCOME_LABELS,
        "payment_channels": PAYMENT_CHANNELS,
        "payment_statuses": PAYMENT_STATUSES,
    }


def _page(stmt: sa.Select, page: int) -> Page:
    """One page of mapping rows with the total (a page past the last is the last one)."""
    return page_within(db.session, stmt, page, PAGE_SIZE, mappings=True)


def _enti() -> list[tuple[str, str]]:
    from flask_login import current_user

    return ALL + [(e.code, f"{e.code} – {e.name}") for e in current_user.enti]


def _entrate() -> list[tuple[str, str]]:
    return [("", "Tutte"), *searches.entrata_choices(db.session, current_principal())]


# --- positions ----------------------------------------------------------------------------------------------


def _search() -> tuple[forms.PositionSearchForm, searches.PositionSearch]:
    form = forms.PositionSearchForm(request.args)
    form.ente.choices = _enti()
    form.entrata.choices = _entrate()
    form.stato.choices = [("", "Tutti"), *STATE_LABELS.items()]
    form = valid_query(form, shown_on_form=("nascita",))
    search = searches.PositionSearch(
        cf=(form.cf.data or "").strip() or None,
        nome=(form.nome.data or "").strip() or None,
        nascita=form.nascita.data,
        indirizzo=(form.indirizzo.data or "").strip() or None,
        ente=form.ente.data or None,
        entrata=form.entrata.data or None,
        carico=form.carico.data,
        stato=form.stato.data or None,
    )
    return form, search


@bp.route("/posizioni")
@permission_required("position.read")
def search() -> Any:
    form, query = _search()
    page = None
    if not query.empty:
        stmt = searches.position_search_stmt(current_principal(), query, page=True)
        page = _page(stmt, form.pagina.data or 1)
        page = Page(
            list(with_amount_due(db.session, page.items, today_rome())), page.page, page.per_page, page.total
        )
    return render_template("monitor/search.html", form=form, query=query, page=page, formats=FORMATS)


@bp.route("/posizioni.<fmt>")
@permission_required("export")
def search_export(fmt: str) -> Any:
    _form, query = _search()
    if query.empty:
        abort(400, "Indica almeno un criterio di ricerca.")
    params = {**query.as_args(), "as_of": today_rome().isoformat()}
    return export_list(export_sources.position_search, fmt, params)


def _carichi() -> tuple[forms.CaricoTotalsForm, dict[str, Any]]:
    form = forms.CaricoTotalsForm(request.args)
    form.ente.choices = _enti()
    form.entrata.choices = _entrate()
    form = valid_query(form)
    return form, {
        "ente": form.ente.data or None,
        "entrata": form.entrata.data or None,
        "carico": form.carico.data,
    }


@bp.route("/carichi")
@permission_required("position.read")
def carichi() -> Any:
    form, filters = _carichi()
    stmt = searches.carico_totals_stmt(current_principal(), **filters)
    page = _page(stmt, form.pagina.data or 1)
    args = {k: v for k, v in filters.items() if v}
    return render_template("monitor/carichi.html", form=form, page=page, args=args, formats=FORMATS)


@bp.route("/carichi.<fmt>")
@permission_required("export")
def carichi_export(fmt: str) -> Any:
    _form, filters = _carichi()
    return export_list(export_sources.carico_totals, fmt, {k: v for k, v in filters.items() if v is not None})


# --- communications -----------------------------------------------------------------------------------------


def _acts() -> tuple[forms.CommunicationsForm, visure.ActFilters]:
    from app.atti.delivery.models import OUTCOMES
    from app.atti.models import ACT_STATUSES

    form = forms.CommunicationsForm(request.args)
    form.ente.choices = _enti()
    form.entrata.choices = _entrate()
    form.tipo.choices = [("", "Tutti"), *visure.act_type_choices(db.session)]
    form.stato.choices = [("", "Tutti"), *ACT_STATUSES.items()]
    form.esito.choices = [("", "Tutti"), (visure.NO_OUTCOME, "Nessun esito"), *OUTCOMES.items()]
    form = valid_query(form, shown_on_form=("dal", "al"))
    filters = visure.ActFilters(
        ente=form.ente.data or None,
        entrata=form.entrata.data or None,
        carico=form.carico.data,
        tipo=form.tipo.data or None,
        stato=form.stato.data or None,
        esito=form.esito.data or None,
        dal=form.dal.data,
        al=form.al.data,
    )
    return form, filters


@bp.route("/comunicazioni")
@permission_required("acts.read")
def communications() -> Any:
    form, filters = _acts()
    rows = [
        dict(r)
        for r in db.session.execute(
            visure.communications_stmt(current_principal(), filters).limit(5000)
        ).mappings()
    ]
    return render_template(
        "monitor/communications.html", form=form, filters=filters, rows=rows, formats=FORMATS
    )


@bp.route("/comunicazioni.<fmt>")
@permission_required("export")
def communications_export(fmt: str) -> Any:
    _form, filters = _acts()
    return export_list(export_sources.communications, fmt, filters.as_args())


@bp.route("/comunicazioni/atti")
@permission_required("acts.read")
def communication_acts() -> Any:
    form, filters = _acts()
    page = _page(visure.act_detail_stmt(current_principal(), filters), form.pagina.data or 1)
    return render_template(
        "monitor/communication_acts.html", form=form, filters=filters, page=page, formats=FORMATS
    )


@bp.route("/comunicazioni/atti.<fmt>")
@permission_required("export")
def communication_acts_export(fmt: str) -> Any:
    _form, filters = _acts()
    return export_list(export_sources.communication_acts, fmt, filters.as_args())


# --- collections --------------------------------------------------------------------------------------------


def _collections() -> tuple[forms.CollectionsForm, visure.CollectionFilters]:
    from app.payments.models import PAYMENT_CHANNELS

    form = forms.CollectionsForm(request.args)
    form.ente.choices = _enti()
    form.entrata.choices = _entrate()
    form.canale.choices = [("", "Tutti"), *PAYMENT_CHANNELS.items()]
    form = valid_query(form, shown_on_form=("dal", "al"))
    filters = visure.CollectionFilters(
        ente=form.ente.data or None,
        entrata=form.entrata.data or None,
        canale=form.canale.data or None,
        dal=form.dal.data,
        al=form.al.data,
    )
    return form, filters


@bp.route("/incassi")
@permission_required("position.read")
def collections() -> Any:
    form, filters = _collections()
    principal = current_principal()
    totals = [
        dict(r)
        for r in db.session.execute(visure.collection_totals_stmt(principal, filters).limit(5000)).mappings()
    ]
    page = _page(visure.payments_stmt(principal, filters), form.pagina.data or 1)
    return render_template(
        "monitor/collections.html",
        form=form,
        filters=filters,
        totals=totals,
        page=page,
        formats=FORMATS,
        total_cents=sum(int(r["importo_cents"] or 0) for r in totals),
    )


@bp.route("/incassi.<fmt>")
@permission_required("export")
def collections_export(fmt: str) -> Any:
    _form, filters = _collections()
    return export_list(export_sources.collections, fmt, filters.as_args())


@bp.route("/incassi/totali.<fmt>")
@permission_required("export")
def collection_totals_export(fmt: str) -> Any:
    _form, filters = _collections()
    return export_list(export_sources.collection_totals, fmt, filters.as_args())


# --- the position monitor -----------------------------------------------------------------------------------


def _monitor(monitor_position_id: int, action: str) -> Any:
    form = valid_query(forms.MonitorForm(request.args), shown_on_form=("al",))
    monitor = build_monitor(
        db.session, current_principal(), monitor_position_id, form.al.data or today_rome()
    )
    if monitor is None:
        abort(404, "Posizione non trovata.")
    log_access(
        db.session,
        current_actor(),
        action,
        taxpayer_id=monitor.position.taxpayer_id,
        remote_addr=request.remote_addr,
        detail={"position": monitor.position.id},
    )
    db.session.commit()
    return form, monitor


@bp.route("/posizioni/<int:monitor_position_id>")
@permission_required("position.read")
def position_monitor(monitor_position_id: int) -> Any:
    form, monitor = _monitor(monitor_position_id, "position_monitor")
    return render_template("monitor/monitor.html", form=form, monitor=monitor, m=monitor, formats=FORMATS)


@bp.route("/posizioni/<int:monitor_position_id>/dossier.pdf")
@permission_required("export")
def position_dossier(monitor_position_id: int) -> Any:
    from flask_login import current_user

    _form, monitor = _monitor(monitor_position_id, "position_dossier")
    generated = datetime.now(UTC)
    pdf = render_dossier(monitor, generated=generated, author=current_user.display_name)
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", monitor.position.external_id)  # a header value: no quotes
    name = f"dossier_{stem}_{monitor.on:%Y%m%d}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.route("/posizioni/<int:monitor_position_id>/sezione.<fmt>")
@permission_required("export")
def section_export(monitor_position_id: int, fmt: str) -> Any:
    form, monitor = _monitor(monitor_position_id, "position_monitor_export")
    key = form.sezione.data or ""
    found = next(((s, rows) for s, rows in monitor.sections if s.key == key), None)
    if found is None or section_by_key(key) is None:
        abort(404, "Sezione non trovata.")
    section, rows = found
    return export_response(rows, section.spec(monitor.position.external_id), fmt)
