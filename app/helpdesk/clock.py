"""The SLA clock of the help desk: business minutes on a calendar. Pure: no clock, no database, no Flask.

Rules (the contract measures service levels in *business* minutes, R-D2):
- a business calendar is the office hours of each weekday (local time, Europe/Rome: intervals such as
  09:00-13:00 and 14:00-18:00) minus closed days (Italian national holidays and the local ones, given as a
  function `is_closed(day)` built by the caller from the `holidays` package and the parameter rows);
- `business_minutes(cal, a, b)` counts the seconds of [a, b) that fall inside office hours, in whole minutes
  (rounded down): a weekend, a holiday or a night counts nothing;
- a pause (the ticket waits for someone else: `in_attesa`, `trasferito`, or it is resolved) is an interval
  [start, end) (end None: still paused); business minutes inside a pause do not count (`elapsed`);
- `deadline(cal, start, n, pauses)` is the instant the n-th business minute after `start` ends, pushed on by
  the pauses met on the way; None while a pause that began before that instant is still open;
- a target is met up to its deadline included: at the deadline itself nothing is late; `minutes_late` is the
  business minutes from the deadline to the given instant (the breach is recorded from the first one).

Instants are timezone-aware; arithmetic is done in UTC, so a change of daylight saving time never adds or
loses an hour of office time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
MAX_DAYS = 3660  # ten years of calendar: a deadline further away is a configuration error

Interval = tuple[dt.time, dt.time]
Pause = tuple[dt.datetime, dt.datetime | None]


def _never_closed(day: dt.date) -> bool:
    return False


@dataclass(frozen=True)
class BusinessCalendar:
    """Office hours per weekday (0 = Monday), and the days the desk is closed."""

    hours: Mapping[int, Sequence[Interval]]
    is_closed: Callable[[dt.date], bool] = field(default=_never_closed)
    tz: dt.tzinfo = ROME

    def __post_init__(self) -> None:
        for weekday, intervals in self.hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday {weekday} out of 0..6")
            for opens, closes in intervals:
                if not opens < closes:
                    raise ValueError(f"office hours {opens}-{closes}: the opening must precede the closing")

    def open_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's office hours as UTC instants (none on a closed day)."""
        if self.is_closed(day):
            return []
        out = []
        for opens, closes in sorted(self.hours.get(day.weekday(), ())):
            start = dt.datetime.combine(day, opens, tzinfo=self.tz).astimezone(dt.UTC)
            end = dt.datetime.combine(day, closes, tzinfo=self.tz).astimezone(dt.UTC)
            out.append((start, end))
        return out

    def local_day(self, instant: dt.datetime) -> dt.date:
        return _aware(instant).astimezone(self.tz).date()


def _aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: the clock needs timezone-aware instants")
    return instant.astimezone(dt.UTC)


def _business_seconds(cal: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> int:
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0
    total = 0
    day, last = cal.local_day(start), cal.local_day(end)
    if (last - day).days > MAX_DAYS:
        raise ValueError("interval longer than the calendar's limit")
    while day <= last:
        for opens, closes in cal.open_intervals(day):
            a, b = max(opens, start), min(closes, end)
            if b > a:
                total += int((b - a).total_seconds())
        day += dt.timedelta(days=1)
    return total


def business_minutes(cal: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> int:
    """Whole business minutes in [start, end) (0 when end <= start)."""
    return _business_seconds(cal, start, end) // 60


def add_business_minutes(cal: BusinessCalendar, start: dt.datetime, minutes: int) -> dt.datetime:
    """The instant at which `minutes` business minutes after `start` have passed."""
    if minutes < 0:
        raise ValueError("minutes must be >= 0")
    return _add_seconds(cal, start, minutes * 60)


def _add_seconds(cal: BusinessCalendar, start: dt.datetime, seconds: int) -> dt.datetime:
    cursor = _aware(start)
    remaining = dt.timedelta(seconds=seconds)
    if not remaining:
        return cursor
    day = cal.local_day(cursor)
    for _ in range(MAX_DAYS):
        for opens, closes in cal.open_intervals(day):
            a = max(opens, cursor)
            if closes <= a:
                continue
            available = closes - a
            if remaining <= available:
                return a + remaining
            remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("no office hours within the calendar's limit: check the business hours")


def _clipped(
    pauses: Iterable[Pause], start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The pauses inside [start, end), merged where they overlap, in order."""
    spans = sorted((max(_aware(a), start), min(_aware(b) if b else end, end)) for a, b in pauses)
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in spans:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def elapsed(cal: BusinessCalendar, start: dt.datetime, end: dt.datetime, pauses: Iterable[Pause] = ()) -> int:
    """Business minutes of [start, end) outside the pauses."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0
    paused = sum(_business_seconds(cal, a, b) for a, b in _clipped(pauses, start, end))
    return (_business_seconds(cal, start, end) - paused) // 60


def deadline(
    cal: BusinessCalendar, start: dt.datetime, minutes: int, pauses: Iterable[Pause] = ()
) -> dt.datetime | None:
    """When the target of `minutes` business minutes from `start` runs out, the pauses met on the way added;
    None when a pause that began before then has not ended yet (the clock is stopped)."""
    start = _aware(start)
    cursor, remaining = start, minutes * 60
    for a, b in sorted(((_aware(a), _aware(b) if b else None) for a, b in pauses), key=lambda p: p[0]):
        if b is not None and b <= cursor:
            continue
        a = max(a, cursor)
        running = _business_seconds(cal, cursor, a)
        if running >= remaining:
            break
        remaining -= running
        if b is None:
            return None
        cursor = b
    return _add_seconds(cal, cursor, remaining)


def minutes_late(cal: BusinessCalendar, due: dt.datetime | None, at: dt.datetime) -> int:
    """Business minutes past the deadline at `at` (0 up to the deadline included, or with no deadline)."""
    if due is None:
        return 0
    return business_minutes(cal, due, at)


def standard_calendar(
    hours: Mapping[int, Sequence[Interval]],
    local_holidays: Iterable[dt.date],
    national: Callable[[dt.date], bool],
) -> BusinessCalendar:
    """Office hours, closed on the national holidays (`national`: the `holidays` package) and local ones."""
    local = frozenset(local_holidays)

    def closed(day: dt.date) -> bool:
        return day in local or national(day)

    return BusinessCalendar(hours=dict(hours), is_closed=closed)
