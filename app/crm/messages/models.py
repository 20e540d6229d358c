"""Messages out: templates, messages with their delivery status and attachments, consents, rules.

| table                | what a row is                                                                  |
|----------------------|--------------------------------------------------------------------------------|
| `message_templates`  | one version of a template (ente, entrata or all, purpose, channel) with validity |
| `messages`           | one message to one taxpayer on one channel: status, attempts, provider id      |
|                      | (posta: the letter's archive document and the print batch that took it)        |
| `message_attachments`| a file of the store attached to a message                                      |
| `consents`           | a taxpayer's consent (or refusal) for a channel, valid-time history with source |
| `message_rules`      | automatic sends: purpose, channel order, days before the due date              |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.audit import EVENT_KINDS
from app.core.db import Base, CreatedMixin, JsonDoc, UTCDateTime, utcnow
from app.jobs.files import STORED_FILE

CHANNELS: dict[str, str] = {
    "email": "E-mail",
    "pec": "PEC",
    "sms": "SMS",
    "app_io": "App IO",
    "posta": "Posta",
}
# postal messages are letters (PDF, protocol) printed and sent with the acts' print batches
POSTAL_NOTE = (
    "Posta: la lettera è protocollata e parte con il prossimo lotto di stampa (Recapito atti → Stampa e "
    "lotti); il fornitore ne restituisce l'esito."
)
PURPOSES: dict[str, str] = {
    "promemoria_rata": "Promemoria di scadenza",
    "ricevuta_pagamento": "Ricevuta di pagamento",
    "appuntamento": "Appuntamento",
    "risposta_richiesta": "Risposta a una richiesta",
}
STATUSES: dict[str, str] = {
    "in_coda": "In coda",
    "inviato": "Inviato",
    "consegnato": "Consegnato",
    "fallito": "Non riuscito",
    "rifiutato": "Non inviato",
}
CONSENT_SOURCES: dict[str, str] = {
    "sportello": "Sportello",
    "contribuente": "Contribuente (self-service)",
    "callcenter": "Call center",
    "modulo": "Modulo firmato",
}

# The timeline kinds of this module (the timeline's vocabulary lives in app.core.audit).
EVENT_KINDS.update(
    {
        "message.queued": "Messaggio in coda",
        "message.sent": "Messaggio inviato",
        "message.delivered": "Messaggio consegnato",
        "message.failed": "Messaggio non riuscito",
        "message.refused": "Messaggio non inviato",
        "consent.changed": "Consenso variato",
    }
)


class MessageTemplate(CreatedMixin, Base):
    """One version of a template. A change closes the version in force (valid_to) and opens the next."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    entrata_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrate.id"))  # None: every entrata
    purpose: Mapped[str] = mapped_column(sa.String(30))
    channel: Mapped[str] = mapped_column(sa.String(10))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    ente: Mapped[Any] = relationship("Ente")
    entrata: Mapped[Any] = relationship("Entrata")

    __table_args__ = (
        sa.Index("ix_message_templates_lookup", "ente_id", "purpose", "channel", "entrata_id"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
    )

    @property
    def purpose_label(self) -> str:
        return PURPOSES.get(self.purpose, self.purpose)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    channel: Mapped[str] = mapped_column(sa.String(10))
    recipient: Mapped[str | None] = mapped_column(sa.String(250))
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message_templates.id"))
    purpose: Mapped[str] = mapped_column(sa.String(30))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # channel data the provider needs besides the text (App IO: payment_data, due_date)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), default="in_coda")
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failed_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(sa.String(250))
    dedup_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    # posta: the letter filed in the archive (its protocol) and the print batch that took it
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    print_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("act_print_batches.id"), index=True)

    attachments: Mapped[list[MessageAttachment]] = relationship(
        back_populates="message", order_by="MessageAttachment.id"
    )
    taxpayer: Mapped[Any] = relationship("Taxpayer")
    ente: Mapped[Any] = relationship("Ente")
    document: Mapped[Any] = relationship("Document")

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('in_coda','inviato','consegnato','fallito','rifiutato')", name="status"
        ),
        sa.Index("ix_messages_ente_created", "ente_id", "created_dt"),
    )

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def purpose_label(self) -> str:
        return PURPOSES.get(self.purpose, self.purpose)


class MessageAttachment(Base):
    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(250))
    mime_type: Mapped[str] = mapped_column(sa.String(100))
    file_path: Mapped[str] = mapped_column(sa.String(200), info={STORED_FILE: True})
    size: Mapped[int] = mapped_column(sa.BigInteger)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Consent(Base):
    """A taxpayer's answer for one channel, as valid-time history: a change closes the open row (valid_to_dt)
    and opens a new one, with its source (who collected it) and the operator who recorded it."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    granted: Mapped[bool] = mapped_column(sa.Boolean)
    preferred: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    valid_from_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_to_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(sa.String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (sa.Index("ix_consents_taxpayer_channel", "taxpayer_id", "channel", "valid_from_dt"),)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)


class MessageRule(CreatedMixin, Base):
    """An automatic send: for the positions of the ente (and entrata, None = all) falling due in
    `days_before` days, a message of `purpose` on the first channel of `channels` the taxpayer can receive."""

    __tablename__ = "message_rules"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    entrata_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrate.id"))
    purpose: Mapped[str] = mapped_column(sa.String(30))
    channels: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    days_before: Mapped[int] = mapped_column(sa.Integer)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    ente: Mapped[Any] = relationship("Ente")
    entrata: Mapped[Any] = relationship("Entrata")

    __table_args__ = (sa.CheckConstraint("days_before >= 0", name="days_before"),)


# Who sees what (app.core.access): templates and rules belong to their ente; a message to its ente and its
# taxpayer; an attachment goes with its message; a consent with its taxpayer.
register_scope(MessageTemplate, ente=MessageTemplate.ente_id)
register_scope(MessageRule, ente=MessageRule.ente_id)
register_scope(Message, ente=Message.ente_id, taxpayer=Message.taxpayer_id)
register_scope(MessageAttachment, ente=through(MessageAttachment.message_id),
               taxpayer=through(MessageAttachment.message_id))
register_scope(Consent, ente=through(Consent.taxpayer_id), taxpayer=Consent.taxpayer_id)
