"""The amount due of stored positions: ONE function (`amounts_due`) used by every screen, export and API.

The amount due at a date is the engine's quote (formats.md §4, `wire.quote_request`) of the position's ledger
under its entrata's rule (`DueRule`, the parameter row `regola_dovuto` of the entrata, with validity dates and
its legal source): when interest starts, on which components, at which rate table, and whether oneri di
riscossione apply. Spese are those booked in the ledger (lista di carico and later movements).

Interest that has been booked in the ledger ("crystallised", movement kind `interessi`, value date = the last
day it covers) is part of the ledger: the engine then accrues only from that day on, and oneri already booked
(kind `oneri`) are not computed again. `accrual_lines` says what to book when a payment reaches the ledger
balance (every allocation books it first: `app.payments.reconcile.book_accruals`; `crystallise` for one
position), so that a full payoff takes the ledger to zero (the ledger stays append-only). A reversed booking
(the payment's reversal reverses it) no longer counts.

`app.positions.batch_quotes` computes the same figures for many positions at once (a test compares them).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.core.access import Principal
from app.engine import wire
from app.engine.errors import RateMissing
from app.engine.money import format_cents
from app.enti.queries import in_force, parameter_rows, parameters_stamp
from app.positions.models import Movement, Position
from app.positions.queries import ABATED_KINDS, ORIGINAL_KINDS, PAID_KINDS, ComponentBalance, ComponentSums

ROME = ZoneInfo("Europe/Rome")
RULE_CODE = "regola_dovuto"  # the entrata's rule of the amount due (a parameter row per entrata)
QUOTED_COMPONENTS = wire.COMPONENTS  # capitale, sanzioni, interessi, spese (the engine's components)
PAYMENT_KINDS = PAID_KINDS  # the movements quoted as payments on their value date
INTEREST_KIND = "interessi"  # a crystallised interest movement
ONERI_KIND = "oneri"  # crystallised oneri di riscossione
INTEREST_STARTS = {"scadenza": "dalla scadenza", "notifica": "dalla notifica"}
CHARGE_RULES = {"oneri_l160": "L. 160/2019, art. 1, c. 803 lett. a"}


@dataclass(frozen=True, slots=True)
class DueRule:
    """How an entrata's positions accrue: interest (None: no interest) and oneri (None: none)."""

    interest_start: str | None = "scadenza"  # "scadenza" (due date) or "notifica" (notification date)
    interest_start_days: int = 0  # days after that date; interest accrues from the day after
    rate_table: str = "legale"
    base: tuple[str, ...] = ("capitale",)
    surcharge_points: str = "0"
    day_count: str = "ACT/365"
    oneri: str | None = None  # "oneri_l160"
    esecutivo_days: int = 60  # the title is esecutivo this many days after notification
    # the kinds of sospensione (app.dynamics: ricorso, autotutela, ordine_regione) that stop interest
    suspension_stops_interest: tuple[str, ...] = ()
    source: str = ""
    verified: bool = True

    def description(self) -> str:
        """The rule in Italian, for the card."""
        if self.interest_start is None:
            text = "Nessun interesse di mora"
        else:
            start = INTEREST_STARTS.get(self.interest_start, self.interest_start)
            if self.interest_start_days:
                start += f" + {self.interest_start_days} giorni"
            text = (f"Interessi {start} su {', '.join(self.base)}, tabella «{self.rate_table}»"
                    + (f" maggiorata di {self.surcharge_points} punti" if self.surcharge_points not in
                       ("0", "0.00") else ""))
        if self.oneri:
            text += (f"; oneri di riscossione ({CHARGE_RULES.get(self.oneri, self.oneri)}) dall'esecutività "
                     f"({self.esecutivo_days} giorni dalla notifica)")
        else:
            text += "; nessun onere di riscossione"
        if self.suspension_stops_interest and self.interest_start is not None:
            text += f"; la sospensione ({', '.join(self.suspension_stops_interest)}) ferma gli interessi"
        return text + "; spese come da lista di carico e movimenti successivi"


