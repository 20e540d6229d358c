"""History of edited tables (R-A20).

A model opts in with `__versioned__ = True`. Before each flush, every changed or deleted row of such a
model leaves a `RowVersion` with its state *before* the change, who changed it and when. A row as it was at a
past instant is therefore: the `before` of the first version written after that instant, or the row itself
when nothing changed since (`state_as_of`).

Addresses and contacts are not edited in place at all: they are valid-time rows (a new version closes the
previous one), so they need no snapshot.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base, JsonDoc, UTCDateTime, utcnow


class RowVersion(Base):
    __tablename__ = "row_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(64))
    row_id: Mapped[int] = mapped_column(sa.BigInteger)
    operation: Mapped[str] = mapped_column(sa.String(8))  # update | delete
    changed_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    before: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    changed: Mapped[list[str]] = mapped_column(JsonDoc)

    __table_args__ = (
        sa.Index("ix_row_versions_table_row", "table_name", "row_id", "changed_dt"),
        sa.Index("ix_row_versions_table_id", "table_name", "id"),  # enti.queries.parameters_stamp's max(id)
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact, never a float
    return value


def _snapshot_before(obj: Any) -> tuple[dict[str, Any], list[str]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    changed: list[str] = []
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            changed.append(attr.key)
            old = hist.deleted[0] if hist.deleted else None
        else:
            old = getattr(obj, attr.key)
        before[attr.key] = _jsonable(old)
    return before, changed


@event.listens_for(Session, "before_flush")
def _record_versions(session: Session, flush_context: Any, instances: Any) -> None:
    actor_id = session.info.get("actor_id")
    for obj in list(session.dirty):
        if not getattr(obj, "__versioned__", False) or not session.is_modified(
            obj, include_collections=False
        ):
            continue
        before, changed = _snapshot_before(obj)
        if changed:
            session.add(
                RowVersion(
                    table_name=obj.__tablename__,
                    row_id=obj.id,
                    operation="update",
                    changed_by_id=actor_id,
                    before=before,
                    changed=changed,
                )
            )
    for obj in list(session.deleted):
        if getattr(obj, "__versioned__", False):
            before, _ = _snapshot_before(obj)
            session.add(
                RowVersion(
                    table_name=obj.__tablename__,
                    row_id=obj.id,
                    operation="delete",
                    changed_by_id=actor_id,
                    before=before,
                    changed=list(before),
                )
            )


def state_as_of(session: Session, obj: Any, when: dt.datetime) -> dict[str, Any]:
    """The column values of `obj` as they were at `when` (current values if unchanged since)."""
    first_later = session.scalars(
        sa.select(RowVersion)
        .where(
            RowVersion.table_name == obj.__tablename__,
            RowVersion.row_id == obj.id,
            RowVersion.changed_dt > when,
        )
        .order_by(RowVersion.changed_dt, RowVersion.id)
        .limit(1)
    ).first()
    if first_later is None:
        return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}
    return {
        attr.key: _from_json(attr, first_later.before.get(attr.key))
        for attr in inspect(obj).mapper.column_attrs
    }


def _from_json(attr: Any, value: Any) -> Any:
    """Snapshots store dates as ISO text; give them back as dates and datetimes."""
    if not isinstance(value, str):
        return value
    column_type = attr.columns[0].type
    if isinstance(column_type, sa.Date) and not isinstance(column_type, sa.DateTime):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, sa.DateTime | UTCDateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        return Decimal(value)
    return value


def versions_of(session: Session, obj: Any) -> list[RowVersion]:
    return list(
        session.scalars(
            sa.select(RowVersion)
            .where(RowVersion.table_name == obj.__tablename__, RowVersion.row_id == obj.id)
            .order_by(RowVersion.changed_dt.desc(), RowVersion.id.desc())
        )
    )
