"""Contacts, their topics, the sportelli and their appointment slots.

| table                   | what a row is                                                                   |
|-------------------------|---------------------------------------------------------------------------------|
| `contact_topics`        | a topic of an ente's taxonomy (informazioni sul debito, rateazione...), with its |
|                         | validity dates: a topic is closed (`valid_to`), never deleted or renamed away    |
| `contacts`              | one interaction: channel, direction, operator, taxpayer, ente, topic, outcome,   |
|                         | start and duration, notes, and a ticket id for the help desk (later)             |
| `contact_positions`     | a position the contact was about                                                 |
| `contact_documents`     | a document of the archive the contact concerned                                  |
| `sportelli`             | a desk office of an ente, with its address                                       |
| `sportello_slot_rules`  | when a sportello receives: weekday, hours, slot length, capacity, validity       |
| `appointments`          | a booked seat of a slot; one seat is booked once (a partial unique index: no     |
|                         | double booking even when two operators book at the same instant)                 |
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import access
from app.core.db import Base, CreatedMixin, UTCDateTime, utcnow

CHANNELS: dict[str, str] = {
    "sportello": "Sportello",
    "telefono": "Telefono",
    "email": "E-mail",
    "pec": "PEC",
    "posta": "Posta",
    "sms": "SMS",
    "app_io": "App IO",
    "web": "Web",
}
DIRECTIONS: dict[str, str] = {"in": "In entrata", "out": "In uscita"}
OUTCOMES: dict[str, str] = {
    "risolto": "Risolto",
    "da_richiamare": "Da richiamare",
    "inoltrato_backoffice": "Inoltrato al back office",
    "appuntamento": "Appuntamento fissato",
    "informazioni_fornite": "Informazioni fornite",
    "non_risponde": "Non risponde",
}
APPOINTMENT_STATES: dict[str, str] = {"booked": "Prenotato", "cancelled": "Annullato"}
BOOKED_VIA: dict[str, str] = {"operatore": "Operatore", "self_service": "Self-service"}
WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")


def _in(column: str, values: object) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"  # type: ignore[attr-defined]


class ContactTopic(Base):
    """A topic of an ente's contact taxonomy, valid from `valid_from` to `valid_to` (None: open)."""

    __tablename__ = "contact_topics"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str] = mapped_column(sa.String(120))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "code", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
    )

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Contact(CreatedMixin, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"))
    channel: Mapped[str] = mapped_column(sa.String(12))
    direction: Mapped[str] = mapped_column(sa.String(3))
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("contact_topics.id"))
    outcome: Mapped[str] = mapped_column(sa.String(30))
    started_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_seconds: Mapped[int] = mapped_column(sa.Integer, default=0)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    operator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    operator_label: Mapped[str] = mapped_column(sa.String(120))
    ticket_id: Mapped[int | None] = mapped_column(sa.Integer)  # the help desk's ticket, when it exists

    topic: Mapped[ContactTopic] = relationship()
    ente = relationship("Ente")
    taxpayer = relationship("Taxpayer")
    position_links: Mapped[list[ContactPosition]] = relationship(
        order_by="ContactPosition.position_id", cascade="all, delete-orphan"
    )
    document_links: Mapped[list[ContactDocument]] = relationship(
        order_by="ContactDocument.document_id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_contacts_taxpayer_started", "taxpayer_id", "started_dt"),
        sa.Index("ix_contacts_ente_started", "ente_id", "started_dt"),
        sa.Index(
            "ix_contacts_notes_fts",
            sa.text("to_tsvector('italian'::regconfig, notes)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint("duration_seconds >= 0", name="duration"),
    )

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def direction_label(self) -> str:
        return DIRECTIONS.get(self.direction, self.direction)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def duration_label(self) -> str:
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{minutes} min {seconds:02d} s" if seconds else f"{minutes} min"


class ContactPosition(Base):
    __tablename__ = "contact_positions"

    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), primary_key=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), primary_key=True, index=True)

    position = relationship("Position")


class ContactDocument(Base):
    __tablename__ = "contact_documents"

    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), primary_key=True, index=True)

    document = relationship("Document")