def rule_from_value(value: Mapping[str, Any] | None, *, rate_table: str, source: str = "",
                    verified: bool = True) -> DueRule:
    """A DueRule from the parameter value; no row: interest from the due date on the capital at the
    entrata's rate table, no oneri (the rule before rules were data)."""
    if value is None:
        return DueRule(rate_table=rate_table, source=source, verified=verified)
    interest = value.get("interest")
    charges = value.get("charges")
    kwargs: dict[str, Any] = {"source": source, "verified": verified, "rate_table": rate_table}
    if interest is None:
        kwargs["interest_start"] = None
    else:
        kwargs.update(
            interest_start=str(interest.get("start", "scadenza")),
            interest_start_days=int(interest.get("start_days", 0)),
            rate_table=str(interest.get("rate_table", rate_table)),
            base=tuple(str(c) for c in interest.get("base", ("capitale",))),
            surcharge_points=str(interest.get("surcharge_points", "0")),
            day_count=str(interest.get("day_count", "ACT/365")),
        )
    if charges:
        kwargs.update(oneri=str(charges["rule"]), esecutivo_days=int(charges.get("esecutivo_days", 60)))
    suspension = value.get("suspension") or {}
    if suspension.get("stops_interest"):
        kwargs["suspension_stops_interest"] = tuple(str(k) for k in suspension["stops_interest"])
    return DueRule(**kwargs)


def rule_from_rows(rows: Sequence[Mapping[str, Any]], on: dt.date, rate_table: str) -> DueRule:
    row = in_force(list(rows), RULE_CODE, on)
    if row is None:
        return rule_from_value(None, rate_table=rate_table)
    return rule_from_value(row["value"], rate_table=rate_table, source=row["source"],
                           verified=bool(row.get("verified", False)))


_RULE_CACHE: OrderedDict[tuple[Any, ...], DueRule] = OrderedDict()


def due_rule(session: Session, on: dt.date, *, ente_id: int, entrata_id: int, rate_table: str) -> DueRule:
    """The entrata's rule in force on `on` (cached per process, keyed like `quotes.engine_inputs`)."""
    key = (parameters_stamp(session), ente_id, entrata_id, on, rate_table)
    rule = _RULE_CACHE.get(key)
    if rule is None:
        rule = rule_from_rows(parameter_rows(session, ente_id=ente_id, entrata_id=entrata_id), on, rate_table)
        _RULE_CACHE[key] = rule
        while len(_RULE_CACHE) > 256:
            _RULE_CACHE.popitem(last=False)
    return rule


# ---------------------------------------------------------------------------------------------------------
# The engine request of a stored position


@dataclass(frozen=True, slots=True)
class PositionFacts:
    """What of a position (besides its ledger sums) the quote needs."""

    due_date: dt.date
    notified_date: dt.date | None
    interest_booked_until: dt.date | None  # value date of the last crystallised interest
    oneri_booked: bool  # oneri di riscossione already in the ledger
    interest_stopped_on: dt.date | None = None  # a suspension stopped interest from this day (app.dynamics)
    interest_resumes_on: dt.date | None = None  # ... and its revoca restarted it from this day


def interest_start(rule: DueRule, facts: PositionFacts) -> dt.date | None:
    """The day interest runs from (it accrues from the next day), or None when none runs."""
    if rule.interest_start is None:
        return None
    anchor = facts.notified_date if rule.interest_start == "notifica" else facts.due_date
    if anchor is None:
        return None
    start = anchor + dt.timedelta(days=rule.interest_start_days)
    if facts.interest_booked_until is not None and facts.interest_booked_until > start:
        start = facts.interest_booked_until
    if facts.interest_resumes_on is not None and facts.interest_resumes_on > start:
        start = facts.interest_resumes_on
    return start


def esecutivo_since(rule: DueRule, facts: PositionFacts) -> dt.date | None:
    if rule.oneri is None or facts.oneri_booked or facts.notified_date is None:
        return None
    return facts.notified_date + dt.timedelta(days=rule.esecutivo_days)


def payload_from_totals(as_of: dt.date, facts: PositionFacts, rule: DueRule, original: Mapping[str, int],
                        payments: Mapping[dt.date, int]) -> dict[str, Any]:
    """The quote request of a position from plain values (shared by `amounts_due` and the batch, which sums
    the ledger in SQL): `original` cents by quoted component of the movements that are not payments,
    `payments` the net cents paid on each value date (positive = paid), both counting only movements with
    value date by `as_of` and a quoted component."""
    payload: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "components": {c: format_cents(max(original.get(c, 0), 0)) for c in QUOTED_COMPONENTS},
    }
    start = interest_start(rule, facts)
    stopped = facts.interest_stopped_on is not None and facts.interest_stopped_on <= as_of
    if start is not None and start < as_of and not stopped:
        payload["interest"] = {"from": start.isoformat(), "base": list(rule.base),
                               "rate_table": rule.rate_table, "surcharge_points": rule.surcharge_points,
                               "day_count": rule.day_count}
    since = esecutivo_since(rule, facts)
    if since is not None and since <= as_of:
        payload["charges"] = {"rule": rule.oneri, "esecutivo_since": since.isoformat()}
    paid = [{"date": d.isoformat(), "amount": format_cents(c)} for d, c in sorted(payments.items()) if c > 0]
    if paid:
        payload["payments"] = paid
    return payload


