"""Row ids in URLs, query strings and forms: one bound, MAX_ID, the largest value of a PostgreSQL `integer`
primary key. A larger id names no row, and handed to a query it would make PostgreSQL raise (a 500), so it
is refused where it enters: `<int:...>` URL parts through the bounded converter `register` installs in place
of Flask's default `int` (an id outside 1..MAX_ID answers 404 before the view runs, on every route), query
and form strings through `parse_id`, form fields through `NumberRange(1, MAX_ID, ...)`.

Ids start at 1 (every id column is a serial / identity one): no route takes 0, so the converter refuses it
too (werkzeug's `int` already refuses a sign).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

MIN_ID = 1
MAX_ID = 2**31 - 1


class BoundedIdConverter(IntegerConverter):
    """Flask's `int` converter bounded to MIN_ID..MAX_ID unless a rule asks otherwise (`<int(max=9):n>`)."""

    def __init__(
        self,
        map: Map,  # noqa: A002 - werkzeug's name
        fixed_digits: int = 0,
        min: int | None = MIN_ID,  # noqa: A002
        max: int | None = MAX_ID,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Install the bounded `int` converter; call it before any blueprint adds its rules (a rule takes its
    converter when it is added)."""
    app.url_map.converters["int"] = BoundedIdConverter


def parse_id(text: Any) -> int | None:
    """The id a query or form string names, or None if it names none (empty, not all digits, 0, too big)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None  # (the length test also keeps int() clear of its limit on digits)
    value = int(text)
    return value if MIN_ID <= value <= MAX_ID else None
