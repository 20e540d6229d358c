"""Liste di carico: one roll of debts handed over by an ente."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Cents, CreatedMixin


class Carico(CreatedMixin, Base):
    __tablename__ = "carichi"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    entrata_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrate.id"))
    reference: Mapped[str] = mapped_column(sa.String(120))
    received_date: Mapped[dt.date] = mapped_column(sa.Date)
    file_name: Mapped[str | None] = mapped_column(sa.String(255))
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="caricato")
    rows_accepted: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(Cents, default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
