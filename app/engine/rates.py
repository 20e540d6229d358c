"""Interest rate tables as data with validity ranges (domain.md §1, §2)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from app.engine.errors import InvalidRateTable, RateMissing

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """An annual rate in percent (`Decimal("2.5")` is 2.5%) valid from `valid_from` to `valid_to` inclusive.

    `valid_to` None means open-ended. `source` is the legal act that set the rate (a citation, e.g. "D.M. 13
    dicembre 2021 (G.U. n. 297 del 15/12/2021)"); `verified` tells whether an administrator checked the row
    against the official publication.
    """

    valid_from: date
    valid_to: date | None
    rate: Decimal
    source: str
    verified: bool = False

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


@dataclass(frozen=True, slots=True)
class RateIndex:
    """Lookup structures of one RateTable, built once per table (a table is immutable): the sorted start
    and end days of its periods and the sorted days on which it changes. Answers exactly what
    `RateTable.period_on` and `RateTable.changes_between` answer, by bisection instead of a scan."""

    table: RateTable
    starts: tuple[date, ...]
    ends: tuple[date | None, ...]
    changes: tuple[date, ...]
    # memo of app.engine.interest.accrual_factor for this table: (first, last, points, day count) -> ratio
    factors: dict[tuple[object, ...], tuple[int, int] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, table: RateTable) -> RateIndex:
        days: set[date] = set()
        for period in table.periods:
            days.add(period.valid_from)
            if period.valid_to is not None:
                days.add(period.valid_to + ONE_DAY)
        return cls(
            table,
            tuple(p.valid_from for p in table.periods),
            tuple(p.valid_to for p in table.periods),
            tuple(sorted(days)),
        )

    def period_at(self, day: date) -> RatePeriod | None:
        """The period in force on `day`, or None (where `period_on` raises RateMissing).

        Periods are sorted and never overlap, so the only candidate is the last one starting by `day`.
        """
        i = bisect_right(self.starts, day) - 1
        if i < 0:
            return None
        end = self.ends[i]
        if end is not None and day > end:
            return None
        return self.table.periods[i]

    def changes_between(self, start: date, end: date) -> tuple[date, ...]:
        """The days d with start < d <= end on which the table changes, sorted."""
        changes = self.changes
        return changes[bisect_right(changes, start) : bisect_right(changes, end)]


_INDEXES: dict[int, RateIndex] = {}
_INDEXES_MAX = 64


def rate_index(table: RateTable) -> RateIndex:
    """The RateIndex of `table`, cached by identity (the cache keeps the table alive, so an id is never
    reused while its entry exists; the cache is emptied when it grows past a few dozen tables)."""
    index = _INDEXES.get(id(table))
    if index is None or index.table is not table:
        if len(_INDEXES) >= _INDEXES_MAX:
            _INDEXES.clear()
        index = RateIndex.of(table)
        _INDEXES[id(table)] = index
    return index
