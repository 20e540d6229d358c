"""The administrator's changes to the legal numbers: a new period of a rate or parameter, and the
verification of a row against its official publication.

A change never rewrites the past: it opens a new period from a date after the start of the latest one, and
the row open until then is closed the day before (the edit leaves a RowVersion, app/core/history.py). Each
change leaves an event (who, when, what). Services never commit.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError, NotFound
from app.engine.errors import EngineError
from app.engine.params import engine_params_from_rows
from app.enti.citations import citation_error, foreign_content
from app.enti.models import Parameter, RatePeriod, RateTable
from app.reports.formatting import format_date_it, format_rate_it

ONE_DAY = dt.timedelta(days=1)
#: Largest rate the `Rate` column holds (Numeric(9, 6)) and the most decimals it keeps.
MAX_RATE = Decimal("999.999999")
RATE_DECIMALS = 6


class FieldError(DomainError):
    """A rule refused one field of the form: `field` names it, so the screen shows the error next to it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field = field


def _check_source(source: str) -> str:
    error = citation_error(source)
    if error:
        raise FieldError("source", f"Fonte: {error[0].lower()}{error[1:]}")
    return source.strip()


def _check_dates(valid_from: dt.date, valid_to: dt.date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise FieldError(
            "valid_to", f"Valido fino al: non può precedere l'inizio ({format_date_it(valid_from)})."
        )


def _close_previous(
    latest: RatePeriod | Parameter | None, valid_from: dt.date, *, contiguous: bool
) -> dict[str, Any] | None:
    """Close the latest period the day before `valid_from`; refuse a start that would rewrite it."""
    if latest is None:
        return None
    if valid_from <= latest.valid_from:
        raise FieldError(
            "valid_from",
            f"Valido dal: deve essere successivo al {format_date_it(latest.valid_from)}, inizio dell'ultimo "
            "periodo registrato. Un periodo registrato non si riscrive: se ne apre uno nuovo.",
        )
    if latest.valid_to is not None and latest.valid_to < valid_from:  # already closed: nothing to close
        if contiguous and latest.valid_to != valid_from - ONE_DAY:
            raise FieldError(
                "valid_from",
                f"Valido dal: l'ultimo periodo finisce il {format_date_it(latest.valid_to)}, il nuovo deve "
                f"iniziare il {format_date_it(latest.valid_to + ONE_DAY)} (un tasso non può avere giorni "
                "scoperti).",
            )
        return None
    closed = {"id": latest.id, "valid_to_before": latest.valid_to.isoformat() if latest.valid_to else None}
    latest.valid_to = valid_from - ONE_DAY
    return closed


def parse_rate(text: str) -> Decimal:
    """An annual rate in percent as typed ("1,25", "1.25", "0,05 %") → Decimal("1.25")."""
    cleaned = (text or "").strip().removesuffix("%").strip().replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        rate = Decimal(cleaned)
    except ArithmeticError:
        raise FieldError("rate", "Tasso annuo: scrivi un numero, es. 1,25.") from None
    if not rate.is_finite() or rate < 0 or rate > MAX_RATE:
        raise FieldError("rate", "Tasso annuo: deve essere un numero tra 0 e 999,999999.")
    if rate.as_tuple().exponent < -RATE_DECIMALS:  # type: ignore[operator]
        raise FieldError("rate", f"Tasso annuo: al massimo {RATE_DECIMALS} decimali.")
    return rate


def get_rate_table(session: Session, code: str) -> RateTable:
    table = session.scalars(sa.select(RateTable).where(RateTable.code == code)).first()
    if table is None:
        raise NotFound(f"Tabella dei tassi «{code}» inesistente.")
    return table


def add_rate_period(
    session: Session,
    actor: Actor,
    table: RateTable,
    *,
    rate: Decimal,
    valid_from: dt.date,
    valid_to: dt.date | None,
    source: str,
) -> RatePeriod:
    """A new period of a rate table from `valid_from`; the period open until then ends the day before."""
    source = _check_source(source)
    _check_dates(valid_from, valid_to)
    latest = session.scalars(
        sa.select(RatePeriod)
        .where(RatePeriod.rate_table_id == table.id)
        .order_by(RatePeriod.valid_from.desc())
        .limit(1)
        .with_for_update()
    ).first()
    closed = _close_previous(latest, valid_from, contiguous=True)
    period = RatePeriod(
        rate_table_id=table.id, valid_from=valid_from, valid_to=valid_to, rate=rate, source=source,
        verified=False,
    )
    session.add(period)
    session.flush()
    record_event(
        session,
        actor,
        "parameter.added",
        f"Tasso «{table.name}»: {format_rate_it(rate)} dal {format_date_it(valid_from)} ({source})"
        + (f"; periodo precedente chiuso al {format_date_it(latest.valid_to)}" if closed and latest else ""),
        payload={"table": "rate_periods", "id": period.id, "code": table.code, "closed": closed},
    )
    return period


def latest_parameter(session: Session, code: str, *, lock: bool = False) -> Parameter:
    """The national row of `code` that starts last (the one a new period follows)."""
    stmt = (
        sa.select(Parameter)
        .where(Parameter.code == code, Parameter.ente_id.is_(None), Parameter.entrata_id.is_(None))
        .order_by(Parameter.valid_from.desc())
        .limit(1)
    )
    row = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound(f"Parametro «{code}» inesistente.")
    return row


def parse_value(text: str, previous: Any) -> Any:
    """The value typed as JSON, with the same shape as the previous period's (same keys)."""
    try:
        value = json.loads(text or "")
    except ValueError as error:
        raise FieldError(
            "value", f"Valore: non è un JSON valido (riga {error.lineno}, colonna {error.colno})."
        ) from None
    if type(value) is not type(previous):
        raise FieldError("value", "Valore: deve avere la stessa forma del periodo precedente.")
    if isinstance(value, dict) and set(value) != set(previous):
        missing = ", ".join(sorted(set(previous) - set(value))) or "nessuna"
        extra = ", ".join(sorted(set(value) - set(previous))) or "nessuna"
        raise FieldError(
            "value",
            f"Valore: deve avere le voci del periodo precedente (mancanti: {missing}; in più: {extra}).",
        )
    return value


def add_parameter_period(
    session: Session,
    actor: Actor,
    code: str,
    *,
    value: Any,
    valid_from: dt.date,
    valid_to: dt.date | None,
    source: str,
) -> Parameter:
    """A new period of a national parameter from `valid_from`; the period open until then ends the day before.
    The value must be one the engine reads (checked by building the engine's parameters from it)."""
    source = _check_source(source)
    _check_dates(valid_from, valid_to)
    latest = latest_parameter(session, code, lock=True)
    row = {"code": code, "valid_from": valid_from, "valid_to": valid_to, "value": value, "source": source}
    try:
        engine_params_from_rows([row], valid_from)
    except EngineError as error:
        raise FieldError("value", f"Valore: {error.message_it}") from None
    except (AttributeError, KeyError, TypeError, ValueError):
        raise FieldError("value", "Valore: non ha la forma che il parametro richiede.") from None
    closed = _close_previous(latest, valid_from, contiguous=False)
    parameter = Parameter(
        code=code, valid_from=valid_from, valid_to=valid_to, value=value, source=source, verified=False
    )
    session.add(parameter)
    session.flush()
    record_event(
        session,
        actor,
        "parameter.added",
        f"Parametro «{code}»: nuovo periodo dal {format_date_it(valid_from)} ({source})"
        + (f"; periodo precedente chiuso al {format_date_it(latest.valid_to)}" if closed else ""),
        payload={"table": "parameters", "id": parameter.id, "code": code, "closed": closed},
    )
    return parameter


def get_row(session: Session, kind: str, row_id: int) -> RatePeriod | Parameter:
    model = {"tasso": RatePeriod, "parametro": Parameter}.get(kind)
    row = session.get(model, row_id) if model is not None else None
    if row is None:
        raise NotFound("Riga inesistente.")
    return row


def verify_row(session: Session, actor: Actor, row: RatePeriod | Parameter, *, against: str) -> None:
    """Record that an administrator checked `row` against a publication (who, when, which)."""
    against = (against or "").strip()
    if len(against) < 5:
        raise FieldError("against", "Pubblicazione consultata: indica la pubblicazione, es. «G.U. n. 297 del "
                                    "15/12/2021».")
    if len(against) > 300:
        raise FieldError("against", "Pubblicazione consultata: al massimo 300 caratteri.")
    what = foreign_content(against)
    if what:
        raise FieldError(
            "against", f"Pubblicazione consultata: contiene {what}; indica la pubblicazione ufficiale, es. "
            "«G.U. n. 297 del 15/12/2021»."
        )
    if actor.user_id is None:
        raise DomainError("Solo un amministratore può verificare un parametro.")
    row.verified = True
    row.verified_dt = utcnow()
    row.verified_by_id = actor.user_id
    row.verified_against = against
    if isinstance(row, RatePeriod):
        what = f"tasso «{row.table.name}» dal {format_date_it(row.valid_from)}: {format_rate_it(row.rate)}"
        table = "rate_periods"
    else:
        what = f"parametro «{row.code}» dal {format_date_it(row.valid_from)}"
        table = "parameters"
    record_event(
        session,
        actor,
        "parameter.verified",
        f"Verificato {what} su {against}",
        payload={"table": table, "id": row.id, "against": against},
    )
    session.flush()
