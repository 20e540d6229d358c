"""Liste di carico: one roll of debts handed over by an ente, and the layouts (tracciati) files come in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime, utcnow

LAYOUT_FORMATS = {
    "csv": "CSV (testo delimitato)",
    "fixed": "Tracciato a lunghezza fissa",
    "xlsx": "Excel (XLSX)",
    "xml": "XML",
}
LAYOUT_FLOWS = {
    "carico": "Lista di carico",
    "anagrafica": "Variazioni anagrafiche",
    "variazioni": "Sgravi e sospensioni",
}


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
    rows_duplicate: Mapped[int] = mapped_column(default=0, server_default="0")
    total_cents: Mapped[int] = mapped_column(Cents, default=0)
    layout_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_layouts.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    ente = relationship("Ente")
    entrata = relationship("Entrata")
    layout = relationship("ImportLayout")

    @property
    def source_label(self) -> str:
        """How ledger movements, addresses and contacts written by this carico name their source."""
        return f"lista di carico {self.id}"


class ImportLayout(Base):
    """A tracciato: how one kind of file maps onto the canonical fields (formats.md §1, R-A19).

    A new Regione format is a new row, not new code. `columns` is, for csv/xlsx/xml, an object
    ``{canonical field: column header / element name}``; for fixed-width records a list of
    ``{"field", "start" (1-based), "length"}``. `options` holds format details: ``record_length`` and
    ``record_type`` (fixed), ``sheet`` (xlsx), ``row_tag`` and ``schema`` (xml).
    """

    __tablename__ = "import_layouts"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    flow: Mapped[str] = mapped_column(sa.String(20), default="carico")
    format: Mapped[str] = mapped_column(sa.String(10))
    encoding: Mapped[str] = mapped_column(sa.String(20), default="auto")
    separator: Mapped[str] = mapped_column(sa.String(5), default="auto")
    decimal_separator: Mapped[str] = mapped_column(sa.String(5), default="auto")
    date_formats: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    columns: Mapped[Any] = mapped_column(JsonDoc, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    default_entrata: Mapped[str | None] = mapped_column(sa.String(40))
    # The error-rate limit in basis points (500 = 5,00%): an integer, so that row versions stay plain JSON.
    max_error_rate_bp: Mapped[int] = mapped_column(default=500)
    ignore_unknown_columns: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("format IN ('csv','fixed','xlsx','xml')", name="format"),
        sa.CheckConstraint("flow IN ('carico','anagrafica','variazioni')", name="flow"),
        sa.CheckConstraint("max_error_rate_bp >= 0 AND max_error_rate_bp <= 10000", name="error_rate"),
    )

    @property
    def max_error_rate(self) -> Decimal:
        """The limit as a percentage (Decimal("5.00"))."""
        return Decimal(self.max_error_rate_bp if self.max_error_rate_bp is not None else 500) / 100

    @max_error_rate.setter
    def max_error_rate(self, percent: Decimal | int | str) -> None:
        self.max_error_rate_bp = int((Decimal(str(percent)) * 100).to_integral_value())

    @property
    def format_label(self) -> str:
        return LAYOUT_FORMATS.get(self.format, self.format)

    @property
    def flow_label(self) -> str:
        return LAYOUT_FLOWS.get(self.flow, self.flow)


# Who sees what (app.core.access): a carico belongs to the ente that handed it over.
register_scope(Carico, ente=Carico.ente_id)
