"""JSON REST API under /api/v1 for the Regione's systems (bearer tokens bound to one ente and scopes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request

from app.core.access import Principal
from app.core.audit import log_access
from app.core.errors import error_response
from app.core.security import current_actor
from app.extensions import csrf, db
from app.positions.services import positions_report
from app.taxpayers.identifiers import InvalidIdentifier

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: CSRF does not apply


def token_required(scope: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = g.get("api_token")
            if token is None:
                return error_response(401, "Token mancante, revocato o non valido.")
            if scope not in token.scopes:
                return error_response(403, f"Il token non ha l'ambito «{scope}».")
            g.principal = Principal(
                role="regione", ente_ids=frozenset({token.ente_id}), api_token_id=token.id
            )
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/positions")
@token_required("positions:read")
def positions_by_taxpayer() -> Any:
    """The positions of one taxpayer (`?codice_fiscale=`), only those of the token's ente."""
    cf = request.args.get("codice_fiscale", "")
    try:
        report = positions_report(db.session, cf, as_of=dt.date.today(), principal=g.principal)
    except InvalidIdentifier as exc:
        return error_response(422, str(exc), {"field": "codice_fiscale"})
    log_access(
        db.session,
        current_actor(),
        "api_positions",
        taxpayer_id=None,
        remote_addr=request.remote_addr,
        detail={"codice_fiscale": cf.upper(), "results": len(report)},
    )
    db.session.commit()
    return jsonify(report)


@bp.get("/openapi.json")
def openapi() -> Any:
    from app.api.openapi import SPEC

    return jsonify(SPEC)


# --- the collection engine's calculator (formats.md §4): no personal data, no login, rate-limited ----------

ENGINE_LIMIT_PER_MINUTE = 120


def _engine_call(compute: Callable[[Any], dict[str, Any]]) -> Any:
    from app.core.ratelimit import allow
    from app.engine.wire import WireError

    if not allow("engine", request.remote_addr or "-", limit=ENGINE_LIMIT_PER_MINUTE):
        return error_response(429, "Troppe richieste al calcolatore: riprova tra un minuto.")
    payload = request.get_json(silent=True)
    if payload is None:
        return error_response(400, "Corpo della richiesta non valido: atteso un oggetto JSON.")
    try:
        return jsonify(compute(payload))
    except WireError as exc:
        return jsonify(exc.body()), exc.status


@bp.post("/engine/quote")
def engine_quote() -> Any:
    from app.positions.quotes import engine_quote as compute

    return _engine_call(lambda payload: compute(db.session, payload))


@bp.post("/engine/installment-plan")
def engine_installment_plan() -> Any:
    from app.positions.quotes import engine_installment_plan as compute

    return _engine_call(lambda payload: compute(db.session, payload, dt.date.today()))


@bp.post("/engine/deadlines")
def engine_deadlines() -> Any:
    from app.positions.quotes import engine_deadlines as compute

    return _engine_call(lambda payload: compute(db.session, payload, dt.date.today()))


@bp.get("/positions/<int:position_id>/quote")
@token_required("positions:read")
def position_quote(position_id: int) -> Any:
    """The amount due of a stored position at `as_of` (default today), computed from its ledger."""
    from app.positions.quotes import quote_position

    try:
        as_of = dt.date.fromisoformat(request.args.get("as_of") or dt.date.today().isoformat())
    except ValueError:
        return error_response(
            400, "Parametro 'as_of': data non valida, atteso AAAA-MM-GG.", {"field": "as_of"}
        )
    from app.engine.wire import WireError

    try:
        result = quote_position(db.session, g.principal, position_id, as_of)
    except WireError as exc:
        return jsonify(exc.body()), exc.status
    db.session.commit()
    return jsonify(result)
