from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.engine.errors import PlanNotAllowed
from app.engine.installments import (
    AllowedRange,
    allowed_installments,
    build_plan,
    check_installments,
    monthly_due_dates,
)

from .support import params_on

D = Decimal
L160 = params_on(date(2025, 1, 1)).installment_regimes["l160"]


@pytest.mark.parametrize(
    ("amount", "allowed"),
    [
        pytest.param("100.00", None, id="100.00-none"),
        pytest.param("100.01", (2, 4), id="100.01"),
        pytest.param("500.00", (2, 4), id="500.00"),
        pytest.param("500.01", (5, 12), id="500.01"),
        pytest.param("3000.00", (5, 12), id="3000.00"),
        pytest.param("3000.01", (13, 24), id="3000.01"),
        pytest.param("6000.00", (13, 24), id="6000.00"),
        pytest.param("6000.01", (25, 36), id="6000.01"),
        pytest.param("20000.00", (25, 36), id="20000.00"),
        pytest.param("20000.01", (37, 72), id="20000.01"),
    ],
)
def test_l160_c796_band_edges(amount: str, allowed: tuple[int, int] | None) -> None:
    expected = None if allowed is None else AllowedRange(*allowed)
    assert allowed_installments(L160, D(amount)) == expected


def test_plan_not_allowed_carries_the_range() -> None:
    with pytest.raises(PlanNotAllowed) as error:
        check_installments(L160, D("2500.00"), 24)
    assert (error.value.allowed_min, error.value.allowed_max) == (5, 12)
    assert error.value.message_it == (
        "Regime 'l160': per l'importo di 2500.00 euro sono ammesse da 5 a 12 rate, richieste 24"
    )
    with pytest.raises(PlanNotAllowed) as none:
        check_installments(L160, D("100.00"), 2)
    assert (none.value.allowed_min, none.value.allowed_max) == (None, None)
    assert "non è ammessa alcuna rateazione" in none.value.message_it
    check_installments(L160, D("2500.00"), 12)


@pytest.mark.parametrize(
    ("on", "amount", "allowed"),
    [
        # up to 84 for 2025-26 requests, but 50.00 minimum: 120000/50 = 2400 → 84
        pytest.param(date(2026, 12, 31), "120000.00", (2, 84), id="2026-84"),
        pytest.param(date(2027, 1, 1), "120000.00", (2, 96), id="2027-96"),
        pytest.param(date(2029, 1, 1), "120000.00", (2, 108), id="2029-108"),
        pytest.param(date(2026, 1, 1), "120000.01", None, id="over-120000-simple-request"),
        # 1000.00 / 50.00 = 20 installments at most
        pytest.param(date(2026, 1, 1), "1000.00", (2, 20), id="min-installment-50"),
        # 100.00 / 50.00 = 2 → (2, 2); 99.99 / 50.00 = 1.9998 → 1 < 2 → no plan
        pytest.param(date(2026, 1, 1), "100.00", (2, 2), id="100.00"),
        pytest.param(date(2026, 1, 1), "99.99", None, id="99.99"),
    ],
)
def test_dpr602_art19_by_request_date(on: date, amount: str, allowed: tuple[int, int] | None) -> None:
    regime = params_on(on).installment_regimes["dpr602_art19"]
    expected = None if allowed is None else AllowedRange(*allowed)
    assert allowed_installments(regime, D(amount)) == expected


def test_dpr602_art19_has_no_row_before_2025() -> None:
    assert "dpr602_art19" not in params_on(date(2024, 12, 31)).installment_regimes


@pytest.mark.parametrize(
    ("amount", "n", "first", "others"),
    [
        # 2500.00 / 12 = 208.333 → 208.33; 11 x 208.33 = 2291.63; first = 2500.00 - 2291.63 = 208.37
        pytest.param("2500.00", 12, "208.37", "208.33", id="2500/12"),
        # 1000.00 / 3 = 333.333 → 333.33; first = 1000.00 - 666.66 = 333.34
        pytest.param("1000.00", 3, "333.34", "333.33", id="1000/3"),
        # 100.01 / 2 = 50.005 → 50.00 (down); first = 50.01
        pytest.param("100.01", 2, "50.01", "50.00", id="100.01/2"),
        # 20000.01 / 72 = 277.7779 → 277.77; 71 x 277.77 = 19721.67; first = 278.34
        pytest.param("20000.01", 72, "278.34", "277.77", id="20000.01/72"),
    ],
)
def test_remainder_cents_go_to_installment_one(amount: str, n: int, first: str, others: str) -> None:
    plan = build_plan(D(amount), n, date(2027, 1, 31), D("0"))
    assert plan.installments[0].capital == D(first)
    assert {i.capital for i in plan.installments[1:]} == {D(others)}
    assert plan.total_capital == D(amount) == plan.total


def test_due_dates_stay_anchored_to_the_first_day() -> None:
    # 31st: Feb 2027 has 28 days, Apr 30, Feb 2028 (leap) 29
    assert monthly_due_dates(date(2027, 1, 31), 14) == (
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
        date(2027, 6, 30),
        date(2027, 7, 31),
        date(2027, 8, 31),
        date(2027, 9, 30),
        date(2027, 10, 31),
        date(2027, 11, 30),
        date(2027, 12, 31),
        date(2028, 1, 31),
        date(2028, 2, 29),
    )
    assert monthly_due_dates(date(2027, 1, 30), 3) == (
        date(2027, 1, 30),
        date(2027, 2, 28),
        date(2027, 3, 30),
    )
    assert monthly_due_dates(date(2027, 11, 15), 3) == (
        date(2027, 11, 15),
        date(2027, 12, 15),
        date(2028, 1, 15),
    )


@pytest.mark.parametrize(
    ("amount", "n", "rate", "interests", "total_interest"),
    [
        # 1200.00 / 3 = 400.00; 6%/12 = 0.5% a month on the capital still owed:
        # k1 1200 x 0.005 = 6.00; k2 800 x 0.005 = 4.00; k3 400 x 0.005 = 2.00; total 12.00
        pytest.param("1200.00", 3, "6", ["6.00", "4.00", "2.00"], "12.00", id="6pct"),
        # 1000.00 / 3 → 333.34, 333.33, 333.33; 2.5%/12:
        # k1 1000 x 2.5/1200 = 2.083333 → 2.08; k2 666.66 x 2.5/1200 = 1.388875 → 1.39;
        # k3 333.33 x 2.5/1200 = 0.694437 → 0.69; total 4.16
        pytest.param("1000.00", 3, "2.5", ["2.08", "1.39", "0.69"], "4.16", id="half-up-per-installment"),
    ],
)
def test_installment_interest(
    amount: str, n: int, rate: str, interests: list[str], total_interest: str
) -> None:
    plan = build_plan(D(amount), n, date(2027, 1, 31), D(rate))
    assert [i.interest for i in plan.installments] == [D(x) for x in interests]
    assert plan.total_interest == D(total_interest)
    assert plan.total == D(amount) + D(total_interest)
    assert all(i.amount == i.capital + i.interest for i in plan.installments)


def test_build_plan_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        build_plan(D("100.00"), 0, date(2027, 1, 31), D("0"))
    with pytest.raises(ValueError):
        build_plan(D("0.00"), 2, date(2027, 1, 31), D("0"))
    with pytest.raises(ValueError):
        build_plan(D("100.00"), 2, date(2027, 1, 31), D("-1"))
