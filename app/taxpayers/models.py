"""Taxpayers (PF/PG) with addresses and contacts kept as valid-time history with their source."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import linked, register_scope, through
from app.core.audit import EVENT_KINDS
from app.core.db import Base, CreatedMixin, UTCDateTime, utcnow
from app.core.timeline import register_event_group

ADDRESS_KINDS = {"residenza": "Residenza", "domicilio": "Domicilio", "sede_legale": "Sede legale"}
CONTACT_KINDS = {
    "pec": "PEC",
    "email": "E-mail",
    "telefono": "Telefono",
    "cellulare": "Cellulare",
    "fax": "Fax",
    "domicilio_digitale": "Domicilio digitale",
}
# Where a domicilio digitale comes from (shown as the version's source)
DOMICILIO_SOURCES = {
    "INAD": "INAD (Indice nazionale dei domicili digitali, art. 6-quater CAD)",
    "operatore": "Operatore",
    "contribuente": "Dichiarato dal contribuente",
}
# A link from one taxpayer (`from`: the deceased debtor, the company) to another (`to`: heir, representative):
# code -> (label of the link, label seen from `from`'s card, label seen from `to`'s card)
RELATION_KINDS: dict[str, tuple[str, str, str]] = {
    "erede": ("Erede", "Erede", "Erede di"),
    "rappresentante_legale": ("Rappresentante legale", "Rappresentante legale", "Rappresentante legale di"),
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


class TaxpayerRelation(CreatedMixin, Base):
    """A link between two taxpayers: the heirs of a deceased debtor, the legal representatives of a company.
    Valid from/to a date; ending a link sets `valid_to` (the row keeps its history through RowVersion)."""

    __tablename__ = "taxpayer_relations"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    from_taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    to_taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.CheckConstraint("kind IN ('erede','rappresentante_legale')", name="kind"),
        sa.CheckConstraint("from_taxpayer_id <> to_taxpayer_id", name="distinct_taxpayers"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
    )

    @property
    def kind_label(self) -> str:
        return RELATION_KINDS.get(self.kind, (self.kind,))[0]

    def label_from(self, taxpayer_id: int) -> str:
        """The link as the card of `taxpayer_id` names it ("Erede" on the deceased's card, "Erede di" on the
        heir's)."""
        labels = RELATION_KINDS.get(self.kind, (self.kind, self.kind, self.kind))
        return labels[1] if taxpayer_id == self.from_taxpayer_id else labels[2]

    def is_open(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def _either_side(kind: str) -> object:
    """A relation is in scope when either of its taxpayers is (each card then shows only the other side the
    user may see: `queries.list_relations`)."""

    def condition(test: object) -> sa.ColumnElement[bool]:
        return sa.or_(
            through(TaxpayerRelation.from_taxpayer_id)(TaxpayerRelation, test, kind),  # type: ignore[arg-type]
            through(TaxpayerRelation.to_taxpayer_id)(TaxpayerRelation, test, kind),  # type: ignore[arg-type]
        )

    return condition


# Who sees what (app.core.access): a taxpayer is seen by the enti it is linked to (taxpayer_enti) and by its
# own account; its addresses, contacts and links go with it.
register_scope(Taxpayer, ente=linked(TaxpayerEnte.taxpayer_id, TaxpayerEnte.ente_id), taxpayer=Taxpayer.id)
register_scope(TaxpayerEnte, ente=TaxpayerEnte.ente_id, taxpayer=TaxpayerEnte.taxpayer_id)
for _model in (TaxpayerAddress, TaxpayerContact):
    register_scope(_model, ente=through(_model.taxpayer_id), taxpayer=_model.taxpayer_id)
register_scope(TaxpayerRelation, ente=_either_side("ente"), taxpayer=_either_side("taxpayer"))

# The event kinds of this slice, and their timeline group (app.core.timeline)
EVENT_KINDS.update(
    {
        "domicilio_digitale.changed": "Domicilio digitale registrato",
        "relation.added": "Collegamento tra contribuenti aggiunto",
        "relation.ended": "Collegamento tra contribuenti chiuso",
        "estratto_conto.printed": "Estratto conto stampato",
    }
)
register_event_group("domicilio_digitale.", "anagrafica")
register_event_group("relation.", "anagrafica")
register_event_group("estratto_conto.", "documenti")
