from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.reports.formatting import (
    cents_to_machine,
    format_date_it,
    format_datetime_it,
    format_eur,
    format_int,
    format_percent_it,
    format_rate_it,
    money_to_cents,
)


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        pytest.param(0, "0,00 €", id="zero"),
        pytest.param(123456, "1.234,56 €", id="thousands"),
        pytest.param(-5, "-0,05 €", id="negative-cents"),
        pytest.param(100000000, "1.000.000,00 €", id="million"),
        pytest.param(-123456, "-1.234,56 €", id="negative-thousands"),
        pytest.param(99, "0,99 €", id="below-one-euro"),
        pytest.param(100, "1,00 €", id="one-euro"),
        pytest.param(2**53, "90.071.992.547.409,92 €", id="beyond-float-precision"),
    ],
)
def test_format_eur_from_cents(cents, expected):
    assert format_eur(cents) == expected


@pytest.mark.parametrize(
    ("euros", "expected"),
    [
        (Decimal("1234.56"), "1.234,56 €"),
        (Decimal("-0.05"), "-0,05 €"),
        (Decimal("0.00"), "0,00 €"),
        (Decimal("-0"), "0,00 €"),
        (Decimal("12"), "12,00 €"),
        (Decimal("1E+3"), "1.000,00 €"),
    ],
)
def test_format_eur_from_decimal_euros(euros, expected):
    assert format_eur(euros) == expected


def test_format_eur_of_none_is_empty():
    assert format_eur(None) == ""


@pytest.mark.parametrize("value", [1.5, True, "12,00", None])
def test_money_refuses_floats_and_strings(value):
    with pytest.raises(TypeError):
        money_to_cents(value)


@pytest.mark.parametrize("value", [Decimal("0.001"), Decimal("1.005"), Decimal("NaN"), Decimal("Infinity")])
def test_money_refuses_fractions_of_a_cent_instead_of_rounding(value):
    with pytest.raises(ValueError):
        money_to_cents(value)


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (0, "0.00"),
        (123456, "1234.56"),
        (-5, "-0.05"),
        (-123456, "-1234.56"),
        (10**20, "1000000000000000000.00"),
    ],
)
def test_machine_amounts_use_a_dot_and_two_decimals(cents, expected):
    assert cents_to_machine(cents) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (999, "999"), (1000, "1.000"), (1234567, "1.234.567"), (-1234, "-1.234"), (None, "")],
)
def test_format_int_uses_dots_for_thousands(value, expected):
    assert format_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.0525"), "5,25%"),
        (Decimal("0"), "0,00%"),
        (Decimal("1"), "100,00%"),
        (Decimal("0.1"), "10,00%"),
        (Decimal("-0.025"), "-2,50%"),
        (Decimal("0.001234"), "0,1234%"),
        (Decimal("12.5"), "1.250,00%"),
        (None, ""),
    ],
)
def test_format_percent_it_is_exact_with_at_least_two_decimals(value, expected):
    assert format_percent_it(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.250000"), "1,25%"),  # a Rate column (Numeric(9, 6), percent points) as the DB returns it
        (Decimal("0.050000"), "0,05%"),
        (Decimal("6.835800"), "6,8358%"),
        (Decimal("5.000000"), "5,00%"),
        (Decimal("0"), "0,00%"),
        (Decimal("1234.5"), "1.234,50%"),
        (2, "2,00%"),
        (None, ""),
    ],
)
def test_format_rate_it_shows_percent_points_without_the_column_scale(value, expected):
    assert format_rate_it(value) == expected


def test_format_percent_it_drops_the_scale_of_a_column():
    assert format_percent_it(Decimal("0.01250000")) == "1,25%"


def test_format_date_it():
    assert format_date_it(date(2025, 6, 30)) == "30/06/2025"
    assert format_date_it(date(999, 1, 2)) == "02/01/0999"
    assert format_date_it(None) == ""


def test_format_date_it_of_an_aware_datetime_is_the_italian_date():
    assert format_date_it(datetime(2025, 6, 30, 23, 30, tzinfo=UTC)) == "01/07/2025"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(datetime(2025, 6, 30, 14, 5), "30/06/2025 14:05", id="naive-is-local"),
        pytest.param(datetime(2025, 6, 30, 12, 5, tzinfo=UTC), "30/06/2025 14:05", id="utc-summer"),
        pytest.param(datetime(2025, 1, 15, 12, 5, tzinfo=UTC), "15/01/2025 13:05", id="utc-winter"),
        pytest.param(None, "", id="none"),
    ],
)
def test_format_datetime_it_shows_italian_local_time(value, expected):
    assert format_datetime_it(value) == expected


def test_format_datetime_it_with_seconds():
    assert format_datetime_it(datetime(2025, 6, 30, 14, 5, 9), seconds=True) == "30/06/2025 14:05:09"
