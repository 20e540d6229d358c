"""Use cases of the contact log and the appointment calendar. They flush, never commit; each records its
event on the taxpayer's timeline.

`record_contact`   one interaction (any channel, in or out) with topic, outcome, duration, notes and links
`book_appointment` a seat of a free slot, for the operator (by phone, from the card) or the taxpayer
                   (self-service); the seat is claimed under a partial unique index, so two bookings of the
                   last seat at the same instant end with one appointment and one clear refusal; the
                   confirmation is sent through app/crm/messages and recorded as an outgoing contact
`cancel_appointment` frees the seat (the row stays, status "cancelled")
`ensure_topics` / `ensure_sportello`  idempotent set-up of an ente's taxonomy and desks (demo, tests)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.archive.models import Document
from app.core.access import Principal, of_ente, scoped
from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError, NotFound
from app.crm.contacts import queries
from app.crm.contacts.models import (
    CHANNELS,
    DIRECTIONS,
    OUTCOMES,
    Appointment,
    Contact,
    ContactDocument,
    ContactPosition,
    ContactTopic,
    SlotRule,
    Sportello,
)
from app.positions.models import Position
from app.reports.formatting import format_datetime_it
from app.taxpayers.models import Taxpayer

MAX_DURATION_SECONDS = 24 * 3600
NOTES_MAX = 4000
DEFAULT_TOPICS: tuple[tuple[str, str], ...] = (
    ("informazioni_debito", "Informazioni sul debito"),
    ("rateazione", "Rateazione"),
    ("pagamento", "Pagamento"),
    ("ricorso_sgravio", "Ricorso o sgravio"),
    ("anagrafica", "Anagrafica e recapiti"),
    ("appuntamento", "Appuntamento"),
    ("reclamo", "Reclamo"),
)
APPOINTMENT_TOPIC = "appuntamento"


@dataclass(frozen=True, slots=True)
class ContactInput:
    taxpayer_id: int
    ente_id: int
    channel: str
    direction: str
    topic_id: int
    outcome: str
    started_dt: dt.datetime | None = None
    duration_seconds: int = 0
    notes: str = ""
    position_ids: tuple[int, ...] = field(default=())
    document_ids: tuple[int, ...] = field(default=())


def record_contact(session: Session, principal: Principal, actor: Actor, data: ContactInput) -> Contact:
    """Register one interaction with a taxpayer of one of the operator's enti; event `contact.recorded`."""
    if data.channel not in CHANNELS:
        raise DomainError("Canale non previsto.", field="channel")
    if data.direction not in DIRECTIONS:
        raise DomainError("Direzione non prevista: in entrata o in uscita.", field="direction")
    if data.outcome not in OUTCOMES:
        raise DomainError("Esito non previsto.", field="outcome")
    if not 0 <= data.duration_seconds <= MAX_DURATION_SECONDS:
        raise DomainError("La durata deve essere tra 0 e 24 ore.", field="duration")
    if len(data.notes) > NOTES_MAX:
        raise DomainError(f"Le note superano {NOTES_MAX} caratteri.", field="notes")
    started = data.started_dt or utcnow()
    if started > utcnow() + dt.timedelta(minutes=5):
        raise DomainError("L'inizio del contatto non può essere nel futuro.", field="started")
    taxpayer = _taxpayer_of_ente(session, principal, data.taxpayer_id, data.ente_id)
    topic = session.get(ContactTopic, data.topic_id)
    day = queries.rome_date(started)
    if topic is None or topic.ente_id != data.ente_id or not topic.valid_on(day):
        raise DomainError("Argomento non valido per l'ente alla data del contatto.", field="topic")
    positions = _positions(session, principal, data, taxpayer.id)
    documents = _documents(session, principal, data)
    contact = Contact(
        ente_id=data.ente_id,
        taxpayer_id=taxpayer.id,
        channel=data.channel,
        direction=data.direction,
        topic_id=topic.id,
        outcome=data.outcome,
        started_dt=started,
        duration_seconds=data.duration_seconds,
        notes=data.notes.strip(),
        operator_id=actor.user_id,
        operator_label=actor.label,
    )
    contact.position_links = [ContactPosition(position_id=p) for p in positions]
    contact.document_links = [ContactDocument(document_id=d) for d in documents]
    session.add(contact)
    session.flush()
    record_event(
        session,
        actor,
        "contact.recorded",
        f"{CHANNELS[data.channel]} {DIRECTIONS[data.direction].lower()} · {topic.label} · "
        f"{OUTCOMES[data.outcome]}",
        taxpayer_id=taxpayer.id,
        ente_id=data.ente_id,
        payload={
            "contact_id": contact.id,
            "channel": data.channel,
            "direction": data.direction,
            "topic": topic.code,
            "outcome": data.outcome,
            "duration_seconds": data.duration_seconds,
            "positions": list(positions),
            "documents": list(documents),
        },
        occurred_dt=started,
    )
    return contact


