"""Quotes of many stored positions at once: the amount due (`total_due`) of every position in scope at a date.

The same answer as `quotes.quote_position` for each position, computed at volume:
- the ledger is summed in SQL, one streamed query per chunk of positions (keyset on the id, scoped with
  `app.core.access.scoped`): movements grouped by position, component and kind (payments also by value date)
  and pivoted to one row per position;
- each row becomes the same engine request as `quote_payload` builds (`quotes.payload_from_totals`, the one
  function both use) and is quoted by `wire.quote_total_due` (= `wire.quote_request(...)["total_due"]`);
- the quoting runs in a `multiprocessing` pool of `workers` processes that get the engine inputs once, in the
  initializer: the parameter rows of each (ente, entrata) and the rate table rows, from which they build the
  same EngineParams and RateTables as `quotes.engine_inputs`. The main process only reads the database: the
  workers never touch it (so the batch also sees the caller's uncommitted data).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.engine import wire
from app.engine.money import format_cents
from app.engine.params import EngineParams, engine_params_from_rows, rate_tables_from_rows
from app.engine.rates import RateTable
from app.enti.models import Entrata
from app.enti.queries import parameter_rows, rate_table_rows
from app.positions.amounts import (
    INTEREST_KIND,
    ONERI_KIND,
    PAYMENT_KINDS,
    QUOTED_COMPONENTS,
    PositionFacts,
    cents_of,
    live_booking,
    payload_from_totals,
    rule_from_rows,
)
from app.positions.models import Movement, Position

# One position as the workers get it (a row of `chunk_statement`): id, ente_id, entrata_id, due date,
# notification date, rate table code, original cents of capitale/sanzioni/interessi/spese, the payments as
# aligned lists (value dates, cents paid; None when there are none), the value date of the last crystallised
# interest, whether oneri are booked and the ledger balance of the oneri component.
PositionRow = tuple[int, int, int, dt.date, dt.date | None, str, int, int, int, int, list[dt.date] | None,
                    list[int] | None, dt.date | None, bool, int, dt.date | None, dt.date | None]
# What a worker answers for a position: (id, total_due) or, when the engine refuses it, (id, None, status,
# Italian message) — the WireError of the stored-position endpoint.
QuoteRow = tuple[int, str] | tuple[int, None, int, str]
OnError = Callable[[int, int, str], None]


class BatchQuoteError(Exception):
    """The engine refused the quote of a position (the endpoint would answer `status` with `message_it`)."""

    def __init__(self, position_id: int, status: int, message_it: str) -> None:
        super().__init__(f"posizione {position_id}: {message_it}")
        self.position_id = position_id
        self.status = status
        self.message_it = message_it


def batch_quotes(session: Session, principal: Principal, as_of: dt.date, *, workers: int = 2,
                 chunk: int = 5000, on_error: OnError | None = None,
                 mp_context: str | None = None) -> Iterator[tuple[int, str]]:
    """(position id, total_due) of every position `principal` may see, at `as_of`, in id order.

    `workers` processes quote the chunks while this process reads the next ones (at most two chunks per worker
    in flight); `workers=0` quotes in this process. A position the engine refuses (e.g. no rate for its
    period) raises BatchQuoteError, or is passed to `on_error(position_id, status, message_it)` and skipped.
    `mp_context` is the multiprocessing start method; by default "fork" when this process runs a single
    thread (the workers start at once and need no fresh import of the app; they never use the inherited
    database connections), else "spawn" (forking a process with threads is unsafe).
    """
    if chunk < 1:
        raise ValueError("chunk must be >= 1")
    keys = _parameter_keys(session, principal)
    inputs = (as_of, {key: parameter_rows(session, ente_id=key[0], entrata_id=key[1]) for key in keys},
              rate_table_rows(session))
    chunks = _chunks(session, principal, as_of, chunk)
    if workers <= 0:
        _init_worker(*inputs)
        for rows in chunks:
            yield from _deliver(_quote_chunk(rows), on_error)
        return
    if mp_context is None:
        single = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
        mp_context = "fork" if single else "spawn"
    pool = multiprocessing.get_context(mp_context).Pool(workers, _init_worker, inputs)
    try:
        pending: deque[Any] = deque()
        for rows in chunks:
            pending.append(pool.apply_async(_quote_chunk, (rows,)))
            if len(pending) >= 2 * workers:
                yield from _deliver(pending.popleft().get(), on_error)
        while pending:
            yield from _deliver(pending.popleft().get(), on_error)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _deliver(results: list[QuoteRow], on_error: OnError | None) -> Iterator[tuple[int, str]]:
    for row in results:
        if row[1] is not None:
            yield row  # type: ignore[misc]
        elif on_error is None:
            raise BatchQuoteError(row[0], row[2], row[3])  # type: ignore[misc]
        else:
            on_error(row[0], row[2], row[3])  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------
# Reading: one streamed query per chunk


def _parameter_keys(session: Session, principal: Principal) -> list[tuple[int, int]]:
    """The (ente_id, entrata_id) pairs of the positions in scope: one parameter set each."""
    stmt = sa.select(Position.ente_id, Position.entrata_id).distinct()
    return sorted((int(a), int(b)) for a, b in session.execute(scoped(stmt, Position, principal)))


def chunk_statement(principal: Principal, as_of: dt.date, after_id: int, chunk: int) -> sa.Select:
    """The next `chunk` positions in scope with id > `after_id`, one row each: id, ente_id, entrata_id, due
    date, rate table, original cents by quoted component, and the payments as two aligned arrays (value
    dates, net cents paid on each date), NULL when there are none.

    What `quote_payload` sums in Python, summed in SQL over the movements with value date by `as_of` and a
    quoted component: the movements that are not payments grouped by position and component, the payments
    and refunds by position and value date. Movements are read by a range of `position_id` (an index range
    scan: the chunk is a range of ids) and joined to the scoped chunk, so out-of-scope ones are dropped.
    """
    positions = scoped(
        sa.select(Position.id, Position.ente_id, Position.entrata_id, Position.due_date,
                  Position.notified_date, Entrata.interest_rate_table.label("rate_table"),
                  Position.interest_stopped_on, Position.interest_resumes_on)
        .join(Entrata, Entrata.id == Position.entrata_id)
        .where(Position.id > after_id).order_by(Position.id).limit(chunk),
        Position, principal).cte("chunk_positions")
    last_id = sa.select(sa.func.max(positions.c.id)).scalar_subquery()
    in_range = sa.and_(Movement.position_id > after_id, Movement.position_id <= last_id,
                       Movement.value_date <= as_of)
    in_chunk = sa.and_(in_range, Movement.component.in_(QUOTED_COMPONENTS))
    is_payment = Movement.kind.in_(PAYMENT_KINDS)

    def total(component: str) -> sa.ColumnElement[int]:
        summed = sa.func.sum(Movement.amount_cents).filter(Movement.component == component)
        return sa.cast(summed, sa.BigInteger).label(component)

    def listed(column: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[Any]:
        # psycopg's list as it comes (no SQLAlchemy ARRAY processing)
        return sa.type_coerce(sa.func.array_agg(column), sa.types.NullType()).label(name)

    originals = (sa.select(Movement.position_id, *(total(c) for c in QUOTED_COMPONENTS))
                 .where(in_chunk, sa.not_(is_payment)).group_by(Movement.position_id)).subquery("originals")
    by_date = (sa.select(Movement.position_id, Movement.value_date,
                         sa.cast(-sa.func.sum(Movement.amount_cents), sa.BigInteger).label("paid"))
               .where(in_chunk, is_payment).group_by(Movement.position_id, Movement.value_date)
               ).subquery("by_date")
    # two aggregates over the same rows in one pass: the arrays are aligned (their order does not matter)
    payments = (sa.select(by_date.c.position_id, listed(by_date.c.value_date, "dates"),
                          listed(by_date.c.paid, "paid"))
                .group_by(by_date.c.position_id)).subquery("payments")
    # what was booked beyond the engine's components: crystallised interest and oneri (amounts.py)
    # (reversed bookings and their reversals do not count: `amounts.live_booking`)
    live = live_booking()
    booked = (sa.select(
        Movement.position_id,
        sa.func.max(Movement.value_date).filter(Movement.kind == INTEREST_KIND, live).label("interest_until"),
        (sa.func.count().filter(Movement.kind == ONERI_KIND, live) > 0).label("oneri_booked"),
        sa.cast(sa.func.coalesce(sa.func.sum(Movement.amount_cents).filter(Movement.component == "oneri"), 0),
                sa.BigInteger).label("oneri_cents"))
        .where(in_range,
               sa.or_(Movement.kind.in_((INTEREST_KIND, ONERI_KIND)), Movement.component == "oneri"))
        .group_by(Movement.position_id)).subquery("booked")
    return (
        sa.select(positions.c.id, positions.c.ente_id, positions.c.entrata_id, positions.c.due_date,
                  positions.c.notified_date, positions.c.rate_table,
                  *(sa.func.coalesce(originals.c[c], 0) for c in QUOTED_COMPONENTS),
                  payments.c.dates, payments.c.paid, booked.c.interest_until,
                  sa.func.coalesce(booked.c.oneri_booked, False), sa.func.coalesce(booked.c.oneri_cents, 0),
                  positions.c.interest_stopped_on, positions.c.interest_resumes_on)
        .select_from(positions.outerjoin(originals, originals.c.position_id == positions.c.id)
                     .outerjoin(payments, payments.c.position_id == positions.c.id)
                     .outerjoin(booked, booked.c.position_id == positions.c.id))
        .order_by(positions.c.id)
    )


def _chunks(session: Session, principal: Principal, as_of: dt.date,
            chunk: int) -> Iterator[list[PositionRow]]:
    """The positions in scope, `chunk` at a time, as plain tuples (what is pickled to the workers)."""
    connection = session.connection()  # Core execution: no ORM row processing
    after_id = 0
    while True:
        stmt = chunk_statement(principal, as_of, after_id, chunk)
        result = connection.execute(stmt, execution_options={"stream_results": True, "yield_per": chunk})
        rows: list[PositionRow] = [tuple(row) for part in result.partitions() for row in part]  # type: ignore[misc]
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        after_id = rows[-1][0]


# ---------------------------------------------------------------------------------------------------------
# Quoting, in the workers

_STATE: dict[str, Any] = {}


def _init_worker(as_of: dt.date, parameter_rows_by_key: Mapping[tuple[int, int], Sequence[Mapping[str, Any]]],
                 table_rows: Mapping[str, Mapping[str, Any]]) -> None:
    """Build the engine inputs once per worker, exactly as `quotes.engine_inputs` does for one position."""
    params = {key: engine_params_from_rows(rows, as_of) for key, rows in parameter_rows_by_key.items()}
    _STATE.update(as_of=as_of, params=params, tables=rate_tables_from_rows(table_rows),
                  rows=dict(parameter_rows_by_key), rules={})


def _quote_chunk(rows: list[PositionRow]) -> list[QuoteRow]:
    as_of: dt.date = _STATE["as_of"]
    params: dict[tuple[int, int], EngineParams] = _STATE["params"]
    tables: dict[str, RateTable] = _STATE["tables"]
    rules: dict[tuple[int, int, str], Any] = _STATE["rules"]
    quote = wire.quote_total_due
    out: list[QuoteRow] = []
    for (pid, ente_id, entrata_id, due, notified, table, cap, sanz, inte, spese, pay_dates, pay_cents,
         interest_until, oneri_booked, oneri_cents, stopped_on, resumes_on) in rows:
        original = {"capitale": cap, "sanzioni": sanz, "interessi": inte, "spese": spese}
        payments = dict(zip(pay_dates, pay_cents, strict=True)) if pay_dates else {}
        rule = rules.get((ente_id, entrata_id, table))
        if rule is None:
            rule = rules[ente_id, entrata_id, table] = rule_from_rows(
                _STATE["rows"][ente_id, entrata_id], as_of, table)
        facts = PositionFacts(due, notified, interest_until, bool(oneri_booked), stopped_on, resumes_on)
        payload = payload_from_totals(as_of, facts, rule, original, payments)
        try:
            total = quote(payload, tables, params[ente_id, entrata_id])
            if oneri_cents:
                total = format_cents(cents_of(total) + int(oneri_cents))
            out.append((pid, total))
        except wire.WireError as error:
            out.append((pid, None, error.status, error.message_it))
    return out