# ---------------------------------------------------------------------------------------------------------
# The amount due


@dataclass(slots=True)
class Due(ComponentSums):
    """The amount due of one position at `on`: the ledger by component, the interest accrued and not yet
    booked (with its segments and their legal sources), the oneri computed and not yet booked, the total."""

    position_id: int
    on: dt.date
    rule: DueRule
    components: dict[str, ComponentBalance] = field(default_factory=dict)
    interest_cents: int = 0
    oneri_cents: int = 0
    total_cents: int = 0
    interest_from: dt.date | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)
    quote: dict[str, Any] = field(default_factory=dict)  # the engine's response (formats.md §4)
    request: dict[str, Any] = field(default_factory=dict)  # what the engine was asked (formats.md §4)
    error: str | None = None  # the engine refused the quote (e.g. no rate for a period): total = ledger

    def component(self, name: str) -> ComponentBalance:
        return self.components.get(name) or ComponentBalance(name)

    @property
    def due_cents(self) -> int:  # the name the balance had: templates read `due_cents`
        return self.total_cents

    @property
    def accrued_cents(self) -> int:
        """Interest and oneri not yet booked in the ledger."""
        return self.interest_cents + self.oneri_cents


@dataclass(slots=True)
class _Ledger:
    components: dict[str, ComponentBalance] = field(default_factory=dict)
    original: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    payments: dict[dt.date, int] = field(default_factory=lambda: defaultdict(int))
    oneri_cents: int = 0
    interest_until: dt.date | None = None
    oneri_booked: bool = False


def _ledgers(session: Session, ids: list[int], on: dt.date,
             booked_by: dt.datetime | None) -> dict[int, _Ledger]:
    ledgers = {pid: _Ledger() for pid in ids}
    if not ids:
        return ledgers
    stmt = (sa.select(Movement.position_id, Movement.component, Movement.kind, Movement.value_date,
                      sa.func.sum(Movement.amount_cents))
            .where(Movement.position_id.in_(ids), Movement.value_date <= on)
            .group_by(Movement.position_id, Movement.component, Movement.kind, Movement.value_date))
    if booked_by is not None:
        stmt = stmt.where(Movement.booked_dt <= booked_by)
    for pid, component, kind, value_date, total in session.execute(stmt):
        ledger, cents = ledgers[pid], int(total)
        bal = ledger.components.setdefault(component, ComponentBalance(component))
        if kind in ORIGINAL_KINDS:
            bal.original_cents += cents
        elif kind in PAID_KINDS:
            bal.paid_cents -= cents
        elif kind in ABATED_KINDS:
            bal.abated_cents -= cents
        else:
            bal.accrued_cents += cents
        if component == "oneri":
            ledger.oneri_cents += cents
        elif component in QUOTED_COMPONENTS:
            if kind in PAYMENT_KINDS:
                ledger.payments[value_date] -= cents
            else:
                ledger.original[component] += cents
    for pid, kind, value_date in session.execute(booked_statement(ids, on, booked_by)):
        ledger = ledgers[pid]
        if kind == INTEREST_KIND:
            ledger.interest_until = value_date
        else:
            ledger.oneri_booked = True
    return ledgers


def live_booking() -> sa.ColumnElement[bool]:
    """A crystallised interest or oneri movement that counts: neither a reversal nor reversed (a payment's
    reversal takes back what it booked, `app.payments.reconcile.reverse_payments`; the engine then accrues
    again from where it did before). `batch_quotes` applies the same rule."""
    reversal = sa.orm.aliased(Movement)
    return sa.and_(Movement.kind.in_((INTEREST_KIND, ONERI_KIND)), Movement.reverses_id.is_(None),
                   ~sa.exists().where(reversal.reverses_id == Movement.id))