def _taxpayer_of_ente(session: Session, principal: Principal, taxpayer_id: int, ente_id: int) -> Taxpayer:
    if principal.role != "contribuente" and ente_id not in principal.ente_ids:
        raise DomainError("Ente non tra quelli dell'operatore.", field="ente")
    stmt = scoped(sa.select(Taxpayer).where(Taxpayer.id == taxpayer_id), Taxpayer, principal).where(
        of_ente(Taxpayer, ente_id)
    )
    taxpayer = session.scalars(stmt).first()
    if taxpayer is None:
        raise NotFound("Contribuente non trovato per questo ente.")
    return taxpayer


def _positions(session: Session, principal: Principal, data: ContactInput, taxpayer_id: int) -> list[int]:
    wanted = sorted(set(data.position_ids))
    if not wanted:
        return []
    found = set(
        session.scalars(
            scoped(sa.select(Position.id), Position, principal).where(
                Position.id.in_(wanted), Position.taxpayer_id == taxpayer_id, Position.ente_id == data.ente_id
            )
        )
    )
    missing = [p for p in wanted if p not in found]
    if missing:
        raise DomainError(
            f"Posizione {missing[0]} non del contribuente presso questo ente.", field="positions"
        )
    return wanted


def _documents(session: Session, principal: Principal, data: ContactInput) -> list[int]:
    wanted = sorted(set(data.document_ids))
    if not wanted:
        return []
    found = set(
        session.scalars(
            scoped(sa.select(Document.id), Document, principal).where(
                Document.id.in_(wanted), Document.ente_id == data.ente_id, Document.status != "deleted"
            )
        )
    )
    missing = [d for d in wanted if d not in found]
    if missing:
        raise DomainError(f"Documento {missing[0]} non trovato presso questo ente.", field="documents")
    return wanted


# --- appointments ---------------------------------------------------------------------------------------


