"""Query-string parameters read through WTForms: a bad one is a 400 with an Italian message, never a 500.

Every list and export reads its filters with a form of :class:`QueryForm` (no CSRF: a GET changes nothing)::

    class PositionFilters(QueryForm):
        stato = SelectField("Stato", validators=[Optional()])
        pagina = page_field()

    form = valid_query(PositionFilters(request.args))   # abort(400, "Parametro «Stato» non valido: ...")

Text fields take :class:`PlainText` (no NUL or other control characters, which PostgreSQL refuses with a
DataError), integers a :class:`~wtforms.validators.NumberRange` (a page of 10**23 would overflow a bigint
OFFSET), choices a list (anything else is refused).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from flask import abort
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional, ValidationError

PAGE_MAX = 100_000
_CONTROL = frozenset(chr(c) for c in range(32)) | {"\x7f"}

F = TypeVar("F", bound=FlaskForm)


class QueryForm(FlaskForm):
    """A filter form read from the query string."""

    class Meta:
        csrf = False  # a GET filter changes nothing


class PlainText:
    """Refuses control characters (NUL included): no filter value needs them."""

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str) and any(char in _CONTROL for char in field.data):
            raise ValidationError("contiene caratteri non ammessi")


def page_field(label: str = "Pagina") -> IntegerField:
    return IntegerField(
        label,
        default=1,
        validators=[Optional(), NumberRange(1, PAGE_MAX, f"un numero da 1 a {PAGE_MAX:,}".replace(",", "."))],
    )


def valid_query(form: F, *, shown_on_form: tuple[str, ...] = ()) -> F:
    """``form`` once validated; otherwise ``abort(400)`` naming the first bad parameter in Italian.

    ``shown_on_form`` names fields whose errors the page shows next to the field instead (a date the user
    typed): those fields are left with their errors and ``data`` set to ``None``.
    """
    if form.validate():
        return form
    for name in shown_on_form:
        if form[name].errors:
            form[name].data = None
    bad = [(name, errors) for name, errors in form.errors.items() if name not in shown_on_form]
    if not bad:
        return form
    name, errors = bad[0]
    label = form[name].label.text if name in form else name
    reason = next((e for e in errors if isinstance(e, str) and _is_ours(e)), "valore non ammesso")
    abort(400, f"Parametro «{label}» ({name}) non valido: {reason}.")


def _is_ours(message: str) -> bool:
    """Our validators' messages are Italian; WTForms' built-in ones may not be (they depend on the locale)."""
    return message.startswith(("contiene", "un numero", "una data", "al massimo"))


class QueryArgs:
    """Mixin of a filters dataclass: `as_args()` gives back the query string it stands for (the set values,
    dates in ISO form), for the links that must keep the filters (paging, exports, drill-downs)."""

    __slots__ = ()

    def as_args(self) -> dict[str, str]:
        return {
            field.name: (value.isoformat() if isinstance(value, dt.date) else str(value))
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if (value := getattr(self, field.name)) not in (None, "")
        }

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Any:
        """The filters back from what `as_args()` gave (e.g. the parameters a job stored): dates and integers
        parsed by the fields' annotations, unknown keys ignored."""
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            raw = args.get(field.name)
            if raw is None or raw == "":
                continue
            types = typing.get_args(hints[field.name]) or (hints[field.name],)
            if isinstance(raw, str) and dt.date in types:
                values[field.name] = dt.date.fromisoformat(raw)
            elif isinstance(raw, str) and int in types:
                values[field.name] = int(raw)
            else:
                values[field.name] = raw
        return cls(**values)
