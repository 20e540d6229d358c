"""The API's reads of procedures (`GET /api/v1/procedures`, `/procedures/{procedure_id}`; routes in
app/api/routes.py, documented in app/api/openapi.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.url_ids import parse_id
from app.procedures import queries
from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale
from app.taxpayers.models import Taxpayer


def _error(status: int, message: str, **details: Any) -> tuple[dict[str, Any], int]:
    return {"error": message, "details": details}, status


def list_for_api(session: Session, principal: Principal, args: Mapping[str, str]) -> tuple[Any, int]:
    cf, position = (args.get("codice_fiscale") or "").strip(), (args.get("position_id") or "").strip()
    if bool(cf) == bool(position):
        return _error(400, "Indica uno tra codice_fiscale e position_id.", field="codice_fiscale")
    filters: dict[str, Any] = {}
    if cf:
        try:
            cf = validate_codice_fiscale(cf)
        except InvalidIdentifier as exc:
            return _error(422, str(exc), field="codice_fiscale")
        stmt = sa.select(Taxpayer.id).where(sa.or_(Taxpayer.codice_fiscale == cf, Taxpayer.partita_iva == cf))
        taxpayer_id = session.scalars(scoped(stmt, Taxpayer, principal)).first()
        if taxpayer_id is None:
            return [], 200
        filters["taxpayer_id"] = taxpayer_id
    else:
        position_id = parse_id(position)
        if position_id is None:
            return _error(400, "Parametro 'position_id' non valido.", field="position_id")
        filters["position_id"] = position_id
    procedures = queries.list_procedures(session, principal, limit=500, **filters)
    return [queries.as_json(p) for p in procedures], 200


def one_for_api(session: Session, principal: Principal, procedure_id: int) -> tuple[Any, int]:
    procedure = queries.get_procedure(session, principal, procedure_id)
    if procedure is None:
        return _error(404, "Procedura non trovata.")
    return queries.as_json(procedure), 200
