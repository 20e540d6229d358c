"""Experiments the benchmarks can run on their throw-away database, to measure what a guarantee costs.

They change the benchmark's scratch database only, never the application: `--drop-foreign-keys` removes the
foreign keys of the tables a benchmark writes, so that the same run shows how much of our time is
PostgreSQL checking them one row at a time (and what is left when they are gone: the floor of the writes
the data model requires)."""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

IMPORT_TABLES = (
    "taxpayer_enti",
    "taxpayer_addresses",
    "taxpayer_contacts",
    "positions",
    "movements",
    "events",
    "notice_numbers",
)
# Not `payments`: the anchor copies its foreign keys, both sides keep them.
RECONCILE_TABLES = (
    "movements",
    "payment_allocations",
    "events",
    "payment_anomalies",
    "payment_refunds",
    "payment_reviews",
    "row_versions",
)


HEAP = ("heap_s", "INCLUDING DEFAULTS", False)
INDEXED = ("indexed_s", "INCLUDING DEFAULTS INCLUDING INDEXES", False)
CONSTRAINED = ("constrained_s", "INCLUDING DEFAULTS INCLUDING INDEXES", True)


def write_floors(
    engine: sa.Engine,
    inserts: dict[str, str],
    variants: tuple[tuple[str, str, bool], ...],
    *,
    also_copy: tuple[str, ...] = (),
    prepare: Callable[[sa.Connection], None] | None = None,
    timed_extra: Callable[[sa.Connection], int] | None = None,
) -> dict[str, float | int]:
    """The floors of a benchmark's writes: seconds to write again, in one transaction, the values already
    computed, the rows of `inserts` (table -> WHERE of the rows to copy) into copies of the tables, once per
    variant (label, LIKE options, with the tables' foreign keys or not); never a trigger. `prepare` fills the
    copies of `also_copy` before the clock starts, `timed_extra` adds work inside it (returns its rows)."""
    tables = [*inserts, *also_copy]
    figures: dict[str, float | int] = {}
    for label, like, with_fks in variants:
        with engine.begin() as conn:
            for table in tables:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS floor_{table}"))
                conn.execute(sa.text(f"CREATE TABLE floor_{table} (LIKE {table} {like})"))
            if prepare is not None:
                prepare(conn)
            if with_fks:
                for table in tables:
                    for definition in conn.execute(
                        sa.text(
                            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                            " WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
                        ),
                        {"t": table},
                    ).scalars():
                        conn.execute(sa.text(f"ALTER TABLE floor_{table} ADD {definition}"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in also_copy:
                conn.execute(sa.text(f"VACUUM ANALYZE floor_{table}"))
            conn.execute(sa.text("CHECKPOINT"))
        rows = 0
        started = time.perf_counter()
        with engine.begin() as conn:
            for table, where in inserts.items():
                rows += conn.execute(
                    sa.text(f"INSERT INTO floor_{table} SELECT * FROM {table} WHERE {where}")
                ).rowcount
            if timed_extra is not None:
                rows += timed_extra(conn)
        figures[label] = time.perf_counter() - started
        figures["rows"] = rows
        with engine.begin() as conn:
            for table in tables:
                conn.execute(sa.text(f"DROP TABLE floor_{table}"))
    return figures


def drop_foreign_keys(conn: sa.Connection, tables: tuple[str, ...]) -> int:
    """Drop every foreign key of `tables`; how many there were."""
    rows = conn.execute(
        sa.text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables)"
        ),
        {"tables": list(tables)},
    ).all()
    for table, name in rows:
        conn.execute(sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    return len(rows)