def book_appointment(
    session: Session,
    principal: Principal,
    actor: Actor,
    *,
    sportello_id: int,
    taxpayer_id: int,
    start_dt: dt.datetime,
    notes: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Book the first free seat of the slot starting at `start_dt` (UTC) at a sportello.

    Steps: the sportello must be one the principal may book at (staff: of their enti; a taxpayer: of an
    ente they owe to), the taxpayer linked to its ente, the slot one the sportello's rules open that day
    (not a national holiday, not past); each free seat is tried in a savepoint: the partial unique index
    refuses a seat another booking took meanwhile, and the next one is tried; none left: refused.
    Records `appointment.booked` and the confirmation as an outgoing contact."""
    now = now or utcnow()
    via = "self_service" if principal.role == "contribuente" else "operatore"
    sportello = queries.get_bookable_sportello(session, principal, sportello_id)
    taxpayer = _taxpayer_of_ente(session, principal, taxpayer_id, sportello.ente_id)
    slot = queries.find_slot(session, sportello, start_dt)
    if slot is None:
        raise DomainError("Orario non disponibile presso questo sportello.", field="slot")
    if slot.start_dt <= now:
        raise DomainError("L'orario scelto è già passato.", field="slot")
    if len(notes) > NOTES_MAX:
        raise DomainError(f"Le note superano {NOTES_MAX} caratteri.", field="notes")
    already = session.scalar(
        sa.select(Appointment.id).where(
            Appointment.sportello_id == sportello.id,
            Appointment.start_dt == slot.start_dt,
            Appointment.taxpayer_id == taxpayer.id,
            Appointment.status == "booked",
        )
    )
    if already is not None:
        raise DomainError("Il contribuente ha già un appuntamento in questo orario.", field="slot")
    appointment = None
    for seat in range(1, slot.capacity + 1):
        candidate = Appointment(
            sportello_id=sportello.id,
            ente_id=sportello.ente_id,
            taxpayer_id=taxpayer.id,
            start_dt=slot.start_dt,
            end_dt=slot.end_dt,
            seat=seat,
            notes=notes.strip(),
            booked_via=via,
            booked_by_id=actor.user_id,
            booked_by_label=actor.label,
        )
        try:
            with session.begin_nested():
                session.add(candidate)
        except IntegrityError:
            continue  # that seat is taken (or was, a moment ago): the next one
        appointment = candidate
        break
    if appointment is None:
        raise DomainError("Orario al completo: scegline un altro.", field="slot")
    when = format_datetime_it(slot.start_dt)
    record_event(
        session,
        actor,
        "appointment.booked",
        f"Appuntamento del {when} presso {sportello.name}",
        taxpayer_id=taxpayer.id,
        ente_id=sportello.ente_id,
        payload={"appointment_id": appointment.id, "sportello": sportello.code, "via": via},
    )
    appointment.confirmation_contact_id = _confirm(session, principal, actor, appointment, sportello).id
    return appointment


def _confirm(
    session: Session, principal: Principal, actor: Actor, appointment: Appointment, sportello: Sportello
) -> Contact:
    """The confirmation: a message through app/crm/messages (purpose "appuntamento", the taxpayer's preferred
    channel, consent respected; one per appointment by its dedup key), recorded as an outgoing contact on the
    message's channel. When the message is refused (no consent, no recipient) the contact says why and is
    recorded on the booking's own channel: the operator confirms on the call, the taxpayer on the page."""
    from app.crm.messages.services import queue_message
    from app.enti.models import Ente

    topic = queries.current_topic(session, sportello.ente_id, APPOINTMENT_TOPIC, queries.rome_date(utcnow()))
    if topic is None:
        topic = ensure_topics(session, sportello.ente_id)[APPOINTMENT_TOPIC]
    when = format_datetime_it(appointment.start_dt)
    local = appointment.start_dt.astimezone(queries.ROME)
    message = queue_message(
        session,
        taxpayer=session.get(Taxpayer, appointment.taxpayer_id),
        ente=session.get(Ente, sportello.ente_id),
        purpose="appuntamento",
        context={
            "appuntamento": {
                "data": local.strftime("%d/%m/%Y"),
                "ora": local.strftime("%H:%M"),
                "sportello": f"{sportello.name}, {sportello.address}",
            }
        },
        actor=actor,
        dedup_key=f"appuntamento:{appointment.id}",
    )
    notes = f"Conferma dell'appuntamento del {when} presso {sportello.name}, {sportello.address}"
    if message.status == "rifiutato":
        channel = "web" if appointment.booked_via == "self_service" else "telefono"
        how = "a video" if channel == "web" else "a voce"
        notes += f": messaggio non inviato ({message.reason}); confermato {how}."
    else:
        channel = message.channel
        notes += f": messaggio n. {message.id} in coda."
    return record_contact(
        session,
        principal,
        actor,
        ContactInput(
            taxpayer_id=appointment.taxpayer_id,
            ente_id=sportello.ente_id,
            channel=channel,
            direction="out",
            topic_id=topic.id,
            outcome="appuntamento",
            notes=notes,
        ),
    )


def cancel_appointment(
    session: Session, principal: Principal, actor: Actor, appointment_id: int
) -> Appointment:
    appointment = session.scalars(
        scoped(sa.select(Appointment).where(Appointment.id == appointment_id), Appointment, principal)
    ).first()
    if appointment is None:
        raise NotFound("Appuntamento non trovato.")
    if appointment.status != "booked":
        raise DomainError("L'appuntamento è già annullato.")
    appointment.status = "cancelled"
    appointment.cancelled_dt = utcnow()
    record_event(
        session,
        actor,
        "appointment.cancelled",
        f"Appuntamento del {format_datetime_it(appointment.start_dt)} annullato",
        taxpayer_id=appointment.taxpayer_id,
        ente_id=appointment.ente_id,
        payload={"appointment_id": appointment.id},
    )
    session.flush()
    return appointment


# --- set-up (demo data, tests) --------------------------------------------------------------------------


def ensure_topics(
    session: Session,
    ente_id: int,
    topics: Iterable[tuple[str, str]] = DEFAULT_TOPICS,
    *,
    valid_from: dt.date = dt.date(2020, 1, 1),
) -> dict[str, ContactTopic]:
    """The ente's topics by code: the missing ones added (idempotent)."""
    existing = {
        t.code: t
        for t in session.scalars(
            sa.select(ContactTopic).where(ContactTopic.ente_id == ente_id).order_by(ContactTopic.valid_from)
        )
    }
    for code, label in topics:
        if code not in existing:
            existing[code] = ContactTopic(ente_id=ente_id, code=code, label=label, valid_from=valid_from)
            session.add(existing[code])
    session.flush()
    return existing


def ensure_sportello(
    session: Session,
    ente_id: int,
    *,
    code: str,
    name: str,
    address: str,
    hours: Iterable[tuple[int, dt.time, dt.time, int, int]],
    valid_from: dt.date = dt.date(2026, 1, 1),
) -> Sportello:
    """A sportello with its slot rules (weekday, start, end, slot minutes, capacity); idempotent by code."""
    sportello = session.scalars(
        sa.select(Sportello).where(Sportello.ente_id == ente_id, Sportello.code == code)
    ).first()
    if sportello is not None:
        return sportello
    sportello = Sportello(ente_id=ente_id, code=code, name=name, address=address)
    session.add(sportello)
    session.flush()
    for weekday, start, end, minutes, capacity in hours:
        session.add(
            SlotRule(
                sportello_id=sportello.id,
                weekday=weekday,
                start_time=start,
                end_time=end,
                slot_minutes=minutes,
                capacity=capacity,
                valid_from=valid_from,
            )
        )
    session.flush()
    return sportello
