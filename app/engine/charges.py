"""Charges borne by the debtor: oneri di riscossione (L. 160/2019 art. 1 c. 803 lett. a) and spese
(c. 803 lett. b: notification costs per DM MEF 14/4/2023, procedure costs per DM 21/11/2000)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from app.engine.errors import UnknownCode
from app.engine.rounding import round_half_up_cent


@dataclass(frozen=True, slots=True)
class OneriRule:
    """L. 160/2019 c. 803 lett. a: `reduced_percent` capped at `reduced_cap` when paid within `reduced_days`
    days of esecutività (day `reduced_days` included), else `full_percent` capped at `full_cap`.

    `base_components` are the components whose due amounts, plus the interest at as_of, form the base.
    """

    reduced_percent: Decimal
    reduced_cap: Decimal
    reduced_days: int
    full_percent: Decimal
    full_cap: Decimal
    base_components: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Oneri:
    amount: Decimal
    base: Decimal
    percent: Decimal
    cap: Decimal
    capped: bool
    days_since_esecutivo: int


def oneri_l160(base: Decimal, esecutivo_since: date, as_of: date, rule: OneriRule) -> Oneri:
    """The oneri di riscossione on `base` (components due + interest at `as_of`), rounded half-up to the cent.

    `as_of` at most `rule.reduced_days` days after `esecutivo_since` (that day included; also before it) gets
    the reduced percent and cap, later dates the full ones.
    """
    days = (as_of - esecutivo_since).days
    within = days <= rule.reduced_days
    percent = rule.reduced_percent if within else rule.full_percent
    cap = rule.reduced_cap if within else rule.full_cap
    raw = round_half_up_cent(Fraction(base) * Fraction(percent) / 100)
    amount = min(raw, cap)
    return Oneri(
        amount=amount, base=base, percent=percent, cap=cap, capped=raw > cap, days_since_esecutivo=days
    )


@dataclass(frozen=True, slots=True)
class CostTable:
    """A parameter table of fixed costs by kind (e.g. spese di notifica per DM 14/4/2023)."""

    code: str
    amounts: Mapping[str, Decimal]
    source: str


def cost_of(kind: str, table: CostTable) -> Decimal:
    """The cost of `kind` in `table`; raises UnknownCode listing the known kinds."""
    try:
        return table.amounts[kind]
    except KeyError:
        raise UnknownCode(f"Voce di spesa della tabella '{table.code}'", kind, list(table.amounts)) from None


def notification_cost(kind: str, table: CostTable) -> Decimal:
    """Spese di notifica of one act by notification kind (sollecito, raccomandata_ar, pec, ...)."""
    return cost_of(kind, table)


def procedure_cost(kind: str, table: CostTable) -> Decimal:
    """Spese of a cautionary/executive procedure step (fermo, ipoteca, pignoramento, ...)."""
    return cost_of(kind, table)
