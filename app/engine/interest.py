"""Simple interest over a period split at every rate change (formats.md §4, domain.md §1).

Rules (each number is an input):
- interest accrues from the day after `start` through `as_of` inclusive; a segment's `from_day` is its first
  accruing day;
- the period is split at every change of the rate table, at every change of the base (a payment reduces the
  base from the day after the payment) and, with ACT/ACT, at every 1 January;
- segment interest = base x (rate + surcharge points) / 100 x days / 365 (ACT/365, also in leap years) or
  / 366 for days in a leap year (ACT/ACT);
- segment amounts stay unrounded (exact fractions); the total is rounded half-up to the cent once; shown
  segment amounts are each rounded half-up, so they may differ from the total by a cent.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from app.engine.errors import InvalidAmount, InvalidPeriod
from app.engine.rates import RateTable, rate_index
from app.engine.rounding import round_half_up_cent

ONE_DAY = timedelta(days=1)
_DISPLAY_CONTEXT = Context(prec=40)
# Rate + surcharge points is an exact sum, whatever the global Decimal context says (style.md B.7).
_EXACT_CONTEXT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact])


def segment_rate(table_rate: Decimal, surcharge_points: Decimal) -> Decimal:
    """The annual rate of a segment: the table's rate plus the surcharge points, added exactly."""
    return _EXACT_CONTEXT.add(table_rate, surcharge_points)


class DayCount(StrEnum):
    ACT_365 = "ACT/365"
    ACT_ACT = "ACT/ACT"


@dataclass(frozen=True, slots=True)
class BaseReduction:
    """A payment allocated to the interest base: the base is lower from the day after `paid_on`."""

    paid_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InterestSegment:
    from_day: date
    to_day: date
    days: int
    rate: Decimal  # annual percent, surcharge points included
    base: Decimal
    year_days: int  # the divisor: 365, or 366 for a leap year under ACT/ACT
    source: str

    @property
    def exact(self) -> Fraction:
        """The unrounded interest, exactly."""
        return Fraction(self.base) * Fraction(self.rate) * self.days / (100 * self.year_days)

    @property
    def unrounded(self) -> Decimal:
        """The unrounded interest as a Decimal with 40 significant digits (for display and audit)."""
        exact = self.exact
        return _DISPLAY_CONTEXT.divide(Decimal(exact.numerator), Decimal(exact.denominator))

    @property
    def amount(self) -> Decimal:
        """The shown amount of the segment, rounded half-up to the cent."""
        return round_half_up_cent(self.exact)


@dataclass(frozen=True, slots=True)
class InterestResult:
    start: date
    as_of: date
    segments: tuple[InterestSegment, ...]

    @property
    def exact_total(self) -> Fraction:
        return sum((s.exact for s in self.segments), Fraction(0))

    @property
    def unrounded_total(self) -> Decimal:
        exact = self.exact_total
        return _DISPLAY_CONTEXT.divide(Decimal(exact.numerator), Decimal(exact.denominator))

    @property
    def amount(self) -> Decimal:
        """The total interest, rounded half-up to the cent once, on the exact sum of the segments."""
        return round_half_up_cent(self.exact_total)


def _year_days(day: date, day_count: DayCount) -> int:
    if day_count is DayCount.ACT_ACT and calendar.isleap(day.year):
        return 366
    return 365


def compute_interest(
    base: Decimal,
    start: date,
    as_of: date,
    table: RateTable,
    *,
    surcharge_points: Decimal = Decimal(0),
    day_count: DayCount = DayCount.ACT_365,
    reductions: Sequence[BaseReduction] = (),
) -> InterestResult:
    """Interest on `base` from the day after `start` through `as_of`, at `table`'s rate plus
    `surcharge_points`.

    `reductions` lower the base from the day after each payment. Raises InvalidPeriod when `as_of` < `start`,
    RateMissing when the table has no rate for a day, InvalidAmount when the base would become negative.
    """
    day_count = DayCount(day_count)
    if as_of < start:
        raise InvalidPeriod(start, as_of)
    if base < 0:
        raise InvalidAmount(base, "la base degli interessi non può essere negativa")
    first = start + ONE_DAY
    if as_of < first:
        return InterestResult(start, as_of, ())

    boundaries: set[date] = set(table.changes_between(first, as_of))
    for reduction in reductions:
        effective = reduction.paid_on + ONE_DAY
        if first < effective <= as_of:
            boundaries.add(effective)
    if day_count is DayCount.ACT_ACT:
        boundaries.update(date(y, 1, 1) for y in range(first.year + 1, as_of.year + 1))

    starts = [first, *sorted(boundaries)]
    segments = []
    for index, seg_from in enumerate(starts):
        seg_to = starts[index + 1] - ONE_DAY if index + 1 < len(starts) else as_of
        seg_base = base - sum((r.amount for r in reductions if r.paid_on + ONE_DAY <= seg_from), Decimal(0))
        if seg_base < 0:
            raise InvalidAmount(seg_base, f"i pagamenti riducono la base sotto zero dal {seg_from}")
        period = table.period_on(seg_from)
        segments.append(
            InterestSegment(
                from_day=seg_from,
                to_day=seg_to,
                days=(seg_to - seg_from).days + 1,
                rate=segment_rate(period.rate, surcharge_points),
                base=seg_base,
                year_days=_year_days(seg_from, day_count),
                source=period.source,
            )
        )
    return InterestResult(start, as_of, tuple(segments))


# ---------------------------------------------------------------------------------------------------------
# The integer fast path (used by the wire functions for volume; `compute_interest` above is the reference)

