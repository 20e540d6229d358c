"""Rows of an export straight from the database as plain tuples in the spec's column order.

SQLAlchemy builds a ``Row`` (and, with ``.mappings()``, a ``RowMapping``) for every row it returns; for an
export of a million rows that is most of what stands between the writers and the cost of the query itself.
:func:`stream_rows` compiles the statement with SQLAlchemy (so scoping, bound parameters and ``IN`` lists are
the ones a normal execution would use) and then reads it through a server-side cursor of the driver
(psycopg), ``fetchmany`` after ``fetchmany``: the rows are the driver's tuples, reordered to the export's
columns by one ``itemgetter`` compiled once.

The driver's values are the ones SQLAlchemy would return whenever no type of the statement converts them
(plain text, integers, dates, timestamps, numerics: the columns of the exports). When a type does convert
(an ``Enum``, a ``TypeDecorator``, JSON) or the statement needs what the raw path does not do (escaped or
positional parameters), the rows come through SQLAlchemy instead, as tuples all the same: same values, a
little slower.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

FETCH_ROWS = 5000


def stream_rows(
    bind: Session | sa.Connection,
    stmt: sa.Executable,
    keys: Sequence[str],
    *,
    batch: int = FETCH_ROWS,
) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of ``stmt`` as tuples of the columns named ``keys``, in that order, streaming.

    ``bind`` is the request's (or the job's) session or a connection; the cursor lives inside its current
    transaction and is closed when the generator ends or is closed.

    :raise KeyError: a key is not a column of the statement.
    """
    conn = bind if isinstance(bind, sa.Connection) else bind.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    if _driver_ready(compiled, stmt, conn.dialect):
        yield from _driver_rows(conn, compiled, keys, batch)
        return
    # execution options per statement: Connection.execution_options() would change the session's connection
    result = conn.execute(stmt, execution_options={"yield_per": batch})
    try:
        pick = _picker(list(result.keys()), keys)
        for partition in result.tuples().partitions():
            yield from map(pick or tuple, partition)
    finally:
        result.close()


def _driver_ready(compiled: Any, stmt: sa.Executable, dialect: sa.Dialect) -> bool:
    """Whether the driver's own rows and parameters are exactly what SQLAlchemy would use."""
    if compiled.positional or getattr(compiled, "escaped_bind_names", None):
        return False
    if dialect.driver != "psycopg":
        return False
    for bind in compiled.binds.values():
        if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
            return False
    columns = getattr(stmt, "selected_columns", None)
    if columns is None:
        return isinstance(stmt, sa.TextClause)  # untyped text: SQLAlchemy converts nothing either
    return all(
        column.type.dialect_impl(dialect).result_processor(dialect, None) is None for column in columns
    )


def _driver_rows(conn: sa.Connection, compiled: Any, keys: Sequence[str], batch: int) -> Iterator[tuple]:
    driver = conn.connection.driver_connection
    with driver.cursor(name=f"export_{uuid.uuid4().hex}") as cursor:  # type: ignore[union-attr]
        cursor.execute(compiled.string, compiled.params)
        rows = cursor.fetchmany(batch)
        pick = _picker([d.name for d in cursor.description or ()], keys)
        while rows:
            yield from rows if pick is None else map(pick, rows)
            rows = cursor.fetchmany(batch)


def _picker(names: list[str], keys: Sequence[str]) -> Any:
    """A callable turning a row of ``names`` into the tuple of ``keys``; None when they already match."""
    if list(keys) == names:
        return None
    missing = [key for key in keys if key not in names]
    if missing:
        raise KeyError(f"columns not in the statement: {missing}")
    indexes = [names.index(key) for key in keys]
    if len(indexes) == 1:
        index = indexes[0]
        return lambda row: (row[index],)
    return itemgetter(*indexes)
