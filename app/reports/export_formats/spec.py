"""What an export is (columns, title, totals) and the row handling every writer shares.

Rows reach the writers as an iterable that is consumed exactly once and never materialised: each row is a
mapping (``dict``, SQLAlchemy ``RowMapping``), a sequence in column order (``tuple``, SQLAlchemy ``Row``)
or an object with the column keys as attributes (an ORM instance). :func:`iter_values` turns each into a
tuple of normalised values, one per column:

========== ============================================= ==================================
kind       accepted values                               normalised to
========== ============================================= ==================================
text       ``str`` (anything else goes through ``str``)  ``str``
int        ``int``                                       ``int``
money      ``int`` cents or ``Decimal`` euros            ``int`` cents
date       ``date`` (a ``datetime`` gives its local date) ``date``
datetime   ``datetime``, naive (= local) or aware        ``datetime``
percent    ``Decimal`` or ``int`` fraction (0.05 = 5 %)  ``Decimal``
========== ============================================= ==================================

``None`` stays ``None`` (an empty cell) for every kind. Floats are refused for money and percent.

Codes and labels. A ``text`` column may carry ``labels`` (code → Italian label, e.g. the position states).
The formats meant for people (PDF, XLSX, ODS) show the label; the machine formats (CSV, XML) keep the code,
which is what another system imports and matches on (a code never changes with the wording of a label). A
code with no label is shown as it is.

Years. An ``int`` column with ``grouping=False`` (a year, a number that is a code) is shown without thousands
separators (``2019``, not ``2.019``) in every format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Literal, get_args

from app.engine.money import format_cents
from app.reports.formatting import (
    format_date_it,
    format_datetime_it,
    format_eur,
    format_int,
    format_percent_it,
    money_to_cents,
    to_local_naive,
)

Kind = Literal["text", "int", "money", "date", "datetime", "percent"]
KINDS: tuple[str, ...] = get_args(Kind)
NUMERIC_KINDS = frozenset({"int", "money", "percent"})
SUMMABLE_KINDS = frozenset({"int", "money"})
TOTAL_LABEL = "Totale"

# Default column widths, in characters (the unit of XLSX column widths).
_DEFAULT_WIDTHS = {"text": 24, "int": 10, "money": 16, "date": 11, "datetime": 17, "percent": 10}
_FILENAME_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
# Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: ``key`` reads the row, ``header`` is the Italian label people see.

    ``width`` is in characters; when omitted a width suited to the kind and the header is used.
    ``labels`` (text columns): the label people read for each code (PDF, XLSX, ODS); CSV and XML keep
    the code.
    ``grouping`` (int columns): ``False`` for years and other numbers shown without thousands separators.
    """

    key: str
    header: str
    kind: Kind = "text"
    width: float | None = None
    labels: Mapping[str, str] | None = field(default=None, compare=False)
    grouping: bool = True

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a column needs a key")
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key!r}: unknown kind {self.kind!r}, expected one of {KINDS}")
        if self.width is not None and not self.width > 0:
            raise ValueError(f"column {self.key!r}: width must be positive")
        if self.labels is not None and self.kind != "text":
            raise ValueError(f"column {self.key!r}: labels are for text columns")
        if not self.grouping and self.kind != "int":
            raise ValueError(f"column {self.key!r}: grouping applies to int columns")

    @property
    def display_width(self) -> float:
        """The width in characters: the given one, or the kind's default widened to fit the header."""
        if self.width is not None:
            return self.width
        return max(_DEFAULT_WIDTHS[self.kind], len(self.header) + 2)

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def number_style(self) -> str:
        """How a spreadsheet formats the cells: the kind, or ``"year"`` for an int without grouping."""
        return "year" if self.kind == "int" and not self.grouping else self.kind

    def display(self, value: Any) -> str:
        """A normalised non-``None`` value as the Italian text people read (the label of a code)."""
        if self.labels is not None:
            return self.labels.get(value, value)
        if self.number_style == "year":
            return str(value)
        return DISPLAY_FORMATTERS[self.kind](value)


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """An export: its title, its columns and the ``filename_stem`` of the downloaded file.

    ``totals`` lists the keys of ``money``/``int`` columns summed, while streaming, into a final
    "Totale" row (exact integer sums; money in cents).
    """

    title: str
    columns: Sequence[Column]
    filename_stem: str
    totals: Sequence[str] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "totals", tuple(self.totals))
        if not self.title.strip():
            raise ValueError("an export needs a title")
        if not self.columns:
            raise ValueError("an export needs at least one column")
        keys = [column.key for column in self.columns]
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        if duplicated:
            raise ValueError(f"duplicated column keys: {duplicated}")
        if not _FILENAME_STEM.fullmatch(self.filename_stem):
            raise ValueError(
                f"filename_stem must be ASCII letters, digits, '_' or '-': {self.filename_stem!r}"
            )
        kinds = {column.key: column.kind for column in self.columns}
        for key in self.totals:
            if kinds.get(key) not in SUMMABLE_KINDS:
                raise ValueError(f"totals: {key!r} is not a money or int column")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)


class ExportTooLarge(Exception):
    """Too many rows for the format: a PDF over its cap, an XLSX over a worksheet's rows.

    The message is Italian and meant for the user: "Troppe righe per il PDF (25.000): usare CSV o XLSX".
    ``rows`` is the row count when it was known before reading (a list), else ``None`` ("oltre 20.000").
    """

    def __init__(self, fmt: str, max_rows: int, rows: int | None = None, hint: str = "usare CSV o XLSX"):
        self.fmt = fmt
        self.max_rows = max_rows
        self.rows = rows
        count = format_int(rows) if rows is not None else f"oltre {format_int(max_rows)}"
        super().__init__(f"Troppe righe per il {fmt} ({count}): {hint}")


