"""Quotes of stored positions: the ledger turned into an engine request (formats.md §4 shape)."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.calendar import is_italian_holiday
from app.core.errors import NotFound
from app.engine import wire
from app.engine.money import format_cents
from app.engine.params import EngineParams, params_from_rows
from app.engine.rates import RateTable
from app.enti.queries import parameter_rows, parameters_stamp, rate_table_rows
from app.positions.queries import get_position

_INPUTS_CACHE: OrderedDict[tuple[Any, ...], tuple[EngineParams, dict[str, RateTable]]] = OrderedDict()
_INPUTS_CACHE_SIZE = 256


def engine_inputs(session: Session, on: dt.date, *, ente_id: int | None = None,
                  entrata_id: int | None = None) -> tuple[EngineParams, dict[str, RateTable]]:
    """The parameter rows in force (national, then the ente's, then the entrata's) as engine values.

    Building them costs a few queries and parsing; the result is kept per process, keyed by the database's
    parameter fingerprint (one cheap query), so an edited or added row is seen by the very next request on
    every node."""
    key = (parameters_stamp(session), ente_id, entrata_id, on)
    cached = _INPUTS_CACHE.get(key)
    if cached is None:
        cached = params_from_rows(parameter_rows(session, ente_id=ente_id, entrata_id=entrata_id),
                                  rate_table_rows(session), on)
        _INPUTS_CACHE[key] = cached
        while len(_INPUTS_CACHE) > _INPUTS_CACHE_SIZE:
            _INPUTS_CACHE.popitem(last=False)
    else:
        _INPUTS_CACHE.move_to_end(key)
    return cached


def quote_position(session: Session, principal: Principal, position_id: int,
                   as_of: dt.date) -> dict[str, Any]:
    """The engine's quote of a stored position by its entrata's rule (`amounts.amounts_due`, the one function
    of the amount due), with the legal source of each segment's rate and the rule applied."""
    from app.positions.amounts import amount_due

    position = get_position(session, principal, position_id)
    if position is None:
        raise NotFound("Posizione non trovata.")
    due = amount_due(session, position, as_of)
    if due.error is not None:
        raise wire.WireError(422, due.error, {"position": position.id})
    result = dict(due.quote)
    result["total_due"] = format_cents(due.total_cents)
    result["position"] = {"id": position.id, "id_posizione": position.external_id, "ente": position.ente.code,
                          "entrata": position.entrata.code}
    result["rule"] = {"description": due.rule.description(), "source": due.rule.source,
                      "interest_from": due.interest_from.isoformat() if due.interest_from else None}
    return result


def simulate_plan(session: Session, principal: Principal, position_id: int, *, installments: int,
                  first_due: dt.date, annual_rate: Any = None) -> tuple[dict[str, Any], str]:
    """A plan for what the position owes at the first due date, under the entrata's installment regime."""
    quote = quote_position(session, principal, position_id, first_due)
    position = get_position(session, principal, position_id)
    assert position is not None  # quote_position raised otherwise
    params, _ = engine_inputs(session, first_due, ente_id=position.ente_id, entrata_id=position.entrata_id)
    payload = {"amount": quote["total_due"], "installments": installments, "first_due": first_due.isoformat(),
               "regime": position.entrata.installment_regime, "annual_rate": str(annual_rate or "0")}
    return wire.installment_plan_request(payload, params), quote["total_due"]


def engine_quote(session: Session, payload: Any) -> dict[str, Any]:
    """POST /api/v1/engine/quote: parameters in force at the request's as_of (today if unreadable)."""
    on = _payload_date(payload, "as_of")
    params, tables = engine_inputs(session, on)
    return wire.quote_request(payload, tables, params)


def engine_installment_plan(session: Session, payload: Any, today: dt.date) -> dict[str, Any]:
    """POST /api/v1/engine/installment-plan: the regime in force on the day of the request."""
    params, _ = engine_inputs(session, today)
    return wire.installment_plan_request(payload, params)


def engine_deadlines(session: Session, payload: Any, today: dt.date) -> dict[str, Any]:
    params, _ = engine_inputs(session, today)
    return wire.deadlines_request(payload, params, is_italian_holiday)


def _payload_date(payload: Any, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(payload[key])
    except (TypeError, KeyError, ValueError):
        return dt.date.today()
