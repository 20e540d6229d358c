"""The help desk's tables: tickets with their comments, history, pauses, attachments and outgoing mail; the
SLA parameters (urgency classes with the contract's targets, office hours, local holidays) as rows with
validity and source; the per-year reference counter.

A ticket belongs to one ente (the scope of every query); it may name a taxpayer (the taxpayer then sees it in
self-service, public comments only), a position, an archive document and a contact of the contact log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import access
from app.core.audit import EVENT_KINDS
from app.core.db import Base, CreatedMixin, JsonDoc, UTCDateTime, utcnow

# the help desk's events on a taxpayer's timeline (app/core/audit.py is not this module's to edit)
EVENT_KINDS.setdefault("ticket.opened", "Segnalazione di assistenza aperta")
EVENT_KINDS.setdefault("ticket.updated", "Segnalazione di assistenza aggiornata")

CHANNELS: dict[str, str] = {
    "telefono": "Telefono",
    "email": "E-mail",
    "portale": "Portale (self-service)",
    "operatore": "Operatore",
}
STATUSES: dict[str, str] = {
    "nuovo": "Nuovo",
    "in_carico": "In carico",
    "in_attesa": "In attesa",
    "trasferito": "Trasferito al primo livello della Regione",
    "risolto": "Risolto",
    "chiuso": "Chiuso",
    "riaperto": "Riaperto",
}
OPEN_STATUSES = ("nuovo", "in_carico", "in_attesa", "trasferito", "riaperto")
# the clock stops while the ticket waits for someone else, and once it is resolved
PAUSE_STATUSES = frozenset({"in_attesa", "trasferito", "risolto", "chiuso"})
REQUESTER_KINDS: dict[str, str] = {
    "regione": "Utente della Regione",
    "operatore": "Operatore",
    "contribuente": "Contribuente",
}
CATEGORIES: dict[str, str] = {
    "posizione": "Posizione debitoria e importi",
    "pagamenti": "Pagamenti e pagoPA",
    "atti": "Atti e notifiche",
    "rateazione": "Rateazioni",
    "accesso": "Accesso e credenziali",
    "applicativo": "Malfunzionamento dell'applicativo",
    "dati": "Flussi e dati della Regione",
    "altro": "Altro",
}
GROUPS: dict[str, str] = {
    "primo_livello": "Help desk di primo livello",
    "secondo_livello": "Supporto applicativo (secondo livello)",
    "riscossione": "Ufficio riscossione",
    "sistemi": "Sistemi e infrastruttura",
}
EVENT_LABELS: dict[str, str] = {
    "opened": "Aperta",
    "status": "Cambio di stato",
    "assigned": "Assegnazione",
    "comment": "Commento",
    "transferred": "Trasferita",
    "transfer_answer": "Risposta del primo livello",
    "third_party": "Richiesta a terzi",
    "third_party_answer": "Risposta di terzi",
    "mail_in": "E-mail ricevuta",
    "mail_out": "E-mail inviata",
    "sla_warning": "Preavviso SLA",
    "sla_breach": "Violazione SLA",
    "attachment": "Allegato",
    "article": "Soluzione pubblicata nella base di conoscenza",
}
MAIL_STATUSES: dict[str, str] = {"queued": "In coda", "sent": "Inviata", "failed": "Non inviata"}


class SlaPolicy(Base):
    """An urgency class and its contractual targets in business minutes (response and resolution), with the
    warning lead time; a new row with a later `valid_from` changes them (never retroactively)."""

    __tablename__ = "helpdesk_sla_policies"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(80))
    rank: Mapped[int] = mapped_column(sa.SmallInteger)  # 1 = most urgent
    response_minutes: Mapped[int] = mapped_column(sa.Integer)
    resolution_minutes: Mapped[int] = mapped_column(sa.Integer)
    warn_before_minutes: Mapped[int] = mapped_column(sa.Integer)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("code", "valid_from"),
        sa.CheckConstraint("response_minutes > 0 AND resolution_minutes > 0", name="targets"),
    )


class BusinessHours(Base):
    """Office hours of the help desk on one weekday (0 = Monday), local time."""

    __tablename__ = "helpdesk_business_hours"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    opens: Mapped[dt.time] = mapped_column(sa.Time)
    closes: Mapped[dt.time] = mapped_column(sa.Time)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("opens < closes", name="hours"),
    )


class LocalHoliday(Base):
    """A day the desk is closed besides the national holidays (a patron saint, a closure in the contract)."""

    __tablename__ = "helpdesk_local_holidays"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    source: Mapped[str] = mapped_column(sa.Text)


class TicketCounter(Base):
    """The last reference number of a year: moved under a row lock, so numbers are gap-free and unique."""

    __tablename__ = "helpdesk_ticket_counters"

    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(sa.Integer, default=0)


class Ticket(CreatedMixin, Base):
    __tablename__ = "helpdesk_tickets"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)  # TT-<year>-<6 digits>
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(12))
    urgency: Mapped[str] = mapped_column(sa.String(20))
    category: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12), default="nuovo")
    requester_kind: Mapped[str] = mapped_column(sa.String(12))
    requester_name: Mapped[str] = mapped_column(sa.String(200))
    requester_email: Mapped[str | None] = mapped_column(sa.String(200))
    requester_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    taxpayer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    contact_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # a contact of the contact log (crm)
    assigned_group: Mapped[str | None] = mapped_column(sa.String(20))
    assigned_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    opened_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_response_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    solution: Mapped[str | None] = mapped_column(sa.Text)
    reopen_count: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    # the SLA as last evaluated (app/helpdesk/sla.py): deadlines (None while paused) and breaches
    response_due_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution_due_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    response_warned: Mapped[bool] = mapped_column(default=False)
    resolution_warned: Mapped[bool] = mapped_column(default=False)
    response_late_minutes: Mapped[int | None] = mapped_column(sa.Integer)  # None: not breached
    resolution_late_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(sa.Integer)  # business minutes to resolution
    # transfer to the Regione's first-level help desk
    transfer_reason: Mapped[str | None] = mapped_column(sa.Text)
    transfer_answer: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    mail_message_id: Mapped[str | None] = mapped_column(sa.String(500), unique=True)  # opened by e-mail

    comments: Mapped[list[TicketComment]] = relationship(
        back_populates="ticket", order_by="TicketComment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(order_by="TicketEvent.id", cascade="all, delete-orphan")
    pauses: Mapped[list[TicketPause]] = relationship(order_by="TicketPause.id", cascade="all, delete-orphan")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        order_by="TicketAttachment.id", cascade="all, delete-orphan"
    )
    ente = relationship("Ente")
    taxpayer = relationship("Taxpayer")
    assigned_user = relationship("User", foreign_keys=[assigned_user_id])

    __table_args__ = (
        sa.Index("ix_helpdesk_tickets_status", "status"),
        sa.CheckConstraint(
            "status IN ('nuovo','in_carico','in_attesa','trasferito','risolto','chiuso','riaperto')",
            name="status",
        ),
    )

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def group_label(self) -> str:
        return GROUPS.get(self.assigned_group or "", "—")

    @property
    def requester_kind_label(self) -> str:
        return REQUESTER_KINDS.get(self.requester_kind, self.requester_kind)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def public_comments(self) -> list[TicketComment]:
        return [c for c in self.comments if not c.internal]


class TicketComment(CreatedMixin, Base):
    """A comment: public (the requester sees it, and gets it by e-mail) or internal (the Gestore's note).
    Comments are never edited nor deleted."""

    __tablename__ = "helpdesk_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("helpdesk_tickets.id"), index=True)
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text)
    author_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(sa.String(200))
    from_requester: Mapped[bool] = mapped_column(default=False)
    mail_message_id: Mapped[str | None] = mapped_column(sa.String(500), unique=True)

    ticket: Mapped[Ticket] = relationship(back_populates="comments")


class TicketEvent(Base):
    """The ticket's history: every change, who, when, from which state to which, and its details."""

    __tablename__ = "helpdesk_ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("helpdesk_tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    occurred_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str | None] = mapped_column(sa.String(12))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)

    @property
    def kind_label(self) -> str:
        return EVENT_LABELS.get(self.kind, self.kind)


