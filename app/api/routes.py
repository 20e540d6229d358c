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
            g.principal = Principal(role="regione", ente_ids=frozenset({token.ente_id}), api_token_id=token.id)
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
    log_access(db.session, current_actor(), "api_positions", taxpayer_id=None, remote_addr=request.remote_addr,
               detail={"codice_fiscale": cf.upper(), "results": len(report)})
    db.session.commit()
    return jsonify(report)


@bp.get("/openapi.json")
def openapi() -> Any:
    from app.api.openapi import SPEC

    return jsonify(SPEC)
