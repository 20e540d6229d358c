"""Experiments the benchmarks can run on their throw-away database, to measure what a guarantee costs.

They change the benchmark's scratch database only, never the application: `--drop-foreign-keys` removes the
foreign keys of the tables a benchmark writes, so that the same run shows how much of our time is
PostgreSQL checking them one row at a time (and what is left when they are gone: the floor of the writes
the data model requires)."""

from __future__ import annotations

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
