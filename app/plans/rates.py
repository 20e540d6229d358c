"""The interest rate of a plan's installments (L. 160/2019, art. 1, c. 802): the parameter row
`interessi_rateazione` of the ente or entrata in force at the first due date (`{"rate_table": "legale",
"surcharge_points": "0"}`: the rate of that table on that day plus the ente's points, at most the
`mora_surcharge_max_points` of c. 802), with the legal sources of both. No row: no rateation interest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from app.core.errors import DomainError
from app.engine.errors import RateMissing
from app.enti.queries import in_force, parameter_rows

RATE_PARAMETER = "interessi_rateazione"


@dataclass(frozen=True, slots=True)
class RateationRate:
    annual_rate: Decimal  # percent, e.g. Decimal("1.6")
    source: str  # the row's source and the rate's decree


def rateation_rate(session: Session, *, ente_id: int, entrata_id: int, on: dt.date) -> RateationRate:
    from app.positions.quotes import engine_inputs

    row = in_force(parameter_rows(session, ente_id=ente_id, entrata_id=entrata_id), RATE_PARAMETER, on)
    if row is None or not isinstance(row.get("value"), dict):
        return RateationRate(Decimal(0), "")
    value = row["value"]
    params, tables = engine_inputs(session, on, ente_id=ente_id, entrata_id=entrata_id)
    try:
        points = Decimal(str(value.get("surcharge_points", "0")))
    except InvalidOperation:
        raise DomainError(f"Parametro «{RATE_PARAMETER}»: maggiorazione non valida.") from None
    limit = params.mora_surcharge_max_points
    if points < 0 or (limit is not None and points > limit):
        raise DomainError(
            f"Parametro «{RATE_PARAMETER}»: maggiorazione di {points} punti oltre il massimo di {limit} "
            "(L. 160/2019, art. 1, c. 802)."
        )
    table = tables.get(str(value.get("rate_table", "legale")))
    try:
        period = table.period_on(on) if table is not None else None
    except RateMissing:
        period = None
    if period is None:
        raise DomainError(
            f"Nessun tasso «{value.get('rate_table')}» in vigore al {on:%d/%m/%Y} per gli interessi di "
            "rateazione."
        )
    return RateationRate(period.rate + points, f"{row.get('source') or ''}; {period.source}".strip("; "))
