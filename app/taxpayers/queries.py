"""Reads of taxpayers: search and the card. Scoped through `app.core.access.scoped`; card reads are logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.core.access import Principal, scoped, scoped_join
from app.core.audit import Actor, Event, log_access
from app.core.errors import NotFound
from app.core.history import state_as_of
from app.core.timeline import TimelineEntry, group_of, timeline_entries, timeline_select
from app.payments.models import NoticeNumber
from app.positions.amounts import Due, amounts_due
from app.positions.models import Position
from app.positions.queries import list_positions_of_taxpayer
from app.taxpayers.identifiers import (
    LOOKS_LIKE_CF,
    InvalidIdentifier,
    compact,
    looks_like_email,
    phone_variants,
    search_key,
    validate_codice_fiscale,
)
from app.taxpayers.models import Taxpayer, TaxpayerAddress, TaxpayerContact, TaxpayerRelation

ROME = ZoneInfo("Europe/Rome")
PHONE_KINDS = ("telefono", "cellulare", "fax")
EMAIL_KINDS = ("email", "pec", "domicilio_digitale")
TIMELINE_PAGE = 50  # events the card shows at a time ("mostra altri" loads the next ones)


@dataclass(slots=True)
class SearchResult:
    query: str
    mode: str = ""  # codice_fiscale | partita_iva | nome | riferimento | telefono | email | avviso | iuv
    taxpayers: list[Taxpayer] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)  # the positions a codice avviso / IUV names
    error: str | None = None
    truncated: bool = False
    documents: list[DocumentHit] = field(default_factory=list)  # full text of the archive (archive.read)
    documents_total: int = 0  # as the search backend counts them, within the user's enti
    contact_notes: list[Any] = field(default_factory=list)  # contacts whose notes match (app.crm.contacts)


@dataclass(frozen=True, slots=True)
class DocumentHit:
    """A document the archive's search backend found: its protocol, the backend's highlight (HTML-escaped
    text with <em> marks) and the linked taxpayers the user may open."""

    document_id: int
    protocol: str
    highlight: str
    subject: str
    received: dt.date | None
    taxpayers: list[Taxpayer]


MODE_LABELS = {
    "codice_fiscale": "codice fiscale",
    "partita_iva": "partita IVA",
    "nome": "nominativo",
    "riferimento": "riferimento o id posizione",
    "telefono": "numero di telefono",
    "email": "indirizzo e-mail",
    "avviso": "codice avviso",
    "iuv": "IUV",
}


def search(
    session: Session, principal: Principal, query: str, *, limit: int = 50, documents: int = 10
) -> SearchResult:
    """The header search: taxpayers and positions (`search_taxpayers`), and documents by full text for the
    roles that read the archive."""
    result = search_taxpayers(session, principal, query, limit=limit)
    if documents and principal.can("archive.read") and len(search_key(query)) >= 2:
        found = search_documents(session, principal, query, limit=documents)
        result.documents, result.documents_total = found
    if principal.can("contact.read") and len(search_key(query)) >= 3:
        from app.crm.contacts.queries import search_contact_notes

        result.contact_notes = search_contact_notes(session, principal, query)
    return result


def search_documents(
    session: Session, principal: Principal, query: str, *, limit: int = 10
) -> tuple[list[DocumentHit], int]:
    """Documents by full text through the archive's search backend: the user's enti are part of the
    backend's query (never filtered afterwards), so neither hits nor the total name another ente's."""
    from app.archive import indexing
    from app.archive.models import Document, DocumentLink
    from app.enti.models import Ente

    codes = list(session.scalars(sa.select(Ente.code).where(Ente.id.in_(sorted(principal.ente_ids)))))
    found = indexing.search_documents(indexing.backend(), query, ente_codes=codes, limit=limit)
    ids = [h.document for h in found.hits]
    if not ids:
        return [], found.total
    documents = {
        d.id: d
        for d in session.scalars(
            scoped(sa.select(Document), Document, principal).where(
                Document.id.in_(ids), Document.status != "deleted"
            )
        )
    }
    linked = scoped_join(
        sa.select(DocumentLink.document_id, Taxpayer).select_from(DocumentLink),
        Taxpayer,
        Taxpayer.id == DocumentLink.taxpayer_id,
        principal,
    ).where(DocumentLink.document_id.in_(ids), DocumentLink.state != "rejected").order_by(
        DocumentLink.state != "confirmed", DocumentLink.id
    )
    taxpayers: dict[int, list[Taxpayer]] = {}
    for doc_id, taxpayer in session.execute(linked).tuples():
        if taxpayer not in taxpayers.setdefault(doc_id, []):
            taxpayers[doc_id].append(taxpayer)
    hits = [
        DocumentHit(
            document_id=h.document,
            protocol=documents[h.document].protocol_label,
            highlight=h.highlight,
            subject=documents[h.document].subject or documents[h.document].file_name,
            received=documents[h.document].received_date,
            taxpayers=taxpayers.get(h.document, []),
        )
        for h in found.hits
        if h.document in documents  # an index a step behind a deletion
    ]
    return hits, found.total


def search_taxpayers(session: Session, principal: Principal, query: str, *, limit: int = 50) -> SearchResult:
    """Find taxpayers by codice fiscale / partita IVA (exact, validated), by codice avviso (18 digits, spaces
    allowed) or IUV (17 digits) of one of their positions, by phone number or e-mail (normalised), by position
    reference or id_posizione (exact), or by name (prefix, accent- and case-insensitive)."""
    result = SearchResult(query=query.strip())
    code = compact(query)
    if not code:
        return result
    phones = phone_variants(query)
    if looks_like_email(query):
        result.mode = "email"
        stmt = sa.select(Taxpayer).where(Taxpayer.id.in_(_by_email(query)))
    elif code.isdigit() and len(code) in (17, 18):
        result.mode = "avviso" if len(code) == 18 else "iuv"
        column = NoticeNumber.notice_number if len(code) == 18 else NoticeNumber.iuv
        positions = scoped(
            sa.select(Position)
            .join(NoticeNumber, NoticeNumber.position_id == Position.id)
            .where(column == code)
            .options(joinedload(Position.entrata), joinedload(Position.ente))
            .order_by(Position.id),
            Position,
            principal,
        )
        result.positions = list(session.scalars(positions).unique())
        stmt = sa.select(Taxpayer).where(Taxpayer.id.in_([p.taxpayer_id for p in result.positions]))
    elif (len(code) == 11 and code.isdigit()) or LOOKS_LIKE_CF.match(code):
        try:
            cf = validate_codice_fiscale(code)
        except InvalidIdentifier as exc:
            # "39 06 5551234" is a phone number, not a bad partita IVA: the message only if no phone matches
            stmt = sa.select(Taxpayer).where(Taxpayer.id.in_(_by_phone(phones))) if phones else None
            if stmt is None or not session.scalars(scoped(stmt.limit(1), Taxpayer, principal)).first():
                result.error = str(exc)
                return result
            result.mode = "telefono"
        else:
            result.mode = "partita_iva" if len(cf) == 11 else "codice_fiscale"
            stmt = sa.select(Taxpayer).where(
                sa.or_(Taxpayer.codice_fiscale == cf, Taxpayer.partita_iva == cf)
            )
    elif phones and (query.strip().startswith(("+", "00")) or code.isdigit()):
        result.mode = "telefono"
        by_ref = scoped(
            sa.select(Position.taxpayer_id).where(
                sa.or_(Position.reference == code, Position.external_id == query.strip())
            ),
            Position,
            principal,
        )
        stmt = sa.select(Taxpayer).where(sa.or_(Taxpayer.id.in_(_by_phone(phones)), Taxpayer.id.in_(by_ref)))
    elif any(ch.isdigit() for ch in code):
        result.mode = "riferimento"
        by_ref = sa.select(Position.taxpayer_id).where(
            sa.or_(Position.reference == code, Position.external_id == query.strip())
        )
        by_ref = scoped(by_ref, Position, principal)
        stmt = sa.select(Taxpayer).where(Taxpayer.id.in_(by_ref))
    else:
        key = search_key(query)
        if len(key) < 2:
            result.error = "Inserisci almeno due lettere del cognome o della ragione sociale."
            return result
        result.mode = "nome"
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = sa.select(Taxpayer).where(Taxpayer.search_name.like(escaped + "%", escape="\\"))
    stmt = scoped(stmt.order_by(Taxpayer.search_name, Taxpayer.id).limit(limit + 1), Taxpayer, principal)
    rows = list(session.scalars(stmt))
    result.truncated = len(rows) > limit
    result.taxpayers = rows[:limit]
    return result


def _normalised_contact() -> sa.ColumnElement[str]:
    """The contact value without the separators `phone_variants` drops (portable SQL: nested replace)."""
    value: sa.ColumnElement[str] = TaxpayerContact.value
    for sep in (" ", ".", "-", "/", "(", ")"):
        value = sa.func.replace(value, sep, "")
    return value


def _by_phone(variants: list[str]) -> sa.Select:
    return sa.select(TaxpayerContact.taxpayer_id).where(
        TaxpayerContact.kind.in_(PHONE_KINDS), _normalised_contact().in_(variants)
    )


def _by_email(query: str) -> sa.Select:
    return sa.select(TaxpayerContact.taxpayer_id).where(
        TaxpayerContact.kind.in_(EMAIL_KINDS), sa.func.lower(TaxpayerContact.value) == query.strip().lower()
    )


@dataclass(slots=True)
class Card:
    taxpayer: Taxpayer
    as_of: dt.datetime | None
    anagrafica: dict[str, Any]
    addresses: list[TaxpayerAddress]
    contacts: list[TaxpayerContact]
    positions: list[Position]
    balances: dict[int, Due]  # the amount due of each position (amounts.amounts_due)
    events: list[TimelineEntry]  # the events and the registered sources' rows (app.core.timeline)
    on: dt.date | None = None  # the day the amounts are due at
    relations: list[Relation] = field(default_factory=list)
    more_events: bool = False  # the timeline has more than the page shown
    group: str | None = None  # the timeline filter (app.core.timeline.TIMELINE_GROUPS)
    notice_numbers: dict[int, str] = field(default_factory=dict)  # position id -> codice avviso

    @property
    def domicilio_digitale(self) -> TaxpayerContact | None:
        return next((c for c in self.current_contacts() if c.kind == "domicilio_digitale"), None)

    def domicilio_history(self) -> list[TaxpayerContact]:
        return [c for c in self.contacts if c.kind == "domicilio_digitale"]

    def other_contacts(self) -> list[TaxpayerContact]:
        return [c for c in self.contacts if c.kind != "domicilio_digitale"]

    @property
    def total_due_cents(self) -> int:
        return sum(b.total_cents for b in self.balances.values())

    @property
    def total_accrued_cents(self) -> int:
        """Interest and oneri accrued and not yet booked in the ledger, included in the total due."""
        return sum(b.accrued_cents for b in self.balances.values())

    @property
    def total_original_cents(self) -> int:
        return sum(b.original_cents for b in self.balances.values())

    @property
    def total_paid_cents(self) -> int:
        return sum(b.paid_cents for b in self.balances.values())

    def current_addresses(self) -> list[TaxpayerAddress]:
        when = self.as_of
        return [a for a in self.addresses if (a.valid_to_dt is None if when is None else a.valid_at(when))]

    def current_contacts(self) -> list[TaxpayerContact]:
        when = self.as_of
        return [c for c in self.contacts if (c.valid_to_dt is None if when is None else c.valid_at(when))]


def get_taxpayer(session: Session, principal: Principal, taxpayer_id: int) -> Taxpayer:
    stmt = scoped(sa.select(Taxpayer).where(Taxpayer.id == taxpayer_id), Taxpayer, principal)
    taxpayer = session.scalars(stmt).first()
    if taxpayer is None:
        raise NotFound("Contribuente non trovato.")
    return taxpayer


def get_card(
    session: Session,
    principal: Principal,
    taxpayer_id: int | None,
    *,
    remote_addr: str | None,
    action: str = "card",
    as_of: dt.datetime | None = None,
    actor: Actor | None = None,
    group: str | None = None,
) -> Card:
    """The taxpayer card, as it is now or as it was at `as_of`. Logs the read in AccessLog."""
    if taxpayer_id is None:
        raise NotFound("Contribuente non trovato.")
    taxpayer = get_taxpayer(session, principal, taxpayer_id)
    actor = actor or Actor(user_id=principal.user_id, label="", api_token_id=principal.api_token_id)
    log_access(
        session,
        actor,
        action,
        taxpayer_id=taxpayer.id,
        remote_addr=remote_addr,
        detail={"as_of": as_of.isoformat()} if as_of else {},
    )
    anagrafica = (
        state_as_of(session, taxpayer, as_of)
        if as_of
        else {
            "surname": taxpayer.surname,
            "given_name": taxpayer.given_name,
            "company_name": taxpayer.company_name,
            "birth_date": taxpayer.birth_date,
            "birth_place": taxpayer.birth_place,
            "deceased_date": taxpayer.deceased_date,
            "partita_iva": taxpayer.partita_iva,
        }
    )
    addresses = [a for a in taxpayer.addresses if as_of is None or a.valid_from_dt <= as_of]
    contacts = [c for c in taxpayer.contacts if as_of is None or c.valid_from_dt <= as_of]
    positions = list_positions_of_taxpayer(session, principal, taxpayer.id, created_before=as_of)
    position_ids = [p.id for p in positions]
    events = timeline_entries(
        session.execute(
            timeline_stmt(principal, taxpayer.id, position_ids, group=group, as_of=as_of).limit(
                TIMELINE_PAGE + 1
            )
        )
    )
    on = (as_of or dt.datetime.now(dt.UTC)).astimezone(ROME).date()
    return Card(
        taxpayer=taxpayer,
        as_of=as_of,
        anagrafica=anagrafica,
        addresses=addresses,
        contacts=contacts,
        positions=positions,
        balances=amounts_due(session, positions, on, booked_by=as_of),
        events=events[:TIMELINE_PAGE],
        more_events=len(events) > TIMELINE_PAGE,
        group=group,
        on=on,
        relations=list_relations(session, principal, taxpayer.id, as_of=as_of),
        notice_numbers=notice_numbers(session, position_ids),
    )


def timeline_stmt(
    principal: Principal,
    taxpayer_id: int,
    position_ids: list[int],
    *,
    group: str | None = None,
    as_of: dt.datetime | None = None,
) -> sa.Select:
    """The taxpayer's timeline the user may see, newest first: the events of the visible positions and those
    of no position that belong to no ente or to one of the user's, with the rows the slices' timeline sources
    give for the visible positions (app.core.timeline); `group` keeps one group of app.core.timeline."""
    events = sa.select(Event).where(
        Event.taxpayer_id == taxpayer_id,
        sa.or_(
            Event.position_id.in_(position_ids),
            sa.and_(
                Event.position_id.is_(None),
                sa.or_(
                    Event.ente_id.is_(None),
                    Event.ente_id.in_(principal.ente_ids) if principal.role != "contribuente" else sa.true(),
                ),
            ),
        ),
    )
    if as_of is not None:
        events = events.where(Event.occurred_dt <= as_of)
    return timeline_select(events, lambda column: column.in_(position_ids), group=group, as_of=as_of)


def timeline_page(
    session: Session,
    principal: Principal,
    taxpayer_id: int,
    *,
    group: str | None,
    offset: int = 0,
    limit: int = TIMELINE_PAGE,
) -> tuple[list[TimelineEntry], bool]:
    """One page of the timeline (the card's filter and "mostra altri"): its entries, whether more follow."""
    position_ids = visible_position_ids(session, principal, taxpayer_id)
    stmt = timeline_stmt(principal, taxpayer_id, position_ids, group=group).offset(offset).limit(limit + 1)
    entries = timeline_entries(session.execute(stmt))
    return entries[:limit], len(entries) > limit


def visible_position_ids(session: Session, principal: Principal, taxpayer_id: int) -> list[int]:
    return list(
        session.scalars(
            scoped(sa.select(Position.id).where(Position.taxpayer_id == taxpayer_id), Position, principal)
        )
    )


def timeline_rows(
    session: Session, principal: Principal, taxpayer_id: int, *, group: str | None
) -> Iterator[dict[str, Any]]:
    """The whole timeline (of one group) as export rows, streamed."""
    position_ids = visible_position_ids(session, principal, taxpayer_id)
    stmt = timeline_stmt(principal, taxpayer_id, position_ids, group=group)
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        entry = TimelineEntry(*row)
        yield {
            "quando": entry.occurred_dt,
            "gruppo": group_of(entry.kind),
            "tipo": entry.kind,
            "descrizione": entry.summary,
            "operatore": entry.actor_label,
        }


@dataclass(frozen=True, slots=True)
class Relation:
    """A link as one card shows it: the relation and the taxpayer on the other side (one the user may see)."""

    relation: TaxpayerRelation
    other: Taxpayer
    label: str  # "Erede" on the deceased's card, "Erede di" on the heir's

    @property
    def open(self) -> bool:
        return self.relation.valid_to is None


def list_relations(
    session: Session, principal: Principal, taxpayer_id: int, *, as_of: dt.datetime | None = None
) -> list[Relation]:
    """The links of a taxpayer with the taxpayers on the other side that the user may see (a link to a
    taxpayer out of the user's scope is not shown at all), open ones first."""
    rel = TaxpayerRelation
    onclause = sa.or_(
        sa.and_(rel.from_taxpayer_id == taxpayer_id, Taxpayer.id == rel.to_taxpayer_id),
        sa.and_(rel.to_taxpayer_id == taxpayer_id, Taxpayer.id == rel.from_taxpayer_id),
    )
    stmt = scoped_join(sa.select(rel, Taxpayer).select_from(rel), Taxpayer, onclause, principal)
    stmt = scoped(stmt, rel, principal).where(
        sa.or_(rel.from_taxpayer_id == taxpayer_id, rel.to_taxpayer_id == taxpayer_id)
    )
    if as_of is not None:
        stmt = stmt.where(rel.created_dt <= as_of)
    stmt = stmt.order_by(rel.valid_to.is_not(None), rel.kind, Taxpayer.search_name, rel.id)
    return [Relation(r, other, r.label_from(taxpayer_id)) for r, other in session.execute(stmt).tuples()]


def get_relation(
    session: Session, principal: Principal, taxpayer_id: int, relation_id: int
) -> TaxpayerRelation:
    """A link of `taxpayer_id` whose both sides the user may see (else NotFound)."""
    for item in list_relations(session, principal, taxpayer_id):
        if item.relation.id == relation_id:
            return item.relation
    raise NotFound("Collegamento non trovato.")


def notice_numbers(session: Session, position_ids: list[int]) -> dict[int, str]:
    """The codice avviso of each position (the positions are already scoped)."""
    if not position_ids:
        return {}
    rows = session.execute(
        sa.select(NoticeNumber.position_id, NoticeNumber.notice_number)
        .where(
            NoticeNumber.position_id.in_(position_ids),
            NoticeNumber.item_kind == "posizione",
            NoticeNumber.item_ref == "",
        )
        .order_by(NoticeNumber.id)
    ).tuples()
    result: dict[int, str] = {}
    for position_id, number in rows:
        result.setdefault(position_id, number)
    return result


def contact_rows(taxpayer: Taxpayer) -> Iterator[dict[str, Any]]:
    """The taxpayer's addresses and contacts (every version, with its source) as export rows."""
    for addr in taxpayer.addresses:
        yield {"tipo": addr.kind_label, "valore": addr.one_line, "dal": addr.valid_from_dt,
               "al": addr.valid_to_dt, "fonte": addr.source}
    for contact in taxpayer.contacts:
        yield {"tipo": contact.kind_label, "valore": contact.value, "dal": contact.valid_from_dt,
               "al": contact.valid_to_dt, "fonte": contact.source}


def relation_rows(relations: list[Relation]) -> Iterator[dict[str, Any]]:
    for item in relations:
        yield {
            "collegamento": item.label,
            "codice_fiscale": item.other.codice_fiscale,
            "nominativo": item.other.display_name,
            "dal": item.relation.valid_from,
            "al": item.relation.valid_to,
            "fonte": item.relation.source,
        }
