"""The analytics slice's tables: the materialised position summary the dashboards read, and saved (optionally
scheduled) ad-hoc queries.

`PositionSummary` is derived data (the ledger stays the truth): one row per ente, entrata, year, state and
ageing bucket with the counts and the ledger's sums, rebuilt as a whole by
`app.analytics.tasks.refresh_summary` (a periodic job). A live aggregate over millions of positions and their
movements takes seconds; the summary answers a dashboard in milliseconds (see benchmarks/bench_dashboard.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime

FREQUENCIES: dict[str, str] = {
    "giornaliera": "Ogni giorno",
    "settimanale": "Ogni settimana",
    "mensile": "Ogni mese",
}
DELIVERIES: dict[str, str] = {"email": "Per e-mail (allegato)", "archivio": "Nell'archivio documentale"}


class PositionSummary(Base):
    """One aggregate row of the positions of an ente: the dashboards' materialised figures."""

    __tablename__ = "analytics_position_summary"

    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), primary_key=True, autoincrement=False)
    entrata_id: Mapped[int] = mapped_column(
        sa.ForeignKey("entrate.id"), primary_key=True, autoincrement=False
    )
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    age_bucket: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    positions: Mapped[int] = mapped_column(sa.Integer)
    carico_cents: Mapped[int] = mapped_column(Cents)  # movements of kind "carico"
    sgravio_cents: Mapped[int] = mapped_column(Cents)  # abated (positive number)
    collected_cents: Mapped[int] = mapped_column(Cents)  # payments net of refunds (positive number)
    outstanding_cents: Mapped[int] = mapped_column(Cents)  # the ledger's balance
    as_of: Mapped[dt.date] = mapped_column(sa.Date)  # the day the ageing was measured from
    refreshed_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SavedQuery(CreatedMixin, Base):
    """An ad-hoc query of the builder, saved by its owner, optionally shared with a role and scheduled."""

    __tablename__ = "analytics_saved_queries"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    shared_role: Mapped[str | None] = mapped_column(sa.String(20))
    dataset: Mapped[str] = mapped_column(sa.String(30))
    spec: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # schedule (all None: not scheduled)
    frequency: Mapped[str | None] = mapped_column(sa.String(12))
    delivery: Mapped[str | None] = mapped_column(sa.String(12))
    export_format: Mapped[str | None] = mapped_column(sa.String(4))
    recipient: Mapped[str | None] = mapped_column(sa.String(200))
    archive_ente_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enti.id"))
    next_run: Mapped[dt.date | None] = mapped_column(sa.Date)
    last_run_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(sa.String(300))

    owner = relationship("User")

    __table_args__ = (
        sa.CheckConstraint(
            "frequency IS NULL OR frequency IN ('giornaliera','settimanale','mensile')", name="frequency"
        ),
        sa.CheckConstraint("delivery IS NULL OR delivery IN ('email','archivio')", name="delivery"),
    )


# Who sees what (app.core.access): summary rows belong to their ente (never to a taxpayer account); a saved
# query's rows are computed for whoever runs it, its own ente is where a scheduled run files its export.
register_scope(PositionSummary, ente=PositionSummary.ente_id)
register_scope(SavedQuery, ente=SavedQuery.archive_ente_id)
