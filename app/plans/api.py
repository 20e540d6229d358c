"""The plans in the API (/api/v1, the token's ente only): a taxpayer's plans and one plan with its
installments (each with its codice avviso and state), scope positions:read; the proroga (L. 160/2019 c. 797,
scope positions:write) is in app/plans/proroga_api/routes.py. Documented in app/api/openapi.py from
app/plans/api_spec.py."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from app.api.routes import bp, token_required
from app.core.errors import error_response
from app.extensions import db
from app.plans import queries
from app.plans.models import PLAN_STATUSES


@bp.get("/plans")
@token_required("positions:read")
def api_plans() -> Any:
    """The plans of the token's ente, optionally of one taxpayer (`?codice_fiscale=`) or one state."""
    from app.taxpayers.models import Taxpayer

    status = request.args.get("status") or None
    if status is not None and status not in PLAN_STATUSES:
        return error_response(
            422, f"Stato non valido: ammessi {', '.join(PLAN_STATUSES)}.", {"field": "status"}
        )
    cf = (request.args.get("codice_fiscale") or "").strip().upper()
    taxpayer_id = None
    if cf:
        import sqlalchemy as sa

        from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale

        try:
            cf = validate_codice_fiscale(cf)
        except InvalidIdentifier as exc:
            return error_response(422, str(exc), {"field": "codice_fiscale"})
        taxpayer_id = db.session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf))
        if taxpayer_id is None:
            return jsonify([])
    plans = queries.list_plans(db.session, g.principal, status=status, taxpayer_id=taxpayer_id, limit=500)
    return jsonify([queries.plan_json(p) for p in plans])


@bp.get("/plans/<int:plan_id>")
@token_required("positions:read")
def api_plan(plan_id: int) -> Any:
    plan = queries.get_plan(db.session, g.principal, plan_id)
    if plan is None:
        return error_response(404, "Piano rateale non trovato.")
    return jsonify(queries.plan_json(plan))
