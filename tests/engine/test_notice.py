from __future__ import annotations

import pytest

from app.engine.errors import InvalidNotice
from app.engine.notice import is_valid_notice, iuv, notice_number, segregation_code


def test_known_vector_of_domain_6_1() -> None:
    # 3440123456789012 mod 93 = 86 → 344012345678901286, IUV 44012345678901286
    assert notice_number("44", "0123456789012") == "344012345678901286"
    assert notice_number("44", 123456789012) == "344012345678901286"
    assert iuv("344012345678901286") == "44012345678901286"
    assert segregation_code("344012345678901286") == "44"
    assert is_valid_notice("344012345678901286")


def test_check_digits_are_zero_padded() -> None:
    # 3010000000000000 = 93 x 32365591397849 + 43 → check digits "43"
    assert notice_number("01", 0) == "301000000000000043"
    # base 55: 3010000000000055 = 3010000000000000 + 55 → (43 + 55) mod 93 = 98 mod 93 = 5 → "05"
    assert notice_number("01", 55) == "301000000000005505"
    assert is_valid_notice("301000000000005505")


@pytest.mark.parametrize(
    "number",
    [
        "344012345678901287",  # wrong check digits
        "044012345678901286",  # aux 0 is no longer allowed
        "34401234567890128",  # 17 digits
        "34401234567890128a",
        "",
    ],
)
def test_invalid_notice_numbers(number: str) -> None:
    assert not is_valid_notice(number)
    with pytest.raises(InvalidNotice):
        iuv(number)


@pytest.mark.parametrize(
    ("segregation", "base"),
    [
        ("4", "0123456789012"),
        ("44", "123"),
        ("44", 10**13),
        ("44", -1),
        ("ab", "0123456789012"),
        ("44", True),
    ],
)
def test_notice_number_refuses_bad_parts(segregation: str, base: object) -> None:
    with pytest.raises(InvalidNotice):
        notice_number(segregation, base)  # type: ignore[arg-type]
