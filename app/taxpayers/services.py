"""Taxpayer use cases: register, keep addresses and contacts as history. Never commit here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.taxpayers.identifiers import kind_of, search_key, validate_codice_fiscale
from app.taxpayers.models import Taxpayer, TaxpayerAddress, TaxpayerContact, TaxpayerEnte


@dataclass(frozen=True, slots=True)
class AddressData:
    kind: str
    street: str
    cap: str | None
    comune: str
    provincia: str | None
    country: str = "IT"

    def same_as(self, addr: TaxpayerAddress) -> bool:
        return (self.street, self.cap, self.comune, self.provincia, self.country) == (
            addr.street,
            addr.cap,
            addr.comune,
            addr.provincia,
            addr.country,
        )


@dataclass(frozen=True, slots=True)
class TaxpayerData:
    codice_fiscale: str
    surname: str | None = None
    given_name: str | None = None
    company_name: str | None = None
    birth_date: dt.date | None = None
    birth_place: str | None = None
    partita_iva: str | None = None


def register_taxpayer(
    session: Session, actor: Actor, data: TaxpayerData, *, source: str, ente_id: int | None = None
) -> Taxpayer:
    """Find the taxpayer by codice fiscale or create it (same CF = same taxpayer)."""
    cf = validate_codice_fiscale(data.codice_fiscale)
    taxpayer = session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == cf)).first()
    if taxpayer is None:
        kind = kind_of(cf)
        taxpayer = Taxpayer(
            kind=kind,
            codice_fiscale=cf,
            partita_iva=data.partita_iva or (cf if kind == "PG" else None),
            surname=data.surname,
            given_name=data.given_name,
            company_name=data.company_name,
            birth_date=data.birth_date,
            birth_place=data.birth_place,
            search_name=search_key(data.company_name)
            if kind == "PG"
            else search_key(data.surname, data.given_name),
        )
        session.add(taxpayer)
        session.flush()
        record_event(
            session,
            actor,
            "taxpayer.created",
            f"Registrato da {source}",
            taxpayer_id=taxpayer.id,
            ente_id=ente_id,
            payload={"source": source},
        )
    if ente_id is not None:
        link_to_ente(session, taxpayer.id, ente_id)
    return taxpayer


def link_to_ente(session: Session, taxpayer_id: int, ente_id: int) -> None:
    if session.get(TaxpayerEnte, (taxpayer_id, ente_id)) is None:
        session.add(TaxpayerEnte(taxpayer_id=taxpayer_id, ente_id=ente_id))


def set_address(
    session: Session,
    actor: Actor,
    taxpayer: Taxpayer,
    data: AddressData,
    *,
    source: str,
    now: dt.datetime | None = None,
) -> TaxpayerAddress | None:
    """Record an address. Unchanged: nothing happens. Changed: the current version is closed and a new one
    opened with its source, so history is never overwritten. Returns the new version, if any."""
    now = now or utcnow()
    current = session.scalars(
        sa.select(TaxpayerAddress).where(
            TaxpayerAddress.taxpayer_id == taxpayer.id,
            TaxpayerAddress.kind == data.kind,
            TaxpayerAddress.valid_to_dt.is_(None),
        )
    ).first()
    if current is not None and data.same_as(current):
        return None
    if current is not None:
        current.valid_to_dt = now
    address = TaxpayerAddress(
        taxpayer_id=taxpayer.id,
        kind=data.kind,
        street=data.street,
        cap=data.cap,
        comune=data.comune,
        provincia=data.provincia,
        country=data.country,
        valid_from_dt=now,
        source=source,
        recorded_by_id=actor.user_id,
    )
    session.add(address)
    if current is not None:
        record_event(
            session,
            actor,
            "address.changed",
            f"{address.kind_label}: {address.one_line}",
            taxpayer_id=taxpayer.id,
            payload={"source": source, "previous": current.one_line},
        )
    return address


def set_contact(
    session: Session,
    actor: Actor,
    taxpayer: Taxpayer,
    kind: str,
    value: str,
    *,
    source: str,
    now: dt.datetime | None = None,
) -> TaxpayerContact | None:
    """Same rule as addresses: one open version per contact kind."""
    now = now or utcnow()
    value = value.strip()
    current = session.scalars(
        sa.select(TaxpayerContact).where(
            TaxpayerContact.taxpayer_id == taxpayer.id,
            TaxpayerContact.kind == kind,
            TaxpayerContact.valid_to_dt.is_(None),
        )
    ).first()
    if current is not None and current.value == value:
        return None
    if current is not None:
        current.valid_to_dt = now
    contact = TaxpayerContact(
        taxpayer_id=taxpayer.id,
        kind=kind,
        value=value,
        valid_from_dt=now,
        source=source,
        recorded_by_id=actor.user_id,
    )
    session.add(contact)
    if current is not None:
        record_event(
            session,
            actor,
            "contact.changed",
            f"{contact.kind_label}: {value}",
            taxpayer_id=taxpayer.id,
            payload={"source": source, "previous": current.value},
        )
    return contact
