"""`POST /api/v1/plans/<id>/proroga` (scope positions:write, the token's ente only): the proroga of a plan
(L. 160/2019 c. 797, `app.plans.proroga`) for the Regione's systems; documented in app/plans/api_spec.py.
Its own blueprint, like app/dynamics/api: routes commit, the services never do."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from app.api.routes import token_required
from app.core.errors import DomainError, error_response
from app.extensions import csrf, db
from app.plans import queries

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies


@bp.post("/plans/<int:plan_id>/proroga")
@token_required("positions:write")
def api_plan_proroga(plan_id: int) -> Any:
    """The proroga of a plan: `{"installments": n, "reason": "...", "first_due": "AAAA-MM-GG"}` (first_due
    optional). 422 with the reason naming the rule when refused (`allowed` when the number is the issue).
    200: the plan, with `proroga_act_id` its act and `act_error` why the act was not issued (the proroga
    stands)."""
    import datetime as dt

    from flask import current_app

    from app.core.security import current_actor
    from app.plans.proroga import ProrogaRefused, extend_plan
    from app.plans.services import today

    plan = queries.get_plan(db.session, g.principal, plan_id)
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
        extension = extend_plan(
            db.session,
            g.principal,
            current_actor(),
            plan,
            installments=installments,
            reason=str(body.get("reason") or "")[:600],
            on=today(),
            first_due=first_due,
            file_store=current_app.config["FILE_STORE"],
        )
    except ProrogaRefused as exc:
        db.session.rollback()
        return error_response(422, exc.message, {"field": "installments"}, {"allowed": exc.allowed})
    except DomainError as exc:
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.details)
    result = {**queries.plan_json(plan), "act_error": extension.act_error}
    db.session.commit()
    return jsonify(result)
