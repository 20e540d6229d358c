"""Allocation of payments to the components of debt positions (formats.md §4; art. 1193-1194 c.c.).

Within a position the components are paid in `order` (default, a parameter: spese, interessi, sanzioni,
capitale). Across positions the oldest comes first (by due date, then key) unless the payment names a
position or a notice number: then only that position is paid. What is left is a `credit`. Money is conserved
exactly and no component ever goes below zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from app.engine.errors import AllocationError, InvalidAmount, PositionNotFound
from app.engine.money import ZERO


@dataclass(frozen=True, slots=True)
class DebtPosition:
    """One debt: the amount still due of each component."""

    key: str
    due_date: date
    components: Mapping[str, Decimal]
    notice_numbers: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))
        for name, amount in self.components.items():
            if amount < 0:
                raise InvalidAmount(amount, f"la componente '{name}' della posizione '{self.key}' è negativa")

    @property
    def total_due(self) -> Decimal:
        return sum(self.components.values(), ZERO)


@dataclass(frozen=True, slots=True)
class AllocationLine:
    position_key: str
    component: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    amount: Decimal
    lines: tuple[AllocationLine, ...]
    credit: Decimal

    def __post_init__(self) -> None:
        allocated = sum((line.amount for line in self.lines), ZERO)
        assert allocated + self.credit == self.amount, "allocazione: il denaro non si conserva"

    def paid_by_component(self, position_key: str) -> dict[str, Decimal]:
        paid: dict[str, Decimal] = {}
        for line in self.lines:
            if line.position_key == position_key:
                paid[line.component] = paid.get(line.component, ZERO) + line.amount
        return paid


def _component_order(position: DebtPosition, order: Sequence[str]) -> list[str]:
    missing = [name for name, amount in position.components.items() if amount > 0 and name not in order]
    if missing:
        raise AllocationError(
            f"L'ordine di imputazione ({', '.join(order)}) non comprende le componenti: "
            f"{', '.join(sorted(missing))}"
        )
    return [name for name in order if name in position.components]


def _targets(
    positions: Sequence[DebtPosition], position_key: str | None, notice_number: str | None
) -> list[DebtPosition]:
    if position_key is not None:
        chosen = [p for p in positions if p.key == position_key]
        if not chosen:
            raise PositionNotFound(position_key)
        return chosen
    if notice_number is not None:
        chosen = [p for p in positions if notice_number in p.notice_numbers]
        if not chosen:
            raise PositionNotFound(notice_number)
        return chosen
    return sorted(positions, key=lambda p: (p.due_date, p.key))


def allocate(
    amount: Decimal,
    positions: Sequence[DebtPosition],
    order: Sequence[str],
    *,
    position_key: str | None = None,
    notice_number: str | None = None,
) -> Allocation:
    """Allocate one payment of `amount`; returns the lines and the credit left over."""
    if amount < 0:
        raise InvalidAmount(amount, "un pagamento non può essere negativo")
    remaining = amount
    lines: list[AllocationLine] = []
    for position in _targets(positions, position_key, notice_number):
        for component in _component_order(position, order):
            if remaining == 0:
                break
            take = min(remaining, position.components[component])
            if take > 0:
                lines.append(AllocationLine(position.key, component, take))
                remaining -= take
    return Allocation(amount=amount, lines=tuple(lines), credit=remaining)


def apply_allocation(positions: Sequence[DebtPosition], allocation: Allocation) -> tuple[DebtPosition, ...]:
    """The positions with the allocated amounts taken off their components."""
    updated = []
    for position in positions:
        paid = allocation.paid_by_component(position.key)
        if not paid:
            updated.append(position)
            continue
        components = {name: due - paid.get(name, ZERO) for name, due in position.components.items()}
        updated.append(DebtPosition(position.key, position.due_date, components, position.notice_numbers))
    return tuple(updated)


@dataclass(frozen=True, slots=True)
class PaymentIn:
    amount: Decimal
    paid_on: date
    position_key: str | None = None
    notice_number: str | None = None


def allocate_payments(
    payments: Sequence[PaymentIn], positions: Sequence[DebtPosition], order: Sequence[str]
) -> tuple[tuple[tuple[PaymentIn, Allocation], ...], tuple[DebtPosition, ...]]:
    """Allocate several payments in date order (stable for equal dates); returns each allocation and the
    positions left after all of them."""
    current = tuple(positions)
    done = []
    for payment in sorted(payments, key=lambda p: p.paid_on):
        allocation = allocate(
            payment.amount,
            current,
            order,
            position_key=payment.position_key,
            notice_number=payment.notice_number,
        )
        current = apply_allocation(current, allocation)
        done.append((payment, allocation))
    return tuple(done), current
