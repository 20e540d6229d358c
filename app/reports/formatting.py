"""Italian display formatting for amounts, numbers, dates and percentages.

Used by the PDF export and by the screens (as Jinja filters), so it imports nothing from Flask.

Money arrives in two shapes and both are exact:

- ``int``: euro **cents**, as the database stores them (``123456`` is 1.234,56 €);
- ``Decimal``: **euros** with at most two decimals, as a ``Numeric(14, 2)`` column returns them.

A ``float`` is refused with ``TypeError`` (never use floating point for money) and a ``Decimal`` with
fractions of a cent with ``ValueError``: a display helper never rounds an amount, rounding is a legal
decision that belongs to ``app/engine``. All arithmetic below is on integers, so no Decimal context is
involved.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.engine.money import format_cents

__all__ = [
    "LOCAL_TZ",
    "format_date_it",
    "format_datetime_it",
    "format_eur",
    "format_int",
    "format_percent_it",
    "format_rate_it",
    "money_to_cents",
    "cents_to_machine",
    "to_local_naive",
]

#: The time zone people read dates in. Aware datetimes are shown in it; naive ones are taken as already local.
LOCAL_TZ = ZoneInfo("Europe/Rome")

_TO_ITALIAN = str.maketrans({",": ".", ".": ","})


def money_to_cents(value: int | Decimal) -> int:
    """Return an amount as integer cents: ``int`` is cents already, ``Decimal`` is euros.

    :raise TypeError: for floats, bools and anything that is not an int or a Decimal.
    :raise ValueError: for a Decimal with fractions of a cent, or NaN/infinity.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"money must be int cents or Decimal euros, not {type(value).__name__}: {value!r}")
    if isinstance(value, int):
        return value
    if not value.is_finite():
        raise ValueError(f"money must be a finite amount: {value!r}")
    sign, digits, exponent = value.as_tuple()
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + 2  # the exponent of the amount expressed in cents
    if shift >= 0:
        cents = coefficient * 10**shift
    else:
        cents, remainder = divmod(coefficient, 10**-shift)
        if remainder:
            raise ValueError(f"amount has fractions of a cent, refusing to round it: {value}")
    return -cents if sign else cents


def cents_to_machine(cents: int) -> str:
    """Cents as a machine-readable amount: ``123456`` → ``"1234.56"``, ``-5`` → ``"-0.05"`` (the engine's
    formats.md rule, one implementation)."""
    return format_cents(cents)


def format_eur(value: int | Decimal | None) -> str:
    """``123456`` (cents) or ``Decimal("1234.56")`` (euros) → ``"1.234,56 €"``; ``None`` → ``""``.

    Negative amounts get a leading minus (``"-1.234,56 €"``); zero is ``"0,00 €"``.
    """
    if value is None:
        return ""
    cents = money_to_cents(value)
    units, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{format_int(units)},{rest:02d} €"


def format_int(value: int | None) -> str:
    """``1234567`` → ``"1.234.567"`` (dot as thousands separator); ``None`` → ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, not {type(value).__name__}: {value!r}")
    return f"{value:,}".replace(",", ".")


def format_percent_it(value: Decimal | int | None) -> str:
    """A fraction shown as an Italian percentage: ``Decimal("0.0525")`` → ``"5,25%"``; ``None`` → ``""``.

    The value is exact: at least two decimals are shown and none is rounded away
    (``Decimal("0.001234")`` → ``"0,1234%"``).
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"percent must be a Decimal or int fraction, not {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"percent must be finite: {value!r}")
    return _percent_text(Decimal(value).scaleb(2))


def format_rate_it(value: Decimal | int | None) -> str:
    """A rate stored in percent points (the `Rate` columns: ``Decimal("1.250000")`` is 1,25%) shown as an
    Italian percentage: ``"1,25%"``, ``Decimal("0.05")`` → ``"0,05%"``, ``Decimal("6.8358")`` →
    ``"6,8358%"``, ``Decimal("5")`` → ``"5,00%"``; ``None`` → ``""``. Exact like `format_percent_it`."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"rate must be a Decimal or int percentage, not {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"rate must be finite: {value!r}")
    return _percent_text(Decimal(value))


def _percent_text(percent: Decimal) -> str:
    """Percent points as Italian text: trailing zeros dropped, but never fewer than two decimals, and no
    digit rounded away (a database column's scale, e.g. 1.250000, is not shown)."""
    if percent == 0:
        percent = Decimal(0)  # no "-0,00%"
    percent = percent.normalize()
    if percent.as_tuple().exponent > -2:
        percent = percent.quantize(Decimal("0.01"))  # only adds zeros: the exponent is > -2
    return format(percent, ",f").translate(_TO_ITALIAN) + "%"


def to_local_naive(value: datetime) -> datetime:
    """An aware datetime converted to Italian local time and made naive; a naive one is returned unchanged."""
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def format_date_it(value: date | None) -> str:
    """``date(2025, 6, 30)`` → ``"30/06/2025"``; ``None`` → ``""``. A datetime shows its local date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local_naive(value)
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime_it(value: datetime | None, *, seconds: bool = False) -> str:
    """``datetime(2025, 6, 30, 14, 5)`` → ``"30/06/2025 14:05"`` in Italian local time; ``None`` → ``""``."""
    if value is None:
        return ""
    local = to_local_naive(value)
    time_part = f"{local.hour:02d}:{local.minute:02d}" + (f":{local.second:02d}" if seconds else "")
    return f"{format_date_it(local)} {time_part}"


MONTHS_IT = (
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
)  # fmt: skip


def format_month_it(key: str) -> str:
    """A month key ``"2026-12"`` as people read it: ``"dicembre 2026"`` (statistics by month)."""
    year, month = key.split("-")
    return f"{MONTHS_IT[int(month) - 1]} {year}"
