"""pagoPA notice numbers (codice avviso) with aux digit 3 (formats.md §3, domain.md §6.1, SACI).

`3` + segregation code (2 digits) + IUV base (13 digits) + check digits (2 digits), the check digits being
int("3" + segregation + base) mod 93, zero-padded. The IUV is the last 17 digits.
"""

from __future__ import annotations

from app.engine.errors import InvalidNotice

AUX_DIGIT = "3"
CHECK_MODULUS = 93  # SACI: remainder of the division by 93


def check_digits(segregation: str, base: str) -> str:
    return f"{int(AUX_DIGIT + segregation + base) % CHECK_MODULUS:02d}"


def notice_number(segregation: str, base: int | str) -> str:
    """The 18-digit codice avviso for `segregation` (2 digits) and an IUV base (13 digits or an int)."""
    if not (isinstance(segregation, str) and len(segregation) == 2 and segregation.isdigit()):
        raise InvalidNotice(segregation, "il codice di segregazione deve avere 2 cifre")
    if isinstance(base, bool):
        raise InvalidNotice(base, "base IUV non valida")
    if isinstance(base, int):
        if not 0 <= base < 10**13:
            raise InvalidNotice(base, "la base IUV deve stare in 13 cifre")
        base = f"{base:013d}"
    if not (isinstance(base, str) and len(base) == 13 and base.isascii() and base.isdigit()):
        raise InvalidNotice(base, "la base IUV deve avere 13 cifre")
    return AUX_DIGIT + segregation + base + check_digits(segregation, base)


def is_valid_notice(number: str) -> bool:
    """True for an 18-digit notice number with aux digit 3 and correct check digits."""
    if not (isinstance(number, str) and len(number) == 18 and number.isascii() and number.isdigit()):
        return False
    if number[0] != AUX_DIGIT:
        return False
    return number[16:] == check_digits(number[1:3], number[3:16])


def iuv(number: str) -> str:
    """The IUV of a notice number: its last 17 digits. Raises InvalidNotice for an invalid number."""
    if not is_valid_notice(number):
        raise InvalidNotice(number, "attese 18 cifre con cifra ausiliaria 3 e check digit corretti")
    return number[1:]


def segregation_code(number: str) -> str:
    """The segregation code (digits 2-3) of a valid notice number."""
    iuv(number)
    return number[1:3]


def grouped(number: str) -> str:
    """`301000000000004083` -> "3010 0000 0000 0040 83": the codice avviso as printed on the avviso (domain.md
    §6.2)."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
