"""Interest rate tables as data with validity ranges (domain.md §1, §2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.engine.errors import InvalidRateTable, RateMissing

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """An annual rate in percent (`Decimal("2.5")` is 2.5%) valid from `valid_from` to `valid_to` inclusive.

    `valid_to` None means open-ended. `source` names the decree and where it was found.
    """

    valid_from: date
    valid_to: date | None
    rate: Decimal
    source: str
    confirmed: bool = True

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class RateTable:
    """The periods of one rate (e.g. `legale`), sorted, never overlapping; only the last may be open-ended."""

    code: str
    periods: tuple[RatePeriod, ...]

    def __post_init__(self) -> None:
        periods = tuple(sorted(self.periods, key=lambda p: p.valid_from))
        object.__setattr__(self, "periods", periods)
        if not periods:
            raise InvalidRateTable(self.code, "nessun periodo")
        for period in periods:
            if not isinstance(period.rate, Decimal):
                raise InvalidRateTable(self.code, f"il tasso dal {period.valid_from} non è un Decimal")
            if period.valid_to is not None and period.valid_to < period.valid_from:
                raise InvalidRateTable(self.code, f"periodo dal {period.valid_from}: fine prima dell'inizio")
        for earlier, later in zip(periods, periods[1:], strict=False):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                raise InvalidRateTable(
                    self.code, f"i periodi dal {earlier.valid_from} e dal {later.valid_from} si sovrappongono"
                )

    @classmethod
    def of(cls, code: str, periods: Iterable[RatePeriod]) -> RateTable:
        return cls(code, tuple(periods))

    def period_on(self, day: date) -> RatePeriod:
        """The period in force on `day`; raises RateMissing when none is."""
        for period in self.periods:
            if period.covers(day):
                return period
        raise RateMissing(self.code, day)

    def rate_on(self, day: date) -> Decimal:
        """The annual rate in percent in force on `day`; raises RateMissing when none is."""
        return self.period_on(day).rate

    def changes_between(self, start: date, end: date) -> tuple[date, ...]:
        """The days d (start < d <= end) on which the table changes: a period begins or one has ended.

        A change where no period follows (a gap) is a day on which `period_on` raises RateMissing.
        """
        days: set[date] = set()
        for period in self.periods:
            days.add(period.valid_from)
            if period.valid_to is not None:
                days.add(period.valid_to + ONE_DAY)
        return tuple(sorted(d for d in days if start < d <= end))
