"""The materialised position summary: how it is rebuilt (one set-based INSERT ... SELECT), its ageing buckets.

A position's figures come from its ledger (formats.md / architecture.md: the movements are the truth):

| summary column      | from the movements of the position                                  |
|---------------------|---------------------------------------------------------------------|
| carico_cents        | sum of kind "carico"                                                |
| sgravio_cents       | minus the sum of kind "sgravio" (a positive number)                 |
| collected_cents     | minus the sum of kinds "pagamento" and "rimborso" (payments net of refunds) |
| outstanding_cents   | the sum of every movement (the balance)                             |

The ageing bucket is measured from the position's due date to `as_of` (the refresh day): under 1 year,
1-2, 2-3, 3-5, over 5 years. The rebuild never commits: the periodic job (`tasks.refresh_summary`) does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.analytics.models import PositionSummary
from app.core.db import utcnow
from app.positions.models import Movement, Position

# (years from due date: lower bound inclusive, label); the index is the bucket stored in the summary
AGE_BUCKETS: tuple[tuple[int, str], ...] = (
    (0, "Meno di 1 anno"),
    (1, "Da 1 a 2 anni"),
    (2, "Da 2 a 3 anni"),
    (3, "Da 3 a 5 anni"),
    (5, "Oltre 5 anni"),
)


@dataclass(frozen=True, slots=True)
class RefreshResult:
    rows: int
    as_of: dt.date
    refreshed_dt: dt.datetime


def years_before(day: dt.date, years: int) -> dt.date:
    """`day` minus whole years (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_bucket_expression(due: sa.ColumnElement[dt.date], as_of: dt.date) -> sa.ColumnElement[int]:
    """The bucket index of a due date, as a CASE on dates computed here (portable: no interval arithmetic)."""
    whens = []
    for index in range(len(AGE_BUCKETS) - 1, 0, -1):
        whens.append((due <= years_before(as_of, AGE_BUCKETS[index][0]), index))
    return sa.case(*whens, else_=0)


def ledger_per_position() -> sa.Subquery:
    """Each position's carico, abated, collected and balance from its movements."""

    def of(*kinds: str) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((Movement.kind.in_(kinds), Movement.amount_cents), else_=0))

    return (
        sa.select(
            Movement.position_id.label("position_id"),
            of("carico").label("carico"),
            (-of("sgravio")).label("sgravio"),
            (-of("pagamento", "rimborso")).label("collected"),
            sa.func.sum(Movement.amount_cents).label("balance"),
        )
        .group_by(Movement.position_id)
        .subquery("ledger")
    )


def summary_select(as_of: dt.date, refreshed: dt.datetime) -> sa.Select:
    ledger = ledger_per_position()
    bucket = age_bucket_expression(Position.due_date, as_of).label("age_bucket")
    return (
        sa.select(
            Position.ente_id,
            Position.entrata_id,
            Position.year,
            Position.state,
            bucket,
            sa.func.count().label("positions"),
            sa.func.coalesce(sa.func.sum(ledger.c.carico), 0),
            sa.func.coalesce(sa.func.sum(ledger.c.sgravio), 0),
            sa.func.coalesce(sa.func.sum(ledger.c.collected), 0),
            sa.func.coalesce(sa.func.sum(ledger.c.balance), 0),
            sa.literal(as_of, sa.Date),
            sa.literal(refreshed, PositionSummary.__table__.c.refreshed_dt.type),
        )
        .select_from(Position)
        .outerjoin(ledger, ledger.c.position_id == Position.id)
        .group_by(Position.ente_id, Position.entrata_id, Position.year, Position.state, bucket)
    )


def rebuild(session: Session, as_of: dt.date) -> RefreshResult:
    """Replace the whole summary with the figures of today's ledger (one transaction: readers see the old
    rows until the caller commits)."""
    refreshed = utcnow()
    table = PositionSummary.__table__
    session.execute(sa.delete(table))
    columns = [
        "ente_id",
        "entrata_id",
        "year",
        "state",
        "age_bucket",
        "positions",
        "carico_cents",
        "sgravio_cents",
        "collected_cents",
        "outstanding_cents",
        "as_of",
        "refreshed_dt",
    ]
    session.execute(sa.insert(table).from_select(columns, summary_select(as_of, refreshed)))
    rows = session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
    return RefreshResult(rows=rows, as_of=as_of, refreshed_dt=refreshed)


def last_refresh(session: Session) -> tuple[dt.datetime | None, dt.date | None]:
    row = session.execute(
        sa.select(sa.func.max(PositionSummary.refreshed_dt), sa.func.max(PositionSummary.as_of))
    ).one()
    refreshed = row[0]
    if refreshed is not None and refreshed.tzinfo is None:
        refreshed = refreshed.replace(tzinfo=dt.UTC)
    return refreshed, row[1]
