"""Italian national holidays (the `holidays` package, kept current by its maintainers)
for the engine's terms."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _italian_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("IT", years=year))


def is_italian_holiday(day: dt.date) -> bool:
    """A national public holiday in Italy (local patron saints are not national)."""
    return day in _italian_holidays(day.year)
