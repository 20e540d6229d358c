from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.engine.allocation import (
    AllocationLine,
    DebtPosition,
    PaymentIn,
    allocate,
    allocate_payments,
    apply_allocation,
)
from app.engine.errors import AllocationError, InvalidAmount, PositionNotFound

D = Decimal
ORDER = ("spese", "interessi", "sanzioni", "capitale")


def position(key: str, due: date, notices: frozenset[str] = frozenset(), **components: str) -> DebtPosition:
    return DebtPosition(key, due, {k: D(v) for k, v in components.items()}, notices)


A = position(
    "A",
    date(2020, 1, 31),
    frozenset({"301000000000000147"}),
    capitale="1000.00",
    sanzioni="300.00",
    interessi="10.00",
    spese="5.88",
)
B = position("B", date(2019, 1, 31), capitale="50.00", spese="2.00")


def test_components_are_paid_in_order() -> None:
    # 100.00 → spese 5.88, interessi 10.00, sanzioni 84.12 (100 - 5.88 - 10)
    allocation = allocate(D("100.00"), [A], ORDER)
    assert allocation.lines == (
        AllocationLine("A", "spese", D("5.88")),
        AllocationLine("A", "interessi", D("10.00")),
        AllocationLine("A", "sanzioni", D("84.12")),
    )
    assert allocation.credit == D("0.00")
    after = apply_allocation([A], allocation)[0]
    assert dict(after.components) == {
        "capitale": D("1000.00"),
        "sanzioni": D("215.88"),
        "interessi": D("0.00"),
        "spese": D("0.00"),
    }


def test_an_overpayment_becomes_credit() -> None:
    # A owes 1315.88; 2000.00 - 1315.88 = 684.12
    allocation = allocate(D("2000.00"), [A], ORDER)
    assert allocation.credit == D("684.12")
    assert apply_allocation([A], allocation)[0].total_due == D("0.00")


def test_oldest_position_first() -> None:
    # B (due 2019) first: spese 2.00, capitale 50.00; then A: spese 5.88, interessi 2.12 (60 - 52 - 5.88)
    allocation = allocate(D("60.00"), [A, B], ORDER)
    assert allocation.lines == (
        AllocationLine("B", "spese", D("2.00")),
        AllocationLine("B", "capitale", D("50.00")),
        AllocationLine("A", "spese", D("5.88")),
        AllocationLine("A", "interessi", D("2.12")),
    )


def test_a_payment_naming_a_position_or_notice_pays_only_that_one() -> None:
    by_key = allocate(D("60.00"), [A, B], ORDER, position_key="B")
    assert {line.position_key for line in by_key.lines} == {"B"}
    assert by_key.credit == D("8.00")  # 60 - 52
    by_notice = allocate(D("5.00"), [A, B], ORDER, notice_number="301000000000000147")
    assert by_notice.lines == (AllocationLine("A", "spese", D("5.00")),)
    with pytest.raises(PositionNotFound) as error:
        allocate(D("5.00"), [A, B], ORDER, notice_number="399999999999999999")
    assert "399999999999999999" in error.value.message_it


def test_the_order_is_an_input() -> None:
    allocation = allocate(D("1001.00"), [A], ("capitale", "sanzioni", "interessi", "spese"))
    assert allocation.lines == (
        AllocationLine("A", "capitale", D("1000.00")),
        AllocationLine("A", "sanzioni", D("1.00")),
    )


def test_an_order_missing_a_due_component_is_refused() -> None:
    with pytest.raises(AllocationError) as error:
        allocate(D("10.00"), [A], ("spese", "capitale"))
    assert "interessi, sanzioni" in error.value.message_it


def test_negative_payments_and_components_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        allocate(D("-1.00"), [A], ORDER)
    with pytest.raises(InvalidAmount):
        position("C", date(2020, 1, 1), capitale="-1.00")


def test_several_payments_in_date_order() -> None:
    payments = [PaymentIn(D("20.00"), date(2021, 5, 1)), PaymentIn(D("10.00"), date(2021, 1, 1))]
    done, after = allocate_payments(payments, [B], ORDER)
    # 2021-01-01: 10.00 → spese 2.00, capitale 8.00; 2021-05-01: 20.00 → capitale 20.00 → capitale left 22.00
    assert [p.paid_on for p, _ in done] == [date(2021, 1, 1), date(2021, 5, 1)]
    assert dict(after[0].components) == {"capitale": D("22.00"), "spese": D("0.00")}
