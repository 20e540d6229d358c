"""The plans in the API (/api/v1, the token's ente only): a taxpayer's plans and one plan with its
installments (each with its codice avviso and state), scope positions:read; the proroga (L. 160/2019 c. 797),
scope positions:write. Documented in app/api/openapi.py from app/plans/api_spec.py."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from app.api.routes import bp, token_required
from app.core.errors import DomainError, error_response
from app.extensions import db
from app.plans import queries
from app.plans.models import PLAN_STATUSES

MAX_ID = 2**31 - 1


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
    plan = queries.get_plan(db.session, g.principal, plan_id) if plan_id <= MAX_ID else None
    if plan is None:
        return error_response(404, "Piano rateale non trovato.")
    return jsonify(queries.plan_json(plan))


@bp.post("/plans/<int:plan_id>/proroga")
@token_required("positions:write")
def api_plan_proroga(plan_id: int) -> Any:
    """The proroga of a plan: `{"installments": n, "reason": "...", "first_due": "AAAA-MM-GG"}` (first_due
    optional). 422 with the reason naming the rule when refused (`allowed` when the number is the issue)."""
    import datetime as dt

    from app.core.security import current_actor
    from app.plans.proroga import ProrogaRefused, extend_plan
    from app.plans.services import today

    plan = queries.get_plan(db.session, g.principal, plan_id) if plan_id <= MAX_ID else None
    if plan is None:  # before reading the body: another ente's plan is simply not found
        return error_response(404, "Piano rateale non trovato.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(422, "Corpo JSON mancante o non valido.")
    installments = body.get("installments")
    if not isinstance(installments, int) or isinstance(installments, bool) or not 1 <= installments <= 240:
        return error_response(
            422, "Campo «installments»: numero di rate da 1 a 240.", {"field": "installments"}
        )
    first_due = None
    if body.get("first_due"):
        try:
            first_due = dt.date.fromisoformat(str(body["first_due"]))
        except ValueError:
            return error_response(
                422, "Campo «first_due»: data non valida, atteso AAAA-MM-GG.", {"field": "first_due"}
            )
    try:
        extend_plan(
            db.session,
            g.principal,
            current_actor(),
            plan,
            installments=installments,
            reason=str(body.get("reason") or "")[:600],
            on=today(),
            first_due=first_due,
        )
    except ProrogaRefused as exc:
        db.session.rollback()
        return error_response(422, exc.message, {"field": "installments"}, {"allowed": exc.allowed})
    except DomainError as exc:
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.details)
    result = queries.plan_json(plan)
    db.session.commit()
    return jsonify(result)
