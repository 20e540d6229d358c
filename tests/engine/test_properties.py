"""Invariants checked on generated inputs (hypothesis). No example database is written (database=None)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.allocation import DebtPosition, allocate, apply_allocation
from app.engine.installments import build_plan, monthly_due_dates
from app.engine.interest import BaseReduction, DayCount, compute_interest
from app.engine.money import cents, from_cents
from app.engine.notice import is_valid_notice, notice_number
from app.engine.rounding import round_down_cent, round_half_up_cent, split_largest_remainder

from .support import rate_tables

FAST = settings(database=None, deadline=None, max_examples=150)
LEGALE = rate_tables()["legale"]
ORDER = ("spese", "interessi", "sanzioni", "capitale")
ZERO = Decimal("0.00")

amounts = st.integers(min_value=0, max_value=10**9).map(from_cents)
positive_amounts = st.integers(min_value=1, max_value=10**9).map(from_cents)
days = st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31))
day_counts = st.sampled_from(list(DayCount))


@st.composite
def positions(draw: st.DrawFn) -> list[DebtPosition]:
    count = draw(st.integers(min_value=1, max_value=4))
    return [
        DebtPosition(
            key=f"P{i}",
            due_date=draw(days),
            components={name: draw(amounts) for name in draw(st.sets(st.sampled_from(ORDER), min_size=1))},
        )
        for i in range(count)
    ]


@FAST
@given(positions(), amounts, st.permutations(ORDER))
def test_allocation_conserves_money_and_never_goes_negative(
    debts: list[DebtPosition], amount: Decimal, order: list[str]
) -> None:
    allocation = allocate(amount, debts, order)
    assert sum((line.amount for line in allocation.lines), ZERO) + allocation.credit == amount
    assert allocation.credit >= 0 and all(line.amount > 0 for line in allocation.lines)
    after = apply_allocation(debts, allocation)
    for now in after:
        assert all(v >= 0 for v in now.components.values())
    total_before = sum((p.total_due for p in debts), ZERO)
    total_after = sum((p.total_due for p in after), ZERO)
    assert total_before - total_after + allocation.credit == amount
    # credit only once everything is paid
    assert allocation.credit == 0 or total_after == 0
    # within a position, a component is touched only when every earlier one in the order is fully paid
    for now in after:
        touched = {line.component for line in allocation.lines if line.position_key == now.key}
        names = [n for n in order if n in now.components]
        for index, name in enumerate(names):
            if name in touched:
                assert all(now.components[earlier] == 0 for earlier in names[:index])


@FAST
@given(
    st.integers(min_value=1, max_value=10**9).map(from_cents),
    st.integers(min_value=1, max_value=120),
    days,
    st.integers(min_value=0, max_value=1200).map(lambda n: Decimal(n) / 100),
)
def test_plans_conserve_money(amount: Decimal, count: int, first_due: date, rate: Decimal) -> None:
    plan = build_plan(amount, count, first_due, rate)
    capitals = [i.capital for i in plan.installments]
    assert sum(capitals, ZERO) == amount == plan.total_capital
    assert all(c >= 0 for c in capitals) and all(i.interest >= 0 for i in plan.installments)
    assert len(set(capitals[1:])) <= 1 and capitals[0] >= max(capitals[1:], default=ZERO)
    assert capitals[0] - (capitals[1] if count > 1 else capitals[0]) < from_cents(count)
    assert plan.total == plan.total_capital + plan.total_interest
    dues = [i.due for i in plan.installments]
    assert dues == list(monthly_due_dates(first_due, count)) and dues == sorted(dues)


@FAST
@given(
    amounts,
    days,
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=3000),
    day_counts,
)
def test_interest_is_monotonic_in_time(
    base: Decimal, start: date, a: int, b: int, day_count: DayCount
) -> None:
    early, late = start + timedelta(days=min(a, b)), start + timedelta(days=max(a, b))
    first = compute_interest(base, start, early, LEGALE, day_count=day_count)
    second = compute_interest(base, start, late, LEGALE, day_count=day_count)
    assert first.exact_total <= second.exact_total
    assert first.amount <= second.amount


@FAST
@given(
    amounts,
    days,
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=400),
    day_counts,
)
def test_interest_is_monotonic_in_the_rate(
    base: Decimal, start: date, span: int, low: int, high: int, day_count: DayCount
) -> None:
    points = sorted([Decimal(low) / 100, Decimal(high) / 100])
    end = start + timedelta(days=span)
    lower = compute_interest(base, start, end, LEGALE, surcharge_points=points[0], day_count=day_count)
    higher = compute_interest(base, start, end, LEGALE, surcharge_points=points[1], day_count=day_count)
    assert lower.amount <= higher.amount


@FAST
@given(
    amounts,
    days,
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=3000),
    day_counts,
    st.lists(st.tuples(st.integers(min_value=0, max_value=3000), amounts), max_size=3),
)
def test_splitting_a_period_anywhere_keeps_the_unrounded_total(
    base: Decimal, start: date, a: int, b: int, day_count: DayCount, payments: list[tuple[int, Decimal]]
) -> None:
    middle, end = start + timedelta(days=min(a, b)), start + timedelta(days=max(a, b))
    # payments that never exceed the base
    reductions, left = [], base
    for offset, amount in payments:
        take = min(amount, left)
        left -= take
        reductions.append(BaseReduction(start + timedelta(days=offset), take))
    whole = compute_interest(base, start, end, LEGALE, day_count=day_count, reductions=reductions)
    first = compute_interest(base, start, middle, LEGALE, day_count=day_count, reductions=reductions)
    # the second part starts from the base left at `middle` (payments up to it already taken off)
    paid_by_middle = sum((r.amount for r in reductions if r.paid_on < middle + timedelta(days=1)), ZERO)
    later = [r for r in reductions if r.paid_on >= middle]
    second = compute_interest(
        base - paid_by_middle,
        middle,
        end,
        LEGALE,
        day_count=day_count,
        reductions=[r for r in later if r.paid_on > middle],
    )
    assert first.exact_total + second.exact_total == whole.exact_total
    assert sum(s.days for s in whole.segments) == (end - start).days


@FAST
@given(
    st.integers(min_value=-(10**12), max_value=10**12).map(from_cents),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(any),
)
def test_largest_remainder_parts_sum_to_total(total: Decimal, weights: list[int]) -> None:
    parts = split_largest_remainder(total, weights)
    assert sum(parts, ZERO) == total
    exact = [Fraction(cents(total)) * w / sum(weights) for w in weights]
    assert all(abs(Fraction(cents(p)) - e) < 1 for p, e in zip(parts, exact, strict=True))


@FAST
@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=1, max_value=10**6))
def test_decimal_and_fraction_rounding_agree(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator * 1000)
    as_decimal = Decimal(numerator).scaleb(-3)
    assert round_half_up_cent(Fraction(numerator, 1000)) == round_half_up_cent(as_decimal)
    assert round_down_cent(Fraction(numerator, 1000)) == round_down_cent(as_decimal)
    assert abs(Fraction(round_half_up_cent(exact)) - exact) <= Fraction(1, 200)


@FAST
@given(
    st.sampled_from([f"{n:02d}" for n in range(100)]),
    st.integers(min_value=0, max_value=10**13 - 1),
    st.integers(min_value=1, max_value=15),
    st.integers(min_value=1, max_value=9),
)
def test_a_changed_digit_breaks_the_check_digits(
    segregation: str, base: int, position: int, delta: int
) -> None:
    number = notice_number(segregation, base)
    assert is_valid_notice(number) and len(number) == 18
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert not is_valid_notice("".join(digits))
