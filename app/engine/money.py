"""Money values: every amount is a `Decimal` built through `eur()`; floats are refused (style.md B.7)."""

from __future__ import annotations

import re
from decimal import Decimal

from app.engine.errors import InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_AMOUNT_TEXT = re.compile(r"[+-]?\d+(\.\d{1,2})?")
_NUMBER_TEXT = re.compile(r"[+-]?\d+(\.\d+)?")


def _only_exact_types(x: object) -> None:
    if isinstance(x, bool) or not isinstance(x, str | int | Decimal):
        raise TypeError(
            f"Tipo non ammesso per un valore monetario: {type(x).__name__} (usare str, int o Decimal)"
        )


def eur(x: str | int | Decimal) -> Decimal:
    """An amount in euro with exactly two decimals: `eur("12.3") == Decimal("12.30")`.

    Accepts str (`"1234.56"`, at most two decimals, no exponent), int and finite Decimal with no digit beyond
    the cent. A float raises TypeError; anything else that is not an exact cent amount raises InvalidAmount.
    """
    _only_exact_types(x)
    if isinstance(x, str):
        text = x.strip()
        if not _AMOUNT_TEXT.fullmatch(text):
            raise InvalidAmount(x, 'atteso un numero con al massimo due decimali, ad es. "1234.56"')
        value = Decimal(text)
    elif isinstance(x, int):
        value = Decimal(x)
    else:
        if not x.is_finite():
            raise InvalidAmount(x, "valore non finito")
        value = x
    numerator, denominator = value.as_integer_ratio()  # exact: a finite Decimal is a ratio of integers
    whole, rest = divmod(numerator * 100, denominator)
    if rest:
        raise InvalidAmount(x, "più di due decimali")
    return from_cents(whole)


def dec(x: str | int | Decimal) -> Decimal:
    """A non-monetary number (a rate in percent, points): any number of decimals, never a float."""
    _only_exact_types(x)
    if isinstance(x, str):
        text = x.strip()
        if not _NUMBER_TEXT.fullmatch(text):
            raise InvalidAmount(x, 'atteso un numero decimale, ad es. "2.5"')
        return Decimal(text)
    value = Decimal(x)
    if not value.is_finite():
        raise InvalidAmount(x, "valore non finito")
    return value


def cents(amount: Decimal) -> int:
    """The amount as an integer number of cents; refuses sub-cent values."""
    numerator, denominator = amount.as_integer_ratio()  # exact, in lowest terms
    whole, rest = divmod(numerator * 100, denominator)
    if rest:
        raise InvalidAmount(amount, "non è un numero intero di centesimi")
    return whole


def from_cents(n: int) -> Decimal:
    """Integer cents to an amount with two decimals, exactly (no context rounding involved: a Decimal built
    from a string keeps every digit)."""
    if n.__class__ is not int:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("from_cents vuole un intero")
        n = int(n)
    return Decimal(f"{n}e-2")


_HUNDREDTHS = tuple(f".{i:02d}" for i in range(100))


def format_cents(n: int) -> str:
    """Integer cents in the machine format of formats.md: 136593 → "1365.93", -5 → "-0.05"."""
    if n >= 0:
        return f"{n // 100}{_HUNDREDTHS[n % 100]}"
    return f"-{-n // 100}{_HUNDREDTHS[-n % 100]}"


def format_amount(amount: Decimal) -> str:
    """The machine format of formats.md: dot separator, two decimals ("1365.93")."""
    return format_cents(cents(amount))
