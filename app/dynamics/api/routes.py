"""`/api/v1` endpoints of the measures on a position, for the Regione's systems (token scope
`positions:write`, the token's ente only): the same services as the screens and the variation flows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, g, jsonify, request

from app.api.routes import token_required
from app.core.errors import DomainError, error_response
from app.core.security import current_actor
from app.dynamics.common import MeasureRequest
from app.dynamics.discarico import annul, write_off
from app.dynamics.forms import euro_cents
from app.dynamics.models import Measure
from app.dynamics.sgravio import abate
from app.dynamics.sospensione import revoke, suspend
from app.extensions import csrf, db
from app.positions.amounts import amount_due, today_rome
from app.positions.models import COMPONENTS
from app.positions.queries import get_position
from app.reports.formatting import cents_to_machine

bp = Blueprint("dynamics_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies


class BadRequest(DomainError):
    status = 422


def _date(body: dict[str, Any], key: str) -> dt.date | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"Campo «{key}»: data non valida, atteso AAAA-MM-GG.", field=key) from None


def _request(body: dict[str, Any]) -> MeasureRequest:
    reason = str(body.get("reason") or "").strip()
    if not reason:
        raise BadRequest("Campo «reason» obbligatorio: la motivazione del provvedimento.", field="reason")
    ordered_by = str(body.get("ordered_by") or "regione")
    if ordered_by not in ("regione", "gestore"):
        raise BadRequest("Campo «ordered_by»: «regione» o «gestore».", field="ordered_by")
    return MeasureRequest(
        reason=reason[:500],
        ordered_by=ordered_by,
        act_number=(str(body.get("act_number") or "").strip() or None)
        if body.get("act_number") is not None
        else None,
        act_date=_date(body, "act_date"),
        value_date=_date(body, "value_date"),
        source=f"API: {g.api_token.name}"[:200],
    )


def _components(body: dict[str, Any]) -> dict[str, int] | None:
    if body.get("total"):
        return None
    raw = body.get("components")
    if not isinstance(raw, dict) or not raw:
        raise BadRequest("Indicare «components» (euro per componente) o «total»: true.", field="components")
    cents = {}
    for key, value in raw.items():
        if key not in COMPONENTS:
            raise BadRequest(f"Componente sconosciuta: {key}.", field="components")
        try:
            cents[key] = euro_cents(str(value))
        except ValueError as exc:
            raise BadRequest(f"Componente {key}: {exc}.", field="components") from None
    return cents


def _call(position_id: int, action: str) -> Any:
    position = get_position(db.session, g.principal, position_id)
    if position is None:  # first: another ente's position is a 404 whatever the body
        return error_response(404, "Posizione inesistente o di un altro ente.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, "Corpo JSON mancante o non valido.")
    actor, today = current_actor(), today_rome()
    try:
        req = _request(body)
        measure: Measure | None
        if action == "sgravio":
            measure = abate(db.session, actor, position, _components(body), req, today=today)
        elif action == "sospensione":
            measure = suspend(
                db.session, actor, position, str(body.get("reason_kind") or ""), req, today=today
            )
        elif action == "revoca":
            measure = revoke(db.session, actor, position, req, today=today)
        elif action == "discarico":
            measure = write_off(
                db.session, actor, position, req, notes=str(body.get("notes") or ""), today=today
            )
        else:
            measure = annul(db.session, actor, position, req, today=today)
    except DomainError as exc:
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.details)
    due = amount_due(db.session, position, today)
    result = {
        "measure": measure.id if measure else None,
        "kind": measure.kind if measure else "sospensione",
        "position": {"id": position.id, "id_posizione": position.external_id, "state": position.state},
        "amount": cents_to_machine(measure.amount_cents) if measure else "0.00",
        "total_due": cents_to_machine(due.total_cents),
    }
    db.session.commit()
    return jsonify(result), 201


@bp.post("/positions/<int:position_id>/sgravio")
@token_required("positions:write")
def api_sgravio(position_id: int) -> Any:
    """Sgravio totale (`"total": true`) o parziale (`components`)."""
    return _call(position_id, "sgravio")


@bp.post("/positions/<int:position_id>/sospensione")
@token_required("positions:write")
def api_sospensione(position_id: int) -> Any:
    return _call(position_id, "sospensione")


@bp.post("/positions/<int:position_id>/revoca-sospensione")
@token_required("positions:write")
def api_revoca(position_id: int) -> Any:
    return _call(position_id, "revoca")


@bp.post("/positions/<int:position_id>/discarico")
@token_required("positions:write")
def api_discarico(position_id: int) -> Any:
    return _call(position_id, "discarico")


@bp.post("/positions/<int:position_id>/annullamento")
@token_required("positions:write")
def api_annullamento(position_id: int) -> Any:
    return _call(position_id, "annullamento")
