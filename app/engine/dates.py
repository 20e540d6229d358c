"""Calendar arithmetic used by the legal terms (art. 2963 c.c.)."""

from __future__ import annotations

import calendar
from datetime import date


def last_day_of_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """The same day `months` later, or that month's last day when it is shorter (art. 2963 c. 4 c.c.).

    `anchor_day` (default: `day.day`) keeps a series anchored: from 31 January, +1 → 28/29 February and
    +2 → 31 March, never drifting to the 28th.
    """
    anchor = anchor_day if anchor_day is not None else day.day
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor, last_day_of_month(year, month)))


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)
