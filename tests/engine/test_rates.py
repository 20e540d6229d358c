from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.engine.errors import InvalidRateTable, RateMissing
from app.engine.rates import RatePeriod, RateTable

from .support import defaults, rate_tables


def table(*rows: tuple[date, date | None, str]) -> RateTable:
    return RateTable("t", tuple(RatePeriod(a, b, Decimal(r), f"src {r}") for a, b, r in rows))


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        pytest.param(date(1985, 6, 1), "5", id="before-1990"),
        pytest.param(date(1990, 12, 15), "5", id="1990-12-15"),
        pytest.param(date(1990, 12, 16), "10", id="1990-12-16"),
        pytest.param(date(1997, 3, 1), "5", id="1997"),
        pytest.param(date(2000, 12, 31), "2.5", id="2000"),
        pytest.param(date(2001, 6, 1), "3.5", id="2001"),
        pytest.param(date(2003, 1, 1), "3", id="2003"),
        pytest.param(date(2006, 1, 1), "2.5", id="2006"),
        pytest.param(date(2009, 12, 31), "3", id="2009"),
        pytest.param(date(2013, 12, 31), "2.5", id="2013"),
        pytest.param(date(2020, 2, 29), "0.05", id="2020"),
        pytest.param(date(2021, 7, 1), "0.01", id="2021"),
        pytest.param(date(2022, 1, 1), "1.25", id="2022"),
        pytest.param(date(2023, 7, 1), "5", id="2023"),
        pytest.param(date(2024, 2, 29), "2.5", id="2024"),
        pytest.param(date(2025, 12, 31), "2", id="2025"),
        pytest.param(date(2026, 1, 1), "1.6", id="2026"),
        pytest.param(date(2031, 1, 1), "1.6", id="open-ended"),
    ],
)
def test_legal_rate_table_of_the_defaults(day: date, rate: str) -> None:
    assert rate_tables()["legale"].rate_on(day) == Decimal(rate)


@pytest.mark.parametrize("code", ["legale", "mora_dpr602_art30", "dilazione_dpr602_art21"])
def test_default_rate_tables_are_contiguous_and_open_ended(code: str) -> None:
    periods = rate_tables()[code].periods
    for earlier, later in zip(periods, periods[1:], strict=False):
        assert earlier.valid_to is not None and earlier.valid_to + timedelta(days=1) == later.valid_from
    assert periods[-1].valid_to is None
    for row in defaults().RATE_TABLES[code]["periods"]:
        assert row["source"] and row["note"]


def test_rate_missing_names_the_day_and_table() -> None:
    with pytest.raises(RateMissing) as error:
        rate_tables()["legale"].rate_on(date(1900, 1, 1))
    assert error.value.day == date(1900, 1, 1)
    assert error.value.message_it == "Tabella dei tassi 'legale': nessun tasso in vigore il 01/01/1900"


def test_changes_between_lists_the_first_days_of_new_periods() -> None:
    legale = rate_tables()["legale"]
    assert legale.changes_between(date(2023, 7, 1), date(2025, 6, 30)) == (date(2024, 1, 1), date(2025, 1, 1))
    assert legale.changes_between(date(2023, 12, 31), date(2024, 1, 1)) == (date(2024, 1, 1),)
    assert legale.changes_between(date(2024, 1, 1), date(2024, 12, 31)) == ()


def test_a_gap_is_a_change_and_raises_rate_missing() -> None:
    gappy = table((date(2020, 1, 1), date(2020, 12, 31), "1"), (date(2021, 2, 1), None, "2"))
    assert gappy.changes_between(date(2020, 6, 1), date(2021, 6, 1)) == (date(2021, 1, 1), date(2021, 2, 1))
    with pytest.raises(RateMissing):
        gappy.period_on(date(2021, 1, 15))


def test_overlapping_or_inverted_periods_are_refused() -> None:
    with pytest.raises(InvalidRateTable):
        table((date(2020, 1, 1), date(2020, 12, 31), "1"), (date(2020, 12, 31), None, "2"))
    with pytest.raises(InvalidRateTable):
        table((date(2020, 1, 1), None, "1"), (date(2021, 1, 1), None, "2"))
    with pytest.raises(InvalidRateTable):
        table((date(2020, 1, 2), date(2020, 1, 1), "1"))
    with pytest.raises(InvalidRateTable):
        RateTable("empty", ())
