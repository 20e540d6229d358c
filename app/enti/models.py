"""Enti (creditors), entrate (revenue types) and the parameter tables that carry every legal number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope
from app.core.db import Base, CreatedMixin, JsonDoc, Rate, UTCDateTime


class Ente(CreatedMixin, Base):
    __tablename__ = "enti"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    codice_fiscale: Mapped[str] = mapped_column(sa.String(16), unique=True)
    segregation_code: Mapped[str] = mapped_column(sa.String(2))
    # conto corrente postale (12 digits) for the Poste data matrix of payment notices (domain.md §6.3)
    postal_account: Mapped[str | None] = mapped_column(sa.String(12))

    entrate: Mapped[list[Entrata]] = relationship(back_populates="ente", order_by="Entrata.code")


class Entrata(CreatedMixin, Base):
    __tablename__ = "entrate"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    # Parameter codes this entrata uses (rows live in the parameter tables, with validity dates).
    interest_rate_table: Mapped[str] = mapped_column(sa.String(40), default="legale")
    prescription_regime: Mapped[str] = mapped_column(sa.String(20), default="5y")
    installment_regime: Mapped[str] = mapped_column(sa.String(20), default="l160")
    capitolo: Mapped[str | None] = mapped_column(sa.String(40))

    ente: Mapped[Ente] = relationship(back_populates="entrate")

    __table_args__ = (sa.UniqueConstraint("ente_id", "code"),)


class LegalRowMixin:
    """What every row carrying a legal number has besides its value and validity: the legal act it comes
    from (`source`, a citation shown to users: never a file, a web site or a note), internal research notes
    (`note`, shown to no one on screen), and its verification against the official publication.

    `verified` is False until an administrator checks the value against the Gazzetta Ufficiale (or the
    publication of the act) and records it: who, when, and which publication (`verified_against`)."""

    source: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    verified_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_against: Mapped[str | None] = mapped_column(sa.Text)


class RateTable(Base):
    """A table of interest rates (legale, mora...), each period with its legal source."""

    __tablename__ = "rate_tables"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))

    periods: Mapped[list[RatePeriod]] = relationship(back_populates="table", order_by="RatePeriod.valid_from")


class RatePeriod(LegalRowMixin, Base):
    __tablename__ = "rate_periods"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    rate_table_id: Mapped[int] = mapped_column(sa.ForeignKey("rate_tables.id"))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    rate: Mapped[Decimal] = mapped_column(Rate)  # annual rate in percent: 1.25 is 1,25%

    table: Mapped[RateTable] = relationship(back_populates="periods")

    __table_args__ = (
        sa.UniqueConstraint("rate_table_id", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
    )


class Parameter(LegalRowMixin, Base):
    """Any other legal number or rule (caps, bands, terms, fees), national default or per ente/entrata."""

    __tablename__ = "parameters"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), index=True)
    ente_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enti.id"))
    entrata_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrate.id"))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    value: Mapped[Any] = mapped_column(JsonDoc)

    __table_args__ = (
        sa.UniqueConstraint("code", "ente_id", "entrata_id", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
    )


# Who sees what (app.core.access): an entrata belongs to its ente; a parameter too, and the national defaults
# (no ente) are everyone's.
register_scope(Entrata, ente=Entrata.ente_id)
register_scope(
    Parameter, ente=lambda allowed: sa.or_(Parameter.ente_id.is_(None), allowed(Parameter.ente_id))
)


class ParameterProposal(CreatedMixin, Base):
    """A new period of a legal number (a rate or a national parameter) proposed by an administrator: it takes
    effect only when a second administrator approves it (four eyes: the proposer cannot approve). The
    approval adds the period exactly as a direct change would (the open period closes the day before)."""

    __tablename__ = "parameter_proposals"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # tasso | parametro
    code: Mapped[str] = mapped_column(sa.String(60))
    rate: Mapped[Decimal | None] = mapped_column(Rate)
    value: Mapped[Any] = mapped_column(JsonDoc, nullable=True)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    applied_row_id: Mapped[int | None] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("kind IN ('tasso','parametro')", name="kind"),
        sa.CheckConstraint("status IN ('pending','approved','rejected')", name="status"),
        sa.Index("ix_parameter_proposals_status", "status"),
    )

    STATUS_LABELS = {"pending": "In attesa di approvazione", "approved": "Approvata", "rejected": "Respinta"}

    @property
    def status_label(self) -> str:
        return self.STATUS_LABELS.get(self.status, self.status)
