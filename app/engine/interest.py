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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal
from enum import StrEnum
from fractions import Fraction

from app.engine.errors import InvalidAmount, InvalidPeriod
from app.engine.rates import RateTable
from app.engine.rounding import round_half_up_cent

ONE_DAY = timedelta(days=1)
_DISPLAY_CONTEXT = Context(prec=40)


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
                rate=period.rate + surcharge_points,
                base=seg_base,
                year_days=_year_days(seg_from, day_count),
                source=period.source,
            )
        )
    return InterestResult(start, as_of, tuple(segments))
