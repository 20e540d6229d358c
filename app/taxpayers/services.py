"""Taxpayer use cases: register, keep addresses and contacts as history. Never commit here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError
from app.taxpayers.identifiers import kind_of, looks_like_email, search_key, validate_codice_fiscale
from app.taxpayers.models import (
    DOMICILIO_SOURCES,
    RELATION_KINDS,
    Taxpayer,
    TaxpayerAddress,
    TaxpayerContact,
    TaxpayerEnte,
    TaxpayerRelation,
)

DOMICILIO_KIND = "domicilio_digitale"
_Versioned = TypeVar("_Versioned", TaxpayerAddress, TaxpayerContact)


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


def _new_version(
    session: Session,
    actor: Actor,
    model: type[_Versioned],
    taxpayer: Taxpayer,
    kind: str,
    unchanged: Callable[[_Versioned], bool],
    *,
    source: str,
    now: dt.datetime,
    **values: Any,
) -> tuple[_Versioned | None, _Versioned | None]:
    """The history rule of addresses and contacts, one open version per taxpayer and kind: the same again
    (`unchanged`) changes nothing; anything else closes the open version at `now` and opens a new one with
    its source. Returns the new version (None when unchanged) and the one open before (None when none)."""
    current = session.scalars(
        sa.select(model).where(
            model.taxpayer_id == taxpayer.id,
            model.kind == kind,
            model.valid_to_dt.is_(None),
        )
    ).first()
    if current is not None and unchanged(current):
        return None, current
    if current is not None:
        current.valid_to_dt = now
    version = model(
        taxpayer_id=taxpayer.id,
        kind=kind,
        **values,
        valid_from_dt=now,
        source=source,
        recorded_by_id=actor.user_id,
    )
    session.add(version)
    return version, current


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
    address, previous = _new_version(
        session,
        actor,
        TaxpayerAddress,
        taxpayer,
        data.kind,
        data.same_as,
        source=source,
        now=now or utcnow(),
        street=data.street,
        cap=data.cap,
        comune=data.comune,
        provincia=data.provincia,
        country=data.country,
    )
    if address is not None and previous is not None:
        record_event(
            session,
            actor,
            "address.changed",
            f"{address.kind_label}: {address.one_line}",
            taxpayer_id=taxpayer.id,
            payload={"source": source, "previous": previous.one_line},
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
    value = value.strip()
    contact, previous = _new_version(
        session,
        actor,
        TaxpayerContact,
        taxpayer,
        kind,
        lambda current: current.value == value,
        source=source,
        now=now or utcnow(),
        value=value,
    )
    if contact is not None and previous is not None:
        record_event(
            session,
            actor,
            "contact.changed",
            f"{contact.kind_label}: {value}",
            taxpayer_id=taxpayer.id,
            payload={"source": source, "previous": previous.value},
        )
    return contact


def set_domicilio_digitale(
    session: Session,
    actor: Actor,
    taxpayer: Taxpayer,
    address: str,
    *,
    source: str,
    now: dt.datetime | None = None,
) -> TaxpayerContact | None:
    """Record the domicilio digitale (a PEC address, from INAD or declared): a new version with its source
    ("INAD", "operatore", "contribuente") closes the open one; the same address again changes nothing.
    Raises DomainError on an address that is not an e-mail address or an unknown source."""
    address = address.strip()
    if source not in DOMICILIO_SOURCES:
        raise DomainError(f"Fonte del domicilio digitale non ammessa: {source}.")
    if not looks_like_email(address) or len(address) > 250:
        raise DomainError("Indirizzo del domicilio digitale non valido: inserire un indirizzo PEC.")
    now = now or utcnow()
    contact, previous = _new_version(
        session,
        actor,
        TaxpayerContact,
        taxpayer,
        DOMICILIO_KIND,
        lambda current: current.value.lower() == address.lower() and current.source == source,
        source=source,
        now=now,
        value=address,
    )
    if contact is None:
        return None
    record_event(
        session,
        actor,
        "domicilio_digitale.changed",
        f"Domicilio digitale: {address} (fonte: {DOMICILIO_SOURCES[source]})",
        taxpayer_id=taxpayer.id,
        payload={"source": source, "address": address, "previous": previous.value if previous else None},
        occurred_dt=now,
    )
    return contact


def add_relation(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    from_taxpayer: Taxpayer,
    to_taxpayer: Taxpayer,
    valid_from: dt.date,
    source: str,
    note: str | None = None,
) -> TaxpayerRelation:
    """Link two taxpayers (`from`: the deceased debtor or the company; `to`: the heir or the representative).
    The same open link twice is refused; an event goes on both timelines."""
    if kind not in RELATION_KINDS:
        raise DomainError(f"Tipo di collegamento non ammesso: {kind}.")
    if from_taxpayer.id == to_taxpayer.id:
        raise DomainError("Un contribuente non può essere collegato a sé stesso.")
    if kind == "erede" and from_taxpayer.kind != "PF":
        raise DomainError("Gli eredi si collegano a una persona fisica deceduta.")
    if kind == "rappresentante_legale" and from_taxpayer.kind != "PG":
        raise DomainError("Il rappresentante legale si collega a una persona giuridica.")
    if not source.strip():
        raise DomainError("Indicare la fonte del collegamento (atto, dichiarazione, visura).")
    existing = session.scalars(
        sa.select(TaxpayerRelation).where(
            TaxpayerRelation.kind == kind,
            TaxpayerRelation.from_taxpayer_id == from_taxpayer.id,
            TaxpayerRelation.to_taxpayer_id == to_taxpayer.id,
            TaxpayerRelation.valid_to.is_(None),
        )
    ).first()
    if existing is not None:
        raise DomainError("Questo collegamento è già registrato e in vigore.")
    relation = TaxpayerRelation(
        kind=kind,
        from_taxpayer_id=from_taxpayer.id,
        to_taxpayer_id=to_taxpayer.id,
        valid_from=valid_from,
        source=source.strip(),
        note=(note or "").strip() or None,
        recorded_by_id=actor.user_id,
    )
    session.add(relation)
    session.flush()
    for own, other in ((from_taxpayer, to_taxpayer), (to_taxpayer, from_taxpayer)):
        record_event(
            session,
            actor,
            "relation.added",
            f"{relation.label_from(own.id)}: {other.display_name} ({other.codice_fiscale})",
            taxpayer_id=own.id,
            payload={
                "relation_id": relation.id,
                "kind": kind,
                "other_taxpayer_id": other.id,
                "source": source,
            },
        )
    return relation


def end_relation(
    session: Session, actor: Actor, relation: TaxpayerRelation, *, valid_to: dt.date, reason: str
) -> TaxpayerRelation:
    """Close a link at `valid_to` (kept, with its history): e.g. a representative who left office."""
    if relation.valid_to is not None:
        raise DomainError("Il collegamento è già chiuso.")
    if valid_to < relation.valid_from:
        raise DomainError("La data di fine non può precedere l'inizio del collegamento.")
    relation.valid_to = valid_to
    relation.ended_by_id = actor.user_id
    for own, other in (
        (relation.from_taxpayer_id, relation.to_taxpayer_id),
        (relation.to_taxpayer_id, relation.from_taxpayer_id),
    ):
        record_event(
            session,
            actor,
            "relation.ended",
            f"{relation.label_from(own)}: collegamento chiuso al {valid_to:%d/%m/%Y}"
            + (f" ({reason.strip()})" if reason.strip() else ""),
            taxpayer_id=own,
            payload={"relation_id": relation.id, "other_taxpayer_id": other, "reason": reason.strip()},
        )
    return relation


def record_estratto_conto(session: Session, actor: Actor, taxpayer: Taxpayer, *, positions: int,
                          total_due_cents: int, on: dt.date) -> None:
    """The estratto conto was printed: an event on the timeline with what it showed."""
    record_event(
        session,
        actor,
        "estratto_conto.printed",
        f"Estratto conto al {on:%d/%m/%Y}: {positions} posizioni",
        taxpayer_id=taxpayer.id,
        payload={"positions": positions, "total_due_cents": total_due_cents, "on": on.isoformat()},
    )