def booked_statement(ids: list[int], on: dt.date, booked_by: dt.datetime | None) -> sa.Select[Any]:
    """(position, kind, last value date) of the live crystallised interest and oneri of the positions."""
    reversal = sa.orm.aliased(Movement)
    reversed_by = sa.exists().where(reversal.reverses_id == Movement.id)
    if booked_by is not None:
        reversed_by = reversed_by.where(reversal.booked_dt <= booked_by)
    stmt = (sa.select(Movement.position_id, Movement.kind, sa.func.max(Movement.value_date))
            .where(Movement.position_id.in_(ids), Movement.value_date <= on,
                   Movement.kind.in_((INTEREST_KIND, ONERI_KIND)), Movement.reverses_id.is_(None),
                   ~reversed_by)
            .group_by(Movement.position_id, Movement.kind))
    if booked_by is not None:
        stmt = stmt.where(Movement.booked_dt <= booked_by)
    return stmt


def amounts_due(session: Session, positions: Sequence[Position], on: dt.date, *,
                booked_by: dt.datetime | None = None) -> dict[int, Due]:
    """The amount due at `on` of each position (already read through the scoping helper), by the entrata's
    rule; `booked_by` reads the ledger as it was booked at that moment (the card's history view)."""
    from app.positions.quotes import engine_inputs

    ledgers = _ledgers(session, [p.id for p in positions], on, booked_by)
    inputs: dict[tuple[int, int, str], tuple[DueRule, Any, Any]] = {}  # once per entrata in this call
    result: dict[int, Due] = {}
    for position in positions:
        ledger = ledgers[position.id]
        key = (position.ente_id, position.entrata_id, position.entrata.interest_rate_table)
        if key not in inputs:
            inputs[key] = (due_rule(session, on, ente_id=key[0], entrata_id=key[1], rate_table=key[2]),
                           *engine_inputs(session, on, ente_id=key[0], entrata_id=key[1]))
        rule, params, tables = inputs[key]
        facts = PositionFacts(position.due_date, position.notified_date, ledger.interest_until,
                              ledger.oneri_booked, position.interest_stopped_on, position.interest_resumes_on)
        due = Due(position.id, on, rule, components=ledger.components)
        payload = payload_from_totals(on, facts, rule, ledger.original, ledger.payments)
        due.request = payload
        try:
            quote = wire.quote_request(payload, tables, params)
        except wire.WireError as error:
            due.error = error.message_it
            due.total_cents = due.ledger_cents
            result[position.id] = due
            continue
        due.quote = quote
        due.interest_cents = cents_of(quote["interest"]["amount"])
        due.oneri_cents = cents_of(quote["charges"]["oneri_riscossione"])
        due.total_cents = cents_of(quote["total_due"]) + ledger.oneri_cents
        if "interest" in payload:
            due.interest_from = dt.date.fromisoformat(payload["interest"]["from"])
        table = tables.get(rule.rate_table)
        for segment in quote["interest"]["segments"]:
            try:  # the legal source of each segment's rate, so the screen can explain it
                day = dt.date.fromisoformat(segment["from"])
                segment["source"] = table.period_on(day).source if table else ""
            except RateMissing:
                segment["source"] = ""
            due.segments.append({**segment, "rate_fraction": Decimal(segment["rate"]).scaleb(-2)})
        result[position.id] = due
    return result


def today_rome() -> dt.date:
    """Today in Italy: the day amounts are due at by default."""
    return dt.datetime.now(ROME).date()


_TOTALS_CACHE: OrderedDict[tuple[Any, ...], int] = OrderedDict()


def total_due_cents(session: Session, principal: Principal, on: dt.date) -> int:
    """The sum of the amounts due at `on` of every position `principal` may see (the home page's total), by
    the batch quote (`batch_quotes`, the same figures as `amounts_due`), in this process. Kept per process,
    keyed by the ledger's fingerprint (append-only: its last id), the positions' last id and change and
    the parameters' fingerprint, so any new movement, edit or parameter is seen at once."""
    from app.core.history import RowVersion
    from app.positions.batch_quotes import batch_quotes

    ledger = session.execute(sa.select(
        sa.select(sa.func.coalesce(sa.func.max(Movement.id), 0)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.max(Position.id), 0)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.max(RowVersion.id), 0))
        .where(RowVersion.table_name == "positions").scalar_subquery())).one()
    key = (tuple(ledger), parameters_stamp(session), principal.role, principal.ente_ids, on)
    total = _TOTALS_CACHE.get(key)
    if total is None:
        total = sum(cents_of(due) for _, due in batch_quotes(session, principal, on, workers=0,
                                                            on_error=lambda *_: None))
        _TOTALS_CACHE[key] = total
        while len(_TOTALS_CACHE) > 64:
            _TOTALS_CACHE.popitem(last=False)
    return total


