"""Screens of the measures on a position: the "Provvedimenti" section of the position page (loaded by HTMX)
and one form per measure. Thin: parse, authorise, call one service, commit, redirect."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.security import current_actor
from app.core.url_ids import parse_id
from app.dynamics import queries
from app.dynamics.common import MeasureRequest
from app.dynamics.discarico import annul, attempts_of, write_off
from app.dynamics.forms import DiscaricoForm, MeasureForm, SgravioForm, SospensioneForm, StornoForm
from app.dynamics.models import MEASURE_KINDS, ORDERED_BY, SUSPENSION_REASONS
from app.dynamics.sgravio import abate, reverse_abatement
from app.dynamics.sospensione import revoke, suspend
from app.extensions import db
from app.positions import queries as position_queries
from app.positions.amounts import today_rome
from app.positions.models import COMPONENT_LABELS, MOVEMENT_KINDS

bp = Blueprint("dynamics", __name__, url_prefix="/posizioni")

ACTIONS = {
    "sgravio": ("Sgravio", SgravioForm),
    "sospensione": ("Sospensione", SospensioneForm),
    "revoca-sospensione": ("Revoca della sospensione", MeasureForm),
    "discarico": ("Discarico per inesigibilità", DiscaricoForm),
    "annullamento": ("Annullamento", MeasureForm),
}


def _position(position_id: int) -> Any:
    position = position_queries.get_position(db.session, current_principal(), position_id)
    if position is None:
        abort(404, "Posizione non trovata.")
    return position


@bp.route("/<int:position_id>/provvedimenti")
@permission_required("position.read")
def position_measures(position_id: int) -> Any:
    """The section of the position page: measures, acts (flagged when superseded), figures explained."""
    principal = current_principal()
    position = _position(position_id)
    movements = position_queries.list_movements(db.session, principal, position_id)
    return render_template(
        "dynamics/_position_measures.html",
        position=position,
        measures=queries.measures_of(db.session, principal, position_id),
        acts=queries.acts_of(db.session, principal, position_id),
        figures=queries.figures(movements),
        component_labels=COMPONENT_LABELS,
        movement_kinds=MOVEMENT_KINDS,
        kinds=MEASURE_KINDS,
        ordered_by=ORDERED_BY,
        suspension_reasons=SUSPENSION_REASONS,
        storno=StornoForm(),
    )


def _request(form: MeasureForm) -> MeasureRequest:
    return MeasureRequest(
        reason=form.reason.data.strip(),
        ordered_by=form.ordered_by.data,
        act_number=(form.act_number.data or "").strip() or None,
        act_date=form.act_date.data,
        value_date=form.value_date.data,
    )


def _apply(action: str, position: Any, form: Any) -> Any:
    actor, today, req = current_actor(), today_rome(), _request(form)
    if action == "sgravio":
        return abate(db.session, actor, position, form.cents(), req, today=today)
    if action == "sospensione":
        return suspend(db.session, actor, position, form.reason_kind.data, req, today=today)
    if action == "revoca-sospensione":
        return revoke(db.session, actor, position, req, today=today)
    if action == "discarico":
        return write_off(db.session, actor, position, req, notes=form.notes.data or "", today=today)
    return annul(db.session, actor, position, req, today=today)


@bp.route(
    "/<int:position_id>/<any(sgravio, sospensione, 'revoca-sospensione', discarico, annullamento):action>",
    methods=["GET", "POST"],
)
@permission_required("position.measures")
def measure_form(position_id: int, action: str) -> Any:
    position = _position(position_id)
    title, form_class = ACTIONS[action]
    form = form_class()
    error = None
    if form.validate_on_submit():
        try:
            _apply(action, position, form)
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
            position = _position(position_id)
        else:
            db.session.commit()
            flash(f"{title} registrato per la posizione {position.external_id}.", "success")
            return redirect(url_for("positions.position_detail", position_id=position_id) + "#provvedimenti")
    attempts = attempts_of(db.session, position.id) if action == "discarico" else []
    status = 422 if error or (request.method == "POST" and form.errors) else 200
    return render_template(
        "dynamics/measure_form.html",
        position=position,
        form=form,
        action=action,
        title=title,
        error=error,
        attempts=attempts,
    ), status


@bp.route("/<int:position_id>/sgravio/storno", methods=["POST"])
@permission_required("position.measures")
def abatement_reversal(position_id: int) -> Any:
    position = _position(position_id)
    form = StornoForm()
    target = url_for("positions.position_detail", position_id=position_id) + "#provvedimenti"
    measure_id = parse_id(form.measure.data)
    if not form.validate_on_submit() or measure_id is None:
        flash("Indicare il motivo dello storno.", "danger")
        return redirect(target)
    measure = queries.measure_of_position(db.session, current_principal(), position.id, measure_id)
    if measure is None:
        abort(404, "Sgravio non trovato.")
    try:
        reverse_abatement(db.session, current_actor(), measure, form.reason.data.strip(), today=today_rome())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(f"Sgravio n. {measure.id} stornato.", "success")
    return redirect(target)
