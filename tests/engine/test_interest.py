"""Worked interest examples. Each expected value is computed by hand in the comment next to it:
segment interest = base x rate/100 x days / divisor, kept unrounded; total rounded half-up once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.engine.errors import InvalidPeriod, RateMissing
from app.engine.interest import BaseReduction, DayCount, compute_interest
from app.engine.rates import RatePeriod, RateTable

# The legal rate 2022-2026 (domain.md §1), written out so the examples do not depend on the seeded defaults.
LEGALE = RateTable(
    "legale",
    (
        RatePeriod(date(2012, 1, 1), date(2013, 12, 31), Decimal("2.5"), "DM 12/12/2011"),
        RatePeriod(date(2014, 1, 1), date(2021, 12, 31), Decimal("0.5"), "filler"),
        RatePeriod(date(2022, 1, 1), date(2022, 12, 31), Decimal("1.25"), "DM 13/12/2021"),
        RatePeriod(date(2023, 1, 1), date(2023, 12, 31), Decimal("5"), "DM 13/12/2022"),
        RatePeriod(date(2024, 1, 1), date(2024, 12, 31), Decimal("2.5"), "DM 29/11/2023"),
        RatePeriod(date(2025, 1, 1), date(2025, 12, 31), Decimal("2"), "DM 10/12/2024"),
        RatePeriod(date(2026, 1, 1), None, Decimal("1.6"), "DM 10/12/2025"),
    ),
)

D = Decimal


def rows(result) -> list[tuple[str, str, int, str, str, str]]:
    return [
        (s.from_day.isoformat(), s.to_day.isoformat(), s.days, str(s.rate), str(s.base), str(s.amount))
        for s in result.segments
    ]


def test_formats_example_act_365() -> None:
    # 2023-07-02..2023-12-31: 183 d x 5%   : 1000 x 5 x 183 / 36500   = 25.068493 → shown 25.07
    # 2024-01-01..2024-12-31: 366 d x 2.5% : 1000 x 2.5 x 366 / 36500 = 25.068493 → 25.07 (ACT/365: /365)
    # 2025-01-01..2025-06-30: 181 d x 2%   : 1000 x 2 x 181 / 36500   =  9.917808 → shown  9.92
    # total exact 2192000 / 36500 = 60.054795 → 60.05 (the shown segments add up to 60.06)
    result = compute_interest(D("1000.00"), date(2023, 7, 1), date(2025, 6, 30), LEGALE)
    assert rows(result) == [
        ("2023-07-02", "2023-12-31", 183, "5", "1000.00", "25.07"),
        ("2024-01-01", "2024-12-31", 366, "2.5", "1000.00", "25.07"),
        ("2025-01-01", "2025-06-30", 181, "2", "1000.00", "9.92"),
    ]
    assert result.amount == D("60.05")
    assert [s.source for s in result.segments] == ["DM 13/12/2022", "DM 29/11/2023", "DM 10/12/2024"]
    assert str(result.segments[0].unrounded).startswith("25.06849315068493150684")


def test_formats_example_act_act() -> None:
    # 2023: 1000 x 5 x 183 / 36500 = 25.068493; 2024 (leap): 1000 x 2.5 x 366 / 36600 = 25.000000;
    # 2025: 1000 x 2 x 181 / 36500 = 9.917808; total 59.986301 → 59.99
    result = compute_interest(
        D("1000.00"), date(2023, 7, 1), date(2025, 6, 30), LEGALE, day_count=DayCount.ACT_ACT
    )
    assert [s.amount for s in result.segments] == [D("25.07"), D("25.00"), D("9.92")]
    assert [s.year_days for s in result.segments] == [365, 366, 365]
    assert result.amount == D("59.99")


@pytest.mark.parametrize(
    ("day_count", "amounts", "total"),
    [
        # 10000 from 2021-12-31 to 2026-03-31:
        # 2022 365 d x 1.25%: 10000 x 1.25 x 365/36500 = 125.00
        # 2023 365 d x 5%   : 500.00
        # 2024 366 d x 2.5% : 10000 x 2.5 x 366/36500 = 250.684932 → 250.68 (ACT/ACT: /36600 = 250.00)
        # 2025 365 d x 2%   : 200.00
        # 2026 90 d (31+28+31) x 1.6%: 10000 x 1.6 x 90/36500 = 39.452055 → 39.45
        # ACT/365 total 1115.136987 → 1115.14; ACT/ACT total 1114.452055 → 1114.45
        pytest.param(
            DayCount.ACT_365, ["125.00", "500.00", "250.68", "200.00", "39.45"], "1115.14", id="act365"
        ),
        pytest.param(
            DayCount.ACT_ACT, ["125.00", "500.00", "250.00", "200.00", "39.45"], "1114.45", id="actact"
        ),
    ],
)
def test_interest_across_the_2022_2026_rate_changes(
    day_count: DayCount, amounts: list[str], total: str
) -> None:
    result = compute_interest(
        D("10000.00"), date(2021, 12, 31), date(2026, 3, 31), LEGALE, day_count=day_count
    )
    assert [s.days for s in result.segments] == [365, 365, 366, 365, 90]
    assert [s.rate for s in result.segments] == [D("1.25"), D("5"), D("2.5"), D("2"), D("1.6")]
    assert [s.amount for s in result.segments] == [D(a) for a in amounts]
    assert result.amount == D(total)


def test_a_leap_year_under_both_day_counts() -> None:
    # 36600 over the whole of 2024 at 2.5%: ACT/ACT 36600 x 2.5 x 366/36600 = 915.00;
    # ACT/365 36600 x 2.5 x 366/36500 = 917.506849 → 917.51
    start, end = date(2023, 12, 31), date(2024, 12, 31)
    assert compute_interest(D("36600.00"), start, end, LEGALE, day_count=DayCount.ACT_ACT).amount == D(
        "915.00"
    )
    assert compute_interest(D("36600.00"), start, end, LEGALE).amount == D("917.51")


def test_act_act_splits_at_new_year_even_without_a_rate_change() -> None:
    # 2.5% for 2012-2013. ACT/ACT: 2012-12-31 (1 d, /366): 36600 x 2.5 x 1/36600 = 2.50;
    # 2013-01-01..02 (2 d, /365): 36600 x 2.5 x 2/36500 = 5.013699 → 5.01; total 7.513699 → 7.51.
    # ACT/365: one segment of 3 days: 36600 x 2.5 x 3/36500 = 7.520548 → 7.52
    start, end = date(2012, 12, 30), date(2013, 1, 2)
    act_act = compute_interest(D("36600.00"), start, end, LEGALE, day_count=DayCount.ACT_ACT)
    assert rows(act_act) == [
        ("2012-12-31", "2012-12-31", 1, "2.5", "36600.00", "2.50"),
        ("2013-01-01", "2013-01-02", 2, "2.5", "36600.00", "5.01"),
    ]
    assert act_act.amount == D("7.51")
    act_365 = compute_interest(D("36600.00"), start, end, LEGALE)
    assert rows(act_365) == [("2012-12-31", "2013-01-02", 3, "2.5", "36600.00", "7.52")]


def test_a_payment_in_the_middle_lowers_the_base_from_the_next_day() -> None:
    # 1000 from 2023-07-01 to 2025-06-30; 400 of capital paid on 2024-03-15:
    # 2023-07-02..12-31 183 d x 5%   x 1000 = 915000/36500 = 25.068493 → 25.07
    # 2024-01-01..03-15  75 d x 2.5% x 1000 (31+29+15)     = 187500/36500 =  5.136986 →  5.14
    # 2024-03-16..12-31 291 d x 2.5% x 600                 = 436500/36500 = 11.958904 → 11.96
    # 2025-01-01..06-30 181 d x 2%   x 600                 = 217200/36500 =  5.950685 →  5.95
    # total 1756200/36500 = 48.115068 → 48.12
    result = compute_interest(
        D("1000.00"),
        date(2023, 7, 1),
        date(2025, 6, 30),
        LEGALE,
        reductions=[BaseReduction(date(2024, 3, 15), D("400.00"))],
    )
    assert rows(result) == [
        ("2023-07-02", "2023-12-31", 183, "5", "1000.00", "25.07"),
        ("2024-01-01", "2024-03-15", 75, "2.5", "1000.00", "5.14"),
        ("2024-03-16", "2024-12-31", 291, "2.5", "600.00", "11.96"),
        ("2025-01-01", "2025-06-30", 181, "2", "600.00", "5.95"),
    ]
    assert result.amount == D("48.12")


def test_payments_on_the_start_or_on_as_of() -> None:
    # paid on the start day: the base is lower from the first accruing day.
    # 600 x 5 x 183/36500 = 15.041096 → 15.04
    early = compute_interest(
        D("1000.00"),
        date(2023, 7, 1),
        date(2023, 12, 31),
        LEGALE,
        reductions=[BaseReduction(date(2023, 7, 1), D("400.00"))],
    )
    assert rows(early) == [("2023-07-02", "2023-12-31", 183, "5", "600.00", "15.04")]
    # paid on as_of: no effect on interest (1000 x 5 x 183/36500 = 25.07)
    late = compute_interest(
        D("1000.00"),
        date(2023, 7, 1),
        date(2023, 12, 31),
        LEGALE,
        reductions=[BaseReduction(date(2023, 12, 31), D("400.00"))],
    )
    assert late.amount == D("25.07")
    assert len(late.segments) == 1


def test_surcharge_points_are_added_to_the_rate() -> None:
    # (5 + 1)% : 1000 x 6 x 183/36500 = 30.082192 → 30.08
    result = compute_interest(
        D("1000.00"), date(2023, 7, 1), date(2023, 12, 31), LEGALE, surcharge_points=D("1")
    )
    assert result.segments[0].rate == D("6")
    assert result.amount == D("30.08")


def test_no_days_no_interest_and_inverted_periods() -> None:
    same_day = compute_interest(D("1000.00"), date(2025, 1, 1), date(2025, 1, 1), LEGALE)
    assert same_day.segments == () and same_day.amount == D("0.00")
    # one day: 2025-01-02 at 2%: 1000 x 2 x 1/36500 = 0.054795 → 0.05
    assert compute_interest(D("1000.00"), date(2025, 1, 1), date(2025, 1, 2), LEGALE).amount == D("0.05")
    with pytest.raises(InvalidPeriod) as error:
        compute_interest(D("1000.00"), date(2025, 1, 2), date(2025, 1, 1), LEGALE)
    assert "precede" in error.value.message_it


def test_a_day_without_a_rate_raises() -> None:
    with pytest.raises(RateMissing) as error:
        compute_interest(D("1000.00"), date(2010, 6, 1), date(2012, 6, 1), LEGALE)
    assert error.value.day == date(2010, 6, 2)
