from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction

import pytest

from app.engine.errors import InvalidAmount
from app.engine.money import CENT, cents, dec, eur, format_amount, from_cents
from app.engine.rounding import round_down_cent, round_half_up_cent, split_largest_remainder


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("12.3", Decimal("12.30"), id="one-decimal"),
        pytest.param("1000", Decimal("1000.00"), id="no-decimals"),
        pytest.param(" 5.88 ", Decimal("5.88"), id="spaces"),
        pytest.param(7, Decimal("7.00"), id="int"),
        pytest.param(Decimal("1.230"), Decimal("1.23"), id="decimal-trailing-zero"),
        pytest.param(Decimal("6E+2"), Decimal("600.00"), id="decimal-exponent"),
        pytest.param("-3.5", Decimal("-3.50"), id="negative"),
    ],
)
def test_eur_builds_two_decimal_amounts(given: object, expected: Decimal) -> None:
    amount = eur(given)  # type: ignore[arg-type]
    assert amount == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize("given", [1.5, True, None, [1]], ids=["float", "bool", "none", "list"])
def test_eur_refuses_floats_and_other_types(given: object) -> None:
    with pytest.raises(TypeError):
        eur(given)  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["1.234", "1e3", "abc", "", "1,50", Decimal("0.001"), Decimal("NaN")])
def test_eur_refuses_sub_cent_and_malformed_amounts(given: object) -> None:
    with pytest.raises(InvalidAmount) as error:
        eur(given)  # type: ignore[arg-type]
    assert "Importo non valido" in error.value.message_it


def test_dec_keeps_every_decimal_of_a_rate() -> None:
    assert dec("6.8358") == Decimal("6.8358")
    with pytest.raises(TypeError):
        dec(2.5)  # type: ignore[arg-type]


def test_cents_round_trip() -> None:
    assert cents(Decimal("12.34")) == 1234
    assert from_cents(-5) == Decimal("-0.05")
    assert from_cents(10**30) == Decimal("10000000000000000000000000000.00")  # more digits than prec 28
    assert format_amount(Decimal("1365.9300")) == "1365.93"
    with pytest.raises(InvalidAmount):
        cents(Decimal("0.001"))


@pytest.mark.parametrize(
    ("value", "half_up", "down"),
    [
        pytest.param(Decimal("2.345"), Decimal("2.35"), Decimal("2.34"), id="tie-up"),
        pytest.param(Decimal("2.344999"), Decimal("2.34"), Decimal("2.34"), id="below-tie"),
        pytest.param(
            Decimal("0.025"), Decimal("0.03"), Decimal("0.02"), id="tie-not-banker"
        ),  # HALF_EVEN: 0.02
        pytest.param(Decimal("-2.345"), Decimal("-2.35"), Decimal("-2.34"), id="negative"),
        pytest.param(Fraction(2500, 12), Decimal("208.33"), Decimal("208.33"), id="2500/12=208.333"),
        pytest.param(Fraction(915000, 36500), Decimal("25.07"), Decimal("25.06"), id="25.0685"),
        pytest.param(Fraction(1, 200), Decimal("0.01"), Decimal("0.00"), id="fraction-tie"),
        pytest.param(
            Decimal("123456789012345678901234567890.125"),
            Decimal("123456789012345678901234567890.13"),
            Decimal("123456789012345678901234567890.12"),
            id="beyond-default-precision",
        ),
    ],
)
def test_rounding_rules(value: Decimal | Fraction, half_up: Decimal, down: Decimal) -> None:
    assert round_half_up_cent(value) == half_up
    assert round_down_cent(value) == down


def test_rounding_ignores_the_global_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 3
        context.rounding = ROUND_FLOOR
        assert round_half_up_cent(Decimal("12345.675")) == Decimal("12345.68")
        assert round_down_cent(Decimal("-12345.679")) == Decimal("-12345.67")
        assert round_half_up_cent(Decimal("1.005")).quantize(CENT) == Decimal("1.01")


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        # 10000 cents / 3 = 3333.33 each: floors 3333 x 3 = 9999, the last cent to the first (ties → earlier)
        pytest.param("100.00", [1, 1, 1], ["33.34", "33.33", "33.33"], id="thirds"),
        # 5 cents in 1:2 → 1.667 and 3.333 → floors 1 + 3 = 4; the larger remainder (0.667) gets the cent
        pytest.param("0.05", [1, 2], ["0.02", "0.03"], id="one-to-two"),
        pytest.param("-1.00", [1, 1, 1], ["-0.34", "-0.33", "-0.33"], id="negative"),
        pytest.param("10.00", [0, 1], ["0.00", "10.00"], id="zero-weight"),
    ],
)
def test_split_largest_remainder(total: str, weights: list[int], parts: list[str]) -> None:
    assert split_largest_remainder(Decimal(total), weights) == [Decimal(p) for p in parts]


def test_split_largest_remainder_needs_a_positive_weight() -> None:
    with pytest.raises(ValueError):
        split_largest_remainder(Decimal("1.00"), [0, 0])
    with pytest.raises(ValueError):
        split_largest_remainder(Decimal("1.00"), [])
