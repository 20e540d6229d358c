"""Rounding as named legal decisions (style.md B.7). No function depends on the global Decimal context.

Each rule takes a Decimal (or an exact Fraction, used for interest that is kept unrounded) and returns an
amount with two decimals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction

from app.engine.money import CENT, cents, from_cents


def _quantize_cent(x: Decimal, mode: str) -> Decimal:
    # An explicit context, wide enough that quantize never needs to round the integer part.
    context = Context(prec=max(28, x.adjusted() + 6), rounding=mode, traps=[InvalidOperation])
    return x.quantize(CENT, rounding=mode, context=context)


def round_half_up_cent(x: Decimal | Fraction) -> Decimal:
    """Round to the cent, ties away from zero (ROUND_HALF_UP).

    The rule of formats.md §4 for the interest total, the shown interest segments, the installment interest
    and the oneri di riscossione of L. 160/2019 c. 803 ("rounded half-up to the cent").
    """
    if isinstance(x, Decimal):
        return _quantize_cent(x, ROUND_HALF_UP)
    exact = x if x.__class__ is Fraction else Fraction(x)
    return from_cents(half_up_div(exact.numerator * 100, exact.denominator))


def half_up_div(numerator: int, denominator: int) -> int:
    """`numerator / denominator` (denominator > 0) rounded to an integer half-up, ties away from zero, in
    integer arithmetic only. With the ratio expressed in cents this is exactly `round_half_up_cent`: the
    integer fast paths (interest and oneri kept as exact ratios of cents) round through it."""
    whole, rest = divmod(abs(numerator), denominator)
    if rest * 2 >= denominator:
        whole += 1
    return -whole if numerator < 0 else whole


def round_down_cent(x: Decimal | Fraction) -> Decimal:
    """Round to the cent towards zero (ROUND_DOWN).

    The rule of formats.md §4 for the capital share of an installment ("amount / n rounded down to the cent";
    the remainder cents go to installment 1).
    """
    if isinstance(x, Decimal):
        return _quantize_cent(x, ROUND_DOWN)
    exact = x if x.__class__ is Fraction else Fraction(x)
    whole = abs(exact.numerator) * 100 // exact.denominator
    return from_cents(-whole if exact.numerator < 0 else whole)


def split_largest_remainder(total: Decimal, weights: Sequence[int | Decimal]) -> list[Decimal]:
    """Split `total` in parts proportional to `weights`, to the cent, by the largest-remainder method.

    Every part gets its share rounded down; the cents left over go one each to the parts with the largest
    remainders (ties: the earlier part). The parts always add up to `total` (django-hordak `ratio_split`).
    """
    if not weights:
        raise ValueError("split_largest_remainder: nessun peso")
    fractions = [Fraction(w) for w in weights]
    if any(w < 0 for w in fractions) or sum(fractions) == 0:
        raise ValueError("split_largest_remainder: i pesi devono essere >= 0 e non tutti nulli")
    total_cents = cents(total)
    sign = -1 if total_cents < 0 else 1
    magnitude = abs(total_cents)
    weight_sum = sum(fractions)
    shares = [magnitude * w / weight_sum for w in fractions]
    parts = [math.floor(s) for s in shares]
    left = magnitude - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    result = [from_cents(sign * p) for p in parts]
    assert sum(result, Decimal(0)) == total, "split_largest_remainder: le parti non sommano al totale"
    return result
