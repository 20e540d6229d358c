"""Position list (filters + export) and the position detail with its ledger."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from app.core.access import current_principal, permission_required
from app.core.query_forms import valid_query
from app.engine.states import STATES as STATE_LABELS
from app.engine.wire import WireError
from app.extensions import db
from app.positions import amounts, exports, notice_view, queries, quotes
from app.positions.forms import PlanForm, PositionFilters, QuoteForm
from app.positions.models import COMPONENT_LABELS, MOVEMENT_KINDS
from app.reports.exports import FORMATS
from app.reports.routes import export_list, start_large_export

bp = Blueprint("positions", __name__, url_prefix="/posizioni")
PAGE_SIZE = 50


def _filter_form() -> PositionFilters:
    """The list's filters from the query string (400 on a bad one); the choices are the user's enti."""
    form = PositionFilters(request.args)
    form.ente.choices = [("", "Tutti")] + [(e.code, f"{e.code} – {e.name}") for e in current_user.enti]
    form.stato.choices = [("", "Tutti"), *STATE_LABELS.items()]
    return valid_query(form)


def _filters(form: PositionFilters) -> dict[str, Any]:
    return {"ente_code": form.ente.data or None, "state": form.stato.data or None}


@bp.route("/")
@permission_required("position.read")
def position_list() -> Any:
    form = _filter_form()
    filters = _filters(form)
    page = form.pagina.data or 1
    principal = current_principal()
    stmt = queries.position_rows_stmt(principal, **filters)
    found = [
        dict(r)
        for r in db.session.execute(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).mappings()
    ]
    rows = list(amounts.with_amount_due(db.session, found[:PAGE_SIZE], amounts.today_rome()))
    template = "positions/_position_rows.html" if request.htmx else "positions/position_list.html"
    return render_template(
        template,
        form=form,
        rows=rows,
        has_next=len(found) > PAGE_SIZE,
        page=page,
        total=queries.count_positions(db.session, principal, **filters),
        filters=filters,
        query={"ente": form.ente.data or None, "stato": form.stato.data or None},
        formats=FORMATS,
    )


@bp.route("/esporta.<fmt>")
@permission_required("export")
def position_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    form = _filter_form()
    chosen = [form.ente.data, STATE_LABELS.get(form.stato.data or "")]
    title = " – ".join(["Posizioni debitorie", *filter(None, chosen)])
    params = {"title": title, "as_of": amounts.today_rome().isoformat(), **_filters(form)}
    large = start_large_export(exports.position_source, fmt, params, title=title)
    if large is not None:
        return large
    return exports.positions_export(db.session, current_principal(), fmt, title=title, **_filters(form))


@bp.route("/<int:position_id>")
@permission_required("position.read")
def position_detail(position_id: int) -> Any:
    principal = current_principal()
    position = queries.get_position(db.session, principal, position_id)
    if position is None:
        abort(404, "Posizione non trovata.")
    movements = queries.list_movements(db.session, principal, position_id)
    balance = amounts.amount_due(db.session, position, amounts.today_rome())
    notice = notice_view.notices_of(db.session, [position], notice_view.today()).get(position_id)
    return render_template(
        "positions/position_detail.html",
        position=position,
        notice=notice,
        movements=movements,
        balance=balance,
        component_labels=COMPONENT_LABELS,
        movement_kinds=MOVEMENT_KINDS,
        states=STATE_LABELS,
        formats=FORMATS,
    )


@bp.route("/<int:position_id>/movimenti.<fmt>")
@permission_required("export")
def position_ledger_export(position_id: int, fmt: str) -> Any:
    """The position's ledger (append-only movements, reversals included) in every export format."""
    if fmt not in FORMATS:
        abort(404)
    position = queries.get_position(db.session, current_principal(), position_id)
    if position is None:
        abort(404, "Posizione non trovata.")
    return export_list(exports.ledger_source, fmt, {"position_id": position.id})


def _position_choices(taxpayer_id: int) -> list[tuple[int, str]]:
    """The positions of a taxpayer the user may see; a taxpayer out of scope (or unknown) is a 404, as
    everywhere else (not an empty form)."""
    from app.taxpayers.queries import get_taxpayer

    principal = current_principal()
    get_taxpayer(db.session, principal, taxpayer_id)  # through the scoping helper: NotFound out of scope
    positions = queries.position_options(db.session, principal, taxpayer_id)
    return [(p.id, f"{p.external_id} – {p.entrata_name} {p.year}") for p in positions]


@bp.route("/calcola/<int:taxpayer_id>/dovuto")
@permission_required("position.read")
def quote_panel(taxpayer_id: int) -> Any:
    """HTMX panel of the card: amount due of one position at a date, with segments and rate sources."""
    form = QuoteForm(request.args)
    form.position.choices = _position_choices(taxpayer_id)
    result, error = None, None
    if request.args and form.validate():
        try:
            result = quotes.quote_position(db.session, current_principal(), form.position.data, form.al.data)
        except WireError as exc:
            error = exc.message_it
    return render_template(
        "positions/_quote_panel.html",
        form=form,
        submitted=bool(request.args),
        result=result,
        error=error,
        taxpayer_id=taxpayer_id,
    )


@bp.route("/calcola/<int:taxpayer_id>/rateazione")
@permission_required("position.read")
def plan_panel(taxpayer_id: int) -> Any:
    """HTMX panel of the card: simulate a plan for what one position owes at the first due date."""
    form = PlanForm(request.args)
    form.position.choices = _position_choices(taxpayer_id)
    plan, error, allowed, due = None, None, None, None
    if request.args and form.validate():
        try:
            plan, due = quotes.simulate_plan(
                db.session,
                current_principal(),
                form.position.data,
                installments=form.rate.data,
                first_due=form.prima.data,
                annual_rate=form.tasso.data,
            )
        except WireError as exc:
            error, allowed = exc.message_it, exc.extra.get("allowed")
    return render_template(
        "positions/_plan_panel.html",
        form=form,
        submitted=bool(request.args),
        plan=plan,
        error=error,
        allowed=allowed,
        due=due,
        taxpayer_id=taxpayer_id,
    )