class TicketPause(Base):
    """A span in which the SLA clock stood still (the ticket waited, was transferred, or was resolved)."""

    __tablename__ = "helpdesk_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("helpdesk_tickets.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12))
    started_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class TicketAttachment(CreatedMixin, Base):
    """A file of the ticket, stored in the archive (its protocol number and content-addressed original)."""

    __tablename__ = "helpdesk_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("helpdesk_tickets.id"), index=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    file_name: Mapped[str] = mapped_column(sa.String(255))

    document = relationship("Document")

    __table_args__ = (sa.UniqueConstraint("ticket_id", "document_id"),)


class TicketMail(CreatedMixin, Base):
    """An e-mail the desk sends (reply to the requester, transfer, SLA warning): recorded first, then sent by
    a job that retries; failed after the last try, never lost."""

    __tablename__ = "helpdesk_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("helpdesk_tickets.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))  # reply | transfer | third_party | sla_warning
    recipient: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str | None] = mapped_column(sa.String(500))
    sent_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def status_label(self) -> str:
        return MAIL_STATUSES.get(self.status, self.status)


# Who sees what (app.core.access): staff see their enti's tickets; a taxpayer account the tickets naming it.
access.register_scope(Ticket, ente=Ticket.ente_id, taxpayer=Ticket.taxpayer_id)
for _model in (TicketComment, TicketEvent, TicketPause, TicketAttachment, TicketMail):
    access.register_scope(
        _model, ente=access.through(_model.ticket_id), taxpayer=access.through(_model.ticket_id)
    )
