"""Quotes of stored positions: the ledger turned into an engine request (formats.md §4 shape)."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.calendar import is_italian_holiday
from app.core.errors import NotFound
from app.engine import wire
from app.engine.errors import RateMissing
from app.engine.money import format_cents
from app.engine.params import EngineParams, params_from_rows
from app.engine.rates import RateTable
from app.enti.queries import parameter_rows, parameters_stamp, rate_table_rows
from app.positions.models import Movement, Position
from app.positions.queries import get_position, list_movements

QUOTED_COMPONENTS = wire.COMPONENTS  # capitale, sanzioni, interessi, spese
PAYMENT_KINDS = ("pagamento", "rimborso")  # the movements quoted as payments on their value date


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


def quote_payload(position: Position, movements: list[Movement], as_of: dt.date) -> dict[str, Any]:
    """Original amounts by component (carico, accrued, abated) and the payments by value date, booked by
    `as_of`; interest at the entrata's rate table on the capital from the due date."""
    original: dict[str, int] = defaultdict(int)
    payments: dict[dt.date, int] = defaultdict(int)
    for m in movements:
        if m.value_date > as_of or m.component not in QUOTED_COMPONENTS:
            continue
        if m.kind in PAYMENT_KINDS:
            payments[m.value_date] -= m.amount_cents
        else:
            original[m.component] += m.amount_cents
    rate_table = position.entrata.interest_rate_table
    return payload_from_totals(as_of, position.due_date, rate_table, original, payments)


def payload_from_totals(as_of: dt.date, due_date: dt.date, rate_table: str, original: Mapping[str, int],
                        payments: Mapping[dt.date, int]) -> dict[str, Any]:
    """The quote request of a position from plain values (shared by `quote_payload` and the batch, which sums
    the ledger in SQL): `original` cents by component of the movements that are not payments, `payments` the
    net cents paid on each value date (positive = paid), both counting only movements with value date by
    `as_of` and a quoted component."""
    payload: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "components": {c: format_cents(max(original.get(c, 0), 0)) for c in QUOTED_COMPONENTS},
    }
    if due_date < as_of:
        payload["interest"] = {"from": due_date.isoformat(), "base": ["capitale"], "rate_table": rate_table,
                               "surcharge_points": "0", "day_count": "ACT/365"}
    if payments:
        paid = [{"date": d.isoformat(), "amount": format_cents(c)}
                for d, c in sorted(payments.items()) if c > 0]
        if paid:
            payload["payments"] = paid
    return payload


def quote_position(session: Session, principal: Principal, position_id: int,
                   as_of: dt.date) -> dict[str, Any]:
    position = get_position(session, principal, position_id)
    if position is None:
        raise NotFound("Posizione non trovata.")
    params, tables = engine_inputs(session, as_of, ente_id=position.ente_id, entrata_id=position.entrata_id)
    payload = quote_payload(position, list_movements(session, principal, position_id), as_of)
    result = wire.quote_request(payload, tables, params)
    result["position"] = {"id": position.id, "id_posizione": position.external_id, "ente": position.ente.code,
                          "entrata": position.entrata.code}
    table = tables.get(position.entrata.interest_rate_table)
    for segment in result.get("interest", {}).get("segments", []):
        try:  # the legal source of each segment's rate, so the screen can explain it
            day = dt.date.fromisoformat(segment["from"])
            segment["source"] = table.period_on(day).source if table else ""
        except RateMissing:
            segment["source"] = ""
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
