"""Taxpayer search and the taxpayer card (page and HTMX fragment from one route, style.md B.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request

from app.core.access import current_principal, permission_required
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.extensions import db
from app.positions import exports as position_exports
from app.positions import notice_view
from app.reports.exports import FORMATS, export_response
from app.taxpayers import queries
from app.taxpayers.forms import AsOfForm, SearchForm

bp = Blueprint("taxpayers", __name__, url_prefix="/contribuenti")
ROME = ZoneInfo("Europe/Rome")


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


def _as_of(form: AsOfForm) -> dt.datetime | None:
    """End of the chosen day in Rome, as UTC: the card as it was at the close of that day."""
    if not form.al.data:
        return None
    end = dt.datetime.combine(form.al.data, dt.time(23, 59, 59, 999999), tzinfo=ROME)
    return end.astimezone(dt.UTC)


@bp.route("/<int:taxpayer_id>")
@permission_required("taxpayer.read")
def card(taxpayer_id: int) -> Any:
    form = AsOfForm(request.args)
    as_of = _as_of(form) if form.validate() else None
    card = queries.get_card(
        db.session,
        current_principal(),
        taxpayer_id,
        remote_addr=request.remote_addr,
        as_of=as_of,
        actor=current_actor(),
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
    db.session.commit()  # the access log row
    template = "taxpayers/_card_body.html" if request.htmx else "taxpayers/taxpayer_card.html"
    return render_template(template, card=card, form=form, formats=FORMATS, notices=notices)


@bp.route("/<int:taxpayer_id>/posizioni.<fmt>")
@permission_required("export")
def card_positions_export(taxpayer_id: int, fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    principal = current_principal()
    taxpayer = queries.get_taxpayer(db.session, principal, taxpayer_id)
    from app.core.audit import log_access

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