def amount_due(session: Session, position: Position, on: dt.date) -> Due:
    return amounts_due(session, [position], on)[position.id]


def cents_of(text: str) -> int:
    whole, _, frac = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac + "00")[:2]))


# ---------------------------------------------------------------------------------------------------------
# Booking what has accrued, when a payment reaches it


def accrual_lines(due: Due, amount_cents: int) -> list[tuple[str, str, int]]:
    """(component, kind, cents) to book before allocating a payment of `amount_cents` at `due.on`: the
    interest accrued and the oneri computed, when the payment reaches the ledger balance (nothing otherwise,
    nor when the engine could not quote the position)."""
    if due.error is not None or due.accrued_cents <= 0 or amount_cents < due.ledger_cents:
        return []
    lines = []
    if due.interest_cents > 0:
        lines.append(("interessi", INTEREST_KIND, due.interest_cents))
    if due.oneri_cents > 0:
        lines.append(("oneri", ONERI_KIND, due.oneri_cents))
    return lines


def accrual_source(kind: str, on: dt.date, source: str) -> str:
    label = "interessi maturati fino al" if kind == INTEREST_KIND else "oneri di riscossione al"
    return f"{label} {on:%d/%m/%Y} ({source})"[:200]


def crystallise(session: Session, position: Position, amount_cents: int, on: dt.date, *, source: str,
                user_id: int | None = None, booked_dt: dt.datetime | None = None,
                due: Due | None = None) -> list[Movement]:
    """Book the interest accrued and the oneri computed at `on` as ledger movements (value date `on`) when a
    payment of `amount_cents` reaches the ledger balance of the position: the payment can then pay them and a
    payoff takes the ledger to zero. Returns the movements booked (none: nothing to book). `due`: the
    position's amount due at `on`, when the caller already has it."""
    due = due if due is not None else amount_due(session, position, on)
    rows = [Movement(position_id=position.id, component=component, kind=kind, amount_cents=cents,
                     value_date=on, user_id=user_id, source=accrual_source(kind, on, source))
            for component, kind, cents in accrual_lines(due, amount_cents)]
    for row in rows:
        if booked_dt is not None:
            row.booked_dt = booked_dt
    if rows:
        session.add_all(rows)
        session.flush()
    return rows


def crystallise_for_payment(session: Session, position: Position, amount_cents: int, on: dt.date, *,
                            source: str, user_id: int | None = None,
                            booked_dt: dt.datetime | None = None) -> int:
    """`crystallise`, returning the cents booked (0: nothing to book)."""
    rows = crystallise(session, position, amount_cents, on, source=source, user_id=user_id,
                       booked_dt=booked_dt)
    return sum(row.amount_cents for row in rows)


def amounts_due_by_id(session: Session, position_ids: Sequence[int], on: dt.date) -> dict[int, Due]:
    """`amounts_due` of positions known by id (ids read through the scoping helper, e.g. a list's page)."""
    ids = list(dict.fromkeys(position_ids))
    if not ids:
        return {}
    positions = list(session.scalars(
        sa.select(Position).where(Position.id.in_(ids)).options(joinedload(Position.entrata))))
    return amounts_due(session, positions, on)


def with_amount_due(session: Session, rows: Iterable[dict[str, Any]], on: dt.date, *,
                    chunk: int = 500) -> Iterator[dict[str, Any]]:
    """List/export rows (`id`, `due_cents` of `queries.position_rows_stmt`) with `due_cents` replaced by the
    amount due at `on`, computed `chunk` rows at a time (exports stream)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            yield from _with_due(session, batch, on)
            batch = []
    if batch:
        yield from _with_due(session, batch, on)


def _with_due(session: Session, rows: list[dict[str, Any]], on: dt.date) -> list[dict[str, Any]]:
    dues = amounts_due_by_id(session, [r["id"] for r in rows], on)
    return [{**r, "due_cents": dues[r["id"]].total_cents} for r in rows]