# One segment as plain values: (from_day, to_day, days, rate, base_cents, numerator, denominator); the exact
# unrounded interest of the segment is numerator / denominator CENTS.
SegmentTerms = tuple[date, date, int, Decimal, int, int, int]


def interest_terms(
    base_cents: int,
    start: date,
    as_of: date,
    table: RateTable,
    surcharge_points: Decimal,
    day_count: DayCount,
    reductions: Sequence[tuple[date, int]] = (),
) -> list[SegmentTerms] | None:
    """`compute_interest` in integers: the same segments, each with its exact interest as a ratio of
    integers in cents, so that no Fraction or Decimal arithmetic is needed per segment.

    `reductions` are (paid_on, cents) pairs. Returns None wherever `compute_interest` raises (the caller
    then calls it to get the error). Why it is the same number: a segment's interest in euro is
    base x rate x days / (100 x year_days) with base = base_cents / 100 and rate = rn / rd exactly
    (`Decimal.as_integer_ratio`), so in cents it is base_cents x rn x days / (rd x 100 x year_days) — no
    rounding anywhere; rounding happens once, on the exact sum (`half_up_div`). Segment boundaries come from
    the same rules (rate changes in (first, as_of], the day after each payment, 1 January under ACT/ACT)
    and rates are looked up with RateIndex, which answers as `RateTable.period_on` does.
    """
    if as_of < start or base_cents < 0:
        return None
    first = start + ONE_DAY
    if as_of < first:
        return []
    index = rate_index(table)
    changes = index.changes_between(first, as_of)
    act_act = day_count is DayCount.ACT_ACT
    effective = sorted((paid_on + ONE_DAY, amount) for paid_on, amount in reductions) if reductions else ()
    if effective or act_act:
        boundaries = set(changes)
        for day, _ in effective:
            if first < day <= as_of:
                boundaries.add(day)
        if act_act:
            boundaries.update(date(y, 1, 1) for y in range(first.year + 1, as_of.year + 1))
        starts = [first, *sorted(boundaries)]
    else:
        starts = [first, *changes]
    terms: list[SegmentTerms] = []
    seg_base = base_cents
    applied, pending = 0, len(effective)
    last = len(starts) - 1
    for i, seg_from in enumerate(starts):
        while applied < pending and effective[applied][0] <= seg_from:
            seg_base -= effective[applied][1]
            applied += 1
        if seg_base < 0:
            return None
        period = index.period_at(seg_from)
        if period is None:
            return None
        seg_to = starts[i + 1] - ONE_DAY if i < last else as_of
        days = (seg_to - seg_from).days + 1
        rate = segment_rate(period.rate, surcharge_points)
        rate_num, rate_den = rate.as_integer_ratio()
        year_days = 366 if act_act and calendar.isleap(seg_from.year) else 365
        terms.append(
            (seg_from, seg_to, days, rate, seg_base, seg_base * rate_num * days, rate_den * 100 * year_days)
        )
    return terms


def terms_total(terms: Sequence[SegmentTerms]) -> tuple[int, int]:
    """The exact sum of the segments' interest, in cents, as (numerator, denominator > 0)."""
    total, denominator = 0, 1
    for *_, numerator, den in terms:
        total, denominator = add_ratio(total, denominator, numerator, den)
    return total, denominator


def add_ratio(numerator: int, denominator: int, other: int, other_denominator: int) -> tuple[int, int]:
    """numerator/denominator + other/other_denominator (denominators > 0), exactly, over their lcm."""
    if denominator % other_denominator == 0:
        return numerator + other * (denominator // other_denominator), denominator
    common = math.lcm(denominator, other_denominator)
    return numerator * (common // denominator) + other * (common // other_denominator), common


_FACTORS_MAX = 8192


def accrual_factor(
    table: RateTable, first: date, last: date, surcharge_points: Decimal, day_count: DayCount
) -> tuple[int, int] | None:
    """The interest, in cents, of ONE cent of base kept from `first` through `last` (both accruing days):
    the sum over those days of rate / (100 x year_days), rate = the table's rate on the day + points, as an
    exact ratio (numerator, denominator > 0). None when a day has no rate (where compute_interest raises
    RateMissing). Memoized per table: a batch asks for the same few periods again and again.

    Interest is linear in the base, day by day, so `compute_interest` with base B and reductions r_k (each
    lowering the base from day e_k) equals B x factor(first, as_of) - sum r_k x factor(max(e_k, first),
    as_of), exactly; test_fast_paths.py proves it against compute_interest.
    """
    index = rate_index(table)
    key = (first, last, surcharge_points, day_count)
    memo = index.factors
    if key in memo:
        return memo[key]
    if len(memo) >= _FACTORS_MAX:
        memo.clear()
    factor: tuple[int, int] | None = None
    if first <= last:
        changes = index.changes_between(first, last)
        act_act = day_count is DayCount.ACT_ACT
        if act_act:
            new_years = (date(y, 1, 1) for y in range(first.year + 1, last.year + 1))
            starts = [first, *sorted({*changes, *new_years})]
        else:
            starts = [first, *changes]
        total, denominator = 0, 1
        final = len(starts) - 1
        for i, seg_from in enumerate(starts):
            period = index.period_at(seg_from)
            if period is None:
                break
            seg_to = starts[i + 1] - ONE_DAY if i < final else last
            rate_num, rate_den = segment_rate(period.rate, surcharge_points).as_integer_ratio()
            den = rate_den * 100 * (366 if act_act and calendar.isleap(seg_from.year) else 365)
            total, denominator = add_ratio(total, denominator, rate_num * ((seg_to - seg_from).days + 1), den)
        else:
            factor = (total, denominator)
    else:
        factor = (0, 1)
    memo[key] = factor
    return factor
