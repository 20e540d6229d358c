"""Taxpayers (PF/PG) with addresses and contacts kept as valid-time history with their source."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import linked, register_scope, through
from app.core.db import Base, CreatedMixin, UTCDateTime, utcnow

ADDRESS_KINDS = {"residenza": "Residenza", "domicilio": "Domicilio", "sede_legale": "Sede legale"}
CONTACT_KINDS = {
    "pec": "PEC",
    "email": "E-mail",
    "telefono": "Telefono",
    "cellulare": "Cellulare",
    "fax": "Fax",
}


class Taxpayer(CreatedMixin, Base):
    __tablename__ = "taxpayers"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(2))  # PF | PG
    codice_fiscale: Mapped[str] = mapped_column(sa.String(16), unique=True)
    partita_iva: Mapped[str | None] = mapped_column(sa.String(11), index=True)
    surname: Mapped[str | None] = mapped_column(sa.String(120))
    given_name: Mapped[str | None] = mapped_column(sa.String(120))
    company_name: Mapped[str | None] = mapped_column(sa.String(250))
    birth_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    birth_place: Mapped[str | None] = mapped_column(sa.String(120))
    deceased_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    # Upper-case, accent-free "SURNAME NAME" / company name, for prefix search.
    search_name: Mapped[str] = mapped_column(sa.String(300))

    addresses: Mapped[list[TaxpayerAddress]] = relationship(
        back_populates="taxpayer", order_by="TaxpayerAddress.valid_from_dt.desc()"
    )
    contacts: Mapped[list[TaxpayerContact]] = relationship(
        back_populates="taxpayer", order_by="TaxpayerContact.valid_from_dt.desc()"
    )

    __table_args__ = (
        sa.CheckConstraint("kind IN ('PF','PG')", name="kind"),
        sa.Index(
            "ix_taxpayers_search_name", "search_name", postgresql_ops={"search_name": "text_pattern_ops"}
        ),
    )

    @property
    def display_name(self) -> str:
        if self.kind == "PG":
            return self.company_name or self.codice_fiscale
        return " ".join(p for p in (self.surname, self.given_name) if p) or self.codice_fiscale


class TaxpayerEnte(Base):
    """Which enti a taxpayer owes: the link the per-ente scoping rests on."""

    __tablename__ = "taxpayer_enti"

    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), primary_key=True, index=True)


class _ValidTime:
    """A version of a fact: open while valid_to_dt is NULL; a change closes it and opens a new one."""

    valid_from_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_to_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(sa.String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    def valid_at(self, when: dt.datetime) -> bool:
        return self.valid_from_dt <= when and (self.valid_to_dt is None or when < self.valid_to_dt)


class TaxpayerAddress(_ValidTime, Base):
    __tablename__ = "taxpayer_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    street: Mapped[str] = mapped_column(sa.String(250))
    cap: Mapped[str | None] = mapped_column(sa.String(5))
    comune: Mapped[str] = mapped_column(sa.String(120))
    provincia: Mapped[str | None] = mapped_column(sa.String(2))
    country: Mapped[str] = mapped_column(sa.String(2), default="IT")

    taxpayer: Mapped[Taxpayer] = relationship(back_populates="addresses")

    @property
    def kind_label(self) -> str:
        return ADDRESS_KINDS.get(self.kind, self.kind)

    @property
    def one_line(self) -> str:
        place = " ".join(p for p in (self.cap, self.comune) if p)
        prov = f" ({self.provincia})" if self.provincia else ""
        return f"{self.street}, {place}{prov}"


class TaxpayerContact(_ValidTime, Base):
    __tablename__ = "taxpayer_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[str] = mapped_column(sa.String(250))

    taxpayer: Mapped[Taxpayer] = relationship(back_populates="contacts")

    @property
    def kind_label(self) -> str:
        return CONTACT_KINDS.get(self.kind, self.kind)


# Who sees what (app.core.access): a taxpayer is seen by the enti it is linked to (taxpayer_enti) and by its
# own account; its addresses, contacts and links go with it.
register_scope(Taxpayer, ente=linked(TaxpayerEnte.taxpayer_id, TaxpayerEnte.ente_id), taxpayer=Taxpayer.id)
register_scope(TaxpayerEnte, ente=TaxpayerEnte.ente_id, taxpayer=TaxpayerEnte.taxpayer_id)
for _model in (TaxpayerAddress, TaxpayerContact):
    register_scope(_model, ente=through(_model.taxpayer_id), taxpayer=_model.taxpayer_id)
