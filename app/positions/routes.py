"""Position list (filters + export) and the position detail with its ledger."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from app.core.access import current_principal, permission_required
from app.engine.states import STATES as STATE_LABELS
from app.engine.wire import WireError
from app.extensions import db
from app.positions import exports, notice_view, queries, quotes
from app.positions.forms import PlanForm, QuoteForm
from app.positions.models import COMPONENT_LABELS, MOVEMENT_KINDS
from app.reports.exports import FORMATS

bp = Blueprint("positions", __name__, url_prefix="/posizioni")
PAGE_SIZE = 50


def _filters() -> dict[str, Any]:
    return {"ente_code": request.args.get("ente") or None, "state": request.args.get("stato") or None}


@bp.route("/")
@permission_required("position.read")
def position_list() -> Any:
    page = max(request.args.get("pagina", 1, type=int), 1)
    stmt = queries.position_rows_stmt(current_principal(), **_filters())
    rows = list(db.session.execute(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).mappings())
    template = "positions/_position_rows.html" if request.htmx else "positions/position_list.html"
    return render_template(
        template,
        rows=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        filters=_filters(),
        states=STATE_LABELS,
        formats=FORMATS,
    )


@bp.route("/esporta.<fmt>")
@permission_required("export")
def position_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    return exports.positions_export(
        db.session, current_principal(), fmt, title="Posizioni debitorie", **_filters()
    )


@bp.route("/<int:position_id>")
@permission_required("position.read")
def position_detail(position_id: int) -> Any:
    principal = current_principal()
    position = queries.get_position(db.session, principal, position_id)
    if position is None:
        abort(404, "Posizione non trovata.")
    movements = queries.list_movements(db.session, principal, position_id)
    balance = queries.balances(db.session, [position_id])[position_id]
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
    )


def _position_choices(taxpayer_id: int) -> list[tuple[int, str]]:
    positions = queries.list_positions_of_taxpayer(db.session, current_principal(), taxpayer_id)
    return [(p.id, f"{p.external_id} – {p.entrata.name} {p.year}") for p in positions]


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
