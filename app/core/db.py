"""Declarative base, naming convention and small column helpers shared by every module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON documents: JSONB on PostgreSQL, JSON text elsewhere.
JsonDoc = sa.JSON().with_variant(JSONB(), "postgresql")
# Money: integer cents (style.md: `BigInteger`, suffix `_cents`). Never Float.
Cents = sa.BigInteger
# Rates: percent with six decimals.
Rate = sa.Numeric(9, 6)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class CreatedMixin:
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def insert_rows(session: Any, table: sa.Table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table` as one executemany; with `ids`, the new ids in
    the rows' order. On PostgreSQL the ids are taken from the table's sequence first (one SELECT) and the rows
    go with them: the driver's executemany sends one short statement per row in a pipeline, where an INSERT
    ... RETURNING of many rows is one statement of thousands of parameters that the driver parses again each
    time (psycopg caches no statement over 4 KB: ~50 ms a table for 200 acts). Elsewhere INSERT ... RETURNING.
    Core, not ORM: Python-side column defaults apply, ORM events and identity map do not."""
    if not rows:
        return []
    if not ids:
        session.execute(sa.insert(table), rows)
        return []
    if session.get_bind().dialect.name == "postgresql":
        new_ids = list(
            session.scalars(
                sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id"))).select_from(
                    sa.func.generate_series(1, len(rows))
                )
            )
        )
        session.execute(sa.insert(table), [{**row, "id": i} for row, i in zip(rows, new_ids, strict=True)])
        return new_ids
    result = session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [int(i) for i in result.scalars()]


def count_rows(session: Any, stmt: sa.Select) -> int:
    """How many rows `stmt` returns (its ORDER BY, LIMIT and OFFSET aside): the total a list shows."""
    inner = stmt.order_by(None).limit(None).offset(None).subquery()
    return int(session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0)