class Totals:
    """Running integer sums of the ``spec.totals`` columns, fed one normalised row at a time."""

    def __init__(self, spec: ExportSpec) -> None:
        self.enabled = bool(spec.totals)
        self.width = len(spec.columns)
        self.indexes = tuple(i for i, column in enumerate(spec.columns) if column.key in spec.totals)
        self.sums = dict.fromkeys(self.indexes, 0)
        #: Where the "Totale" label goes: the first column that is not summed (None if every column is).
        self.label_index = next((i for i in range(len(spec.columns)) if i not in self.sums), None)

    def add(self, values: Sequence[Any]) -> None:
        for index in self.indexes:
            value = values[index]
            if value is not None:
                self.sums[index] += value

    def row(self) -> tuple[Any, ...]:
        """The totals as a row: the label, the sums in their columns, ``None`` elsewhere."""
        cells: list[Any] = [None] * self.width
        if self.label_index is not None:
            cells[self.label_index] = TOTAL_LABEL
        for index, value in self.sums.items():
            cells[index] = value
        return tuple(cells)


def xml_safe_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (NUL, other C0 controls, lone surrogates)."""
    return _XML_ILLEGAL.sub("", text)


def sheet_name(title: str) -> str:
    """A worksheet name valid in Excel and LibreOffice: the title, at most 31 characters, no ``[]:*?/\\``."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", xml_safe_text(title)).strip().strip("'")[:31].strip()
    return name or "Esportazione"


def iter_values(rows: Iterable[Any], spec: ExportSpec) -> Iterator[tuple[Any, ...]]:
    """Yield each row as a tuple of normalised values (see the module docstring), lazily.

    :raise KeyError: a mapping row lacks a column key.
    :raise ValueError: a sequence row has the wrong length, or a value is out of range.
    :raise TypeError: a value has the wrong type for its column (e.g. a float amount).
    """
    keys = spec.keys
    converters = tuple(_CONVERTERS[column.kind] for column in spec.columns)
    # values already in their normal type pass as they are (no call per value: the hot loop of big exports)
    ready = tuple(_READY_TYPES.get(column.kind) for column in spec.columns)
    width = len(keys)
    pick = itemgetter(*keys) if width > 1 else (lambda row: (row[keys[0]],))
    # a row whose values' types were all seen normal (or None) before passes whole: one map(type) per row
    # instead of a test per value (the types of a query's rows repeat)
    accepted: set[tuple[type, ...]] = set()
    mappings: set[type] = {dict}
    for number, row in enumerate(rows, start=1):
        kind = type(row)
        if kind is tuple and len(row) == width:  # plain tuples (export_rows.stream_rows): no ABC checks
            raw = row
        elif kind in mappings or isinstance(row, Mapping):
            mappings.add(kind)
            raw = pick(row)
        elif isinstance(row, Sequence) and not isinstance(row, str | bytes):
            if len(row) != width:
                raise ValueError(f"row {number}: {len(row)} values for {width} columns")
            raw = row
        else:
            raw = [getattr(row, key) for key in keys]
        types = tuple(map(type, raw))
        if types in accepted:
            yield tuple(raw)
            continue
        if all(t is _NONE or t is normal for t, normal in zip(types, ready, strict=True)):
            accepted.add(types)
            yield tuple(raw)
            continue
        try:
            values = tuple(
                [
                    value if value is None or type(value) is normal else convert(value)
                    for convert, normal, value in zip(converters, ready, raw, strict=True)
                ]
            )
        except (TypeError, ValueError) as exc:
            error = TypeError if isinstance(exc, TypeError) else ValueError
            raise error(f"row {number}: {_describe_failure(raw, converters, keys)}") from exc
        yield values


def _describe_failure(raw: Sequence[Any], converters: Sequence[Any], keys: Sequence[str]) -> str:
    for key, convert, value in zip(keys, converters, raw, strict=True):
        if value is None:
            continue
        try:
            convert(value)
        except (TypeError, ValueError) as exc:
            return f"column {key!r}: {exc}"
    return "invalid value"


def _to_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, not {type(value).__name__}: {value!r}")
    return value


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return to_local_naive(value).date()
    if not isinstance(value, date):
        raise TypeError(f"expected a date, not {type(value).__name__}: {value!r}")
    return value


def _to_datetime(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, not {type(value).__name__}: {value!r}")
    return value


def _to_percent(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"percent must be a Decimal or int fraction, not {type(value).__name__}: {value!r}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"percent must be finite: {value!r}")
    return value


#: The type a value of each kind already has when it needs no conversion (exactly: a bool is no int, a
#: datetime no date).
_READY_TYPES: dict[str, type] = {"text": str, "int": int, "money": int, "date": date}
_NONE = type(None)

_CONVERTERS = {
    "text": _to_text,
    "int": _to_int,
    "money": money_to_cents,
    "date": _to_date,
    "datetime": _to_datetime,
    "percent": _to_percent,
}


def _iso_datetime(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _plain_decimal(value: Decimal) -> str:
    return format(value, "f")


#: Normalised value → machine text (CSV, XML): ``1234.56``, ``2025-06-30``, ISO datetimes, fractions.
MACHINE_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": str,
    "int": str,
    "money": format_cents,  # what cents_to_machine calls, without the extra frame (the hot loop of CSV)
    "date": date.isoformat,
    "datetime": _iso_datetime,
    "percent": _plain_decimal,
}

#: Normalised value → Italian text for people (PDF, the text of ODS cells): ``1.234,56 €``, ``30/06/2025``.
DISPLAY_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": str,
    "int": format_int,
    "money": format_eur,
    "date": format_date_it,
    "datetime": format_datetime_it,
    "percent": format_percent_it,
}