class Sportello(CreatedMixin, Base):
    """A desk office of an ente, where taxpayers are received by appointment."""

    __tablename__ = "sportelli"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)

    ente = relationship("Ente")
    rules: Mapped[list[SlotRule]] = relationship(
        back_populates="sportello", order_by="SlotRule.weekday, SlotRule.start_time"
    )

    __table_args__ = (sa.UniqueConstraint("ente_id", "code"),)


class SlotRule(Base):
    """On `weekday` (0 = Monday) from `start_time` to `end_time`, slots of `slot_minutes`, each with
    `capacity` seats (operators at the desk); valid from `valid_from` to `valid_to`. National holidays are
    closed."""

    __tablename__ = "sportello_slot_rules"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    sportello_id: Mapped[int] = mapped_column(sa.ForeignKey("sportelli.id"))
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    start_time: Mapped[dt.time] = mapped_column(sa.Time)
    end_time: Mapped[dt.time] = mapped_column(sa.Time)
    slot_minutes: Mapped[int] = mapped_column(sa.SmallInteger)
    capacity: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)

    sportello: Mapped[Sportello] = relationship(back_populates="rules")

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("end_time > start_time", name="hours"),
        sa.CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes"),
        sa.CheckConstraint("capacity BETWEEN 1 AND 50", name="capacity"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
    )

    @property
    def weekday_label(self) -> str:
        return WEEKDAYS[self.weekday]

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Appointment(CreatedMixin, Base):
    """Seat `seat` of the slot starting at `start_dt` at a sportello, booked for a taxpayer."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sportello_id: Mapped[int] = mapped_column(sa.ForeignKey("sportelli.id"))
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    start_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    seat: Mapped[int] = mapped_column(sa.SmallInteger)
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact_topics.id"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="booked")
    booked_via: Mapped[str] = mapped_column(sa.String(12))
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    booked_by_label: Mapped[str] = mapped_column(sa.String(120))
    cancelled_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmation_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))

    sportello: Mapped[Sportello] = relationship()
    topic: Mapped[ContactTopic | None] = relationship()
    taxpayer = relationship("Taxpayer")

    __table_args__ = (
        # no double booking: a seat of a slot is booked once (cancelled bookings free it)
        sa.Index(
            "uq_appointments_seat",
            "sportello_id",
            "start_dt",
            "seat",
            unique=True,
            postgresql_where=sa.text("status = 'booked'"),
            sqlite_where=sa.text("status = 'booked'"),
        ),
        # and a taxpayer holds one seat of a slot
        sa.Index(
            "uq_appointments_taxpayer_slot",
            "sportello_id",
            "start_dt",
            "taxpayer_id",
            unique=True,
            postgresql_where=sa.text("status = 'booked'"),
            sqlite_where=sa.text("status = 'booked'"),
        ),
        sa.Index("ix_appointments_sportello_start", "sportello_id", "start_dt"),
        sa.CheckConstraint(_in("status", APPOINTMENT_STATES), name="status"),
        sa.CheckConstraint(_in("booked_via", BOOKED_VIA), name="booked_via"),
        sa.CheckConstraint("end_dt > start_dt", name="slot_range"),
        sa.CheckConstraint("seat >= 1", name="seat"),
    )

    @property
    def status_label(self) -> str:
        return APPOINTMENT_STATES.get(self.status, self.status)

    @property
    def booked_via_label(self) -> str:
        return BOOKED_VIA.get(self.booked_via, self.booked_via)


# Who sees what (app.core.access): topics, sportelli, contacts and appointments belong to their ente; a
# taxpayer sees their own contacts and appointments (and every sportello of the enti they owe to is
# bookable: see queries.bookable_sportelli); the links go with their contact, slot rules with their sportello.
access.register_scope(ContactTopic, ente=ContactTopic.ente_id)
access.register_scope(Contact, ente=Contact.ente_id, taxpayer=Contact.taxpayer_id)
access.register_scope(
    ContactPosition,
    ente=access.through(ContactPosition.contact_id),
    taxpayer=access.through(ContactPosition.contact_id),
)
access.register_scope(
    ContactDocument,
    ente=access.through(ContactDocument.contact_id),
    taxpayer=access.through(ContactDocument.contact_id),
)
access.register_scope(Sportello, ente=Sportello.ente_id)
access.register_scope(SlotRule, ente=access.through(SlotRule.sportello_id))
access.register_scope(Appointment, ente=Appointment.ente_id, taxpayer=Appointment.taxpayer_id)
