"""The ad-hoc query builder: a :class:`QuerySpec` (keys of a curated dataset) becomes one scoped SELECT.

What goes in and what comes out:

| spec                     | statement                                                    | rows           |
|--------------------------|--------------------------------------------------------------|----------------|
| no ``group``             | the chosen ``columns`` of each row (detail)                  | one per record |
| ``group`` + ``measures`` | the group fields and each measure, GROUP BY the group fields | one per group  |

Measures: ``count`` (rows), ``sum:<field>`` and ``avg:<field>`` of an int or money field. An average is
computed here from the exact SUM and COUNT, rounded half-up to the cent (money) or unit (int): no float.
Filters: ``(field, op, value)`` with op in :data:`OPERATORS`; the value is parsed by the field's kind
(money as ``1.234,56``), and a bad value raises :class:`SpecError` with an Italian message.
Every statement goes through `app.core.access.scoped` on the dataset's entity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.analytics.datasets import Dataset, Field, dataset
from app.core.access import Principal, scoped
from app.reports.exports import Column, ExportSpec

OPERATORS: dict[str, str] = {
    "eq": "uguale a",
    "ne": "diverso da",
    "lt": "minore di",
    "le": "minore o uguale a",
    "gt": "maggiore di",
    "ge": "maggiore o uguale a",
    "contains": "contiene",
}
MAX_FILTERS = 3
SCREEN_ROWS = 200  # the page shows the first rows; exports have no cap


class SpecError(ValueError):
    """The spec names something the dataset does not offer, or a value that does not parse (Italian)."""


@dataclass(frozen=True, slots=True)
class QuerySpec:
    dataset: str
    columns: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    filters: tuple[tuple[str, str, str], ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "columns": list(self.columns),
            "group": list(self.group),
            "measures": list(self.measures),
            "filters": [list(f) for f in self.filters],
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> QuerySpec:
        return cls(
            dataset=str(body.get("dataset") or ""),
            columns=tuple(body.get("columns") or ()),
            group=tuple(body.get("group") or ()),
            measures=tuple(body.get("measures") or ()),
            filters=tuple(tuple(f) for f in body.get("filters") or ()),  # type: ignore[misc]
        )


@dataclass(frozen=True, slots=True)
class _Avg:
    key: str
    kind: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked spec: the statement, the output columns and how to finish each row (averages)."""

    ds: Dataset
    spec: QuerySpec
    statement: sa.Select
    columns: tuple[Column, ...]
    averages: tuple[_Avg, ...]
    grouped: bool

    def export_spec(self, title: str | None = None) -> ExportSpec:
        summable = [
            c.key
            for c in self.columns
            if c.kind in ("money", "int") and not c.key.startswith("avg_") and c.grouping
        ]
        return ExportSpec(
            title=title or f"Interrogazione: {self.ds.label}",
            columns=self.columns,
            filename_stem=f"interrogazione_{self.ds.key}",
            totals=summable,
        )

    def rows(self, session: Session, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        stmt = self.statement if limit is None else self.statement.limit(limit)
        result = session.execute(stmt).mappings()
        if limit is None:
            result = result.yield_per(2000)
        for raw in result:
            row = {c.key: raw[c.key] for c in self.columns if c.key in raw}
            for avg in self.averages:
                total, count = raw[f"{avg.key}__sum"], raw[f"{avg.key}__n"]
                row[avg.key] = (
                    None
                    if not count
                    else int((Decimal(int(total)) / Decimal(count)).to_integral_value(ROUND_HALF_UP))
                )
            for column in self.columns:  # SQL SUM returns Decimal on PostgreSQL: the export wants int cents
                value = row.get(column.key)
                if column.kind in ("money", "int") and value is not None and not isinstance(value, int):
                    row[column.key] = int(value)
            yield row

    def chart(self, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Bars of the measures by group (None for a detail query: nothing to draw)."""
        if not self.grouped or not rows:
            return None
        group_columns = [c for c in self.columns if c.key in self.spec.group]
        measure_columns = [c for c in self.columns if c.key not in self.spec.group]
        labels = [
            " ".join("–" if r.get(c.key) is None else c.display(r[c.key]) for c in group_columns)
            for r in rows
        ]
        money = [c for c in measure_columns if c.kind == "money"]
        shown = money or measure_columns
        unit = "money" if money else "int"
        series = [{"label": c.header, "data": [r.get(c.key) for r in rows]} for c in shown[:3]]
        return {
            "type": "bar",
            "unit": unit,
            "title": f"Interrogazione: {self.ds.label}",
            "labels": labels,
            "series": series,
        }


def plan(spec: QuerySpec, principal: Principal) -> Plan:
    ds = dataset(spec.dataset)
    if ds is None:
        raise SpecError(f"Insieme di dati sconosciuto: {spec.dataset}.")
    conditions = [_condition(ds, *f) for f in spec.filters[:MAX_FILTERS] if f[0]]
    if spec.group:
        return _grouped(ds, spec, principal, conditions)
    keys = spec.columns or ds.default_columns
    fields = [_field(ds, key) for key in keys]
    columns = tuple(_column(f) for f in fields)
    stmt = ds.base(*(f.expr.label(f.key) for f in fields)).where(*conditions)
    stmt = scoped(stmt, ds.entity, principal).order_by(*(sa.literal_column(f.key) for f in fields[:2]))
    return Plan(ds, spec, stmt, columns, (), grouped=False)


def _grouped(ds: Dataset, spec: QuerySpec, principal: Principal, conditions: list[Any]) -> Plan:
    groups = [_field(ds, key) for key in spec.group]
    for f in groups:
        if not f.group:
            raise SpecError(f"Non si può raggruppare per «{f.label}».")
    selected: list[Any] = [f.expr.label(f.key) for f in groups]
    columns = [_column(f) for f in groups]
    averages = []
    for measure in spec.measures or ("count",):
        if measure == "count":
            selected.append(sa.func.count().label("conteggio"))
            columns.append(Column("conteggio", "Numero", "int"))
            continue
        op, _, key = measure.partition(":")
        f = _field(ds, key)
        if op not in ("sum", "avg") or not f.measure:
            raise SpecError(f"Misura non ammessa: {measure}.")
        if op == "sum":
            selected.append(sa.func.coalesce(sa.func.sum(f.expr), 0).label(f"sum_{f.key}"))
            columns.append(Column(f"sum_{f.key}", f"Somma di {f.label.lower()}", f.kind))
        else:
            selected.append(sa.func.sum(f.expr).label(f"avg_{f.key}__sum"))
            selected.append(sa.func.count(f.expr).label(f"avg_{f.key}__n"))
            columns.append(Column(f"avg_{f.key}", f"Media di {f.label.lower()}", f.kind))
            averages.append(_Avg(f"avg_{f.key}", f.kind))
    keys = [f.expr for f in groups]
    stmt = scoped(ds.base(*selected).where(*conditions), ds.entity, principal).group_by(*keys).order_by(*keys)
    return Plan(ds, spec, stmt, tuple(columns), tuple(averages), grouped=True)


def _field(ds: Dataset, key: str) -> Field:
    if not ds.has(key):
        raise SpecError(f"Il campo «{key}» non fa parte dei dati «{ds.label}».")
    return ds.get(key)


def _column(f: Field) -> Column:
    grouping = not (f.kind == "int" and f.key.startswith("anno"))
    return Column(f.key, f.label, f.kind, labels=f.labels, grouping=grouping)


def _condition(ds: Dataset, key: str, op: str, raw: str) -> Any:
    f = _field(ds, key)
    if op not in OPERATORS:
        raise SpecError(f"Operatore non ammesso: {op}.")
    if op == "contains":
        if f.kind != "text":
            raise SpecError(f"«contiene» vale solo per i campi di testo, non per «{f.label}».")
        escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f.expr.ilike(f"%{escaped}%", escape="\\")
    value = parse_value(f, raw)
    return {
        "eq": f.expr == value,
        "ne": f.expr != value,
        "lt": f.expr < value,
        "le": f.expr <= value,
        "gt": f.expr > value,
        "ge": f.expr >= value,
    }[op]


def parse_value(f: Field, raw: str) -> Any:
    """A filter value typed by the field: Italian money (1.234,56), dates (31/12/2026 or 2026-12-31)."""
    text = raw.strip()
    try:
        if f.kind == "int":
            return int(text)
        if f.kind == "money":
            euros = Decimal(text.replace(".", "").replace(",", ".")) if "," in text else Decimal(text)
            return int((euros * 100).to_integral_value(ROUND_HALF_UP))
        if f.kind in ("date", "datetime"):
            day = (
                dt.datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else dt.date.fromisoformat(text)
            )
            if f.kind == "datetime":
                return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return day
    except (ValueError, InvalidOperation) as exc:
        raise SpecError(f"Valore non valido per «{f.label}»: {raw}.") from exc
    if f.labels:  # a code typed as its label ("Pagata") is accepted too
        for code, label in f.labels.items():
            if label.lower() == text.lower():
                return code
    return text
