"""The IMAP intake's records: where each mailbox folder's polling stands (UIDVALIDITY and the last UID seen)
and every message seen, filed or refused, with the documents it became (app/archive/mailbox.py)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.archive.models import Document, _in
from app.core import access
from app.core.audit import EVENT_KINDS
from app.core.db import Base, CreatedMixin, UTCDateTime

# The events of the mailbox and of conservazione, added to the audit log's vocabulary (app/core/audit.py is
# not this module's to edit): their labels are known wherever the archive's models are loaded.
EVENT_KINDS.setdefault("mail.filed", "Messaggio di posta protocollato")
EVENT_KINDS.setdefault("mail.refused", "Messaggio di posta rifiutato")
EVENT_KINDS.setdefault("archive.exported", "Pacchetto di conservazione esportato")
EVENT_KINDS.setdefault("document.viewed", "Documento visualizzato")

MAIL_KINDS: dict[str, str] = {"email": "E-mail", "pec": "PEC", "ricevuta_pec": "Ricevuta PEC"}
MAIL_STATUSES: dict[str, str] = {"filed": "Protocollato", "refused": "Rifiutato"}
# PEC receipts (DPR 68/2005, DM 2 novembre 2005): the X-Ricevuta header / daticert.xml `tipo`
RECEIPT_KINDS: dict[str, str] = {
    "accettazione": "Ricevuta di accettazione",
    "non-accettazione": "Avviso di non accettazione",
    "presa-in-carico": "Ricevuta di presa in carico",
    "avvenuta-consegna": "Ricevuta di avvenuta consegna",
    "mancata-consegna": "Avviso di mancata consegna",
    "errore-consegna": "Avviso di mancata consegna",
    "preavviso-errore-consegna": "Preavviso di mancata consegna",
    "rilevazione-virus": "Avviso di rilevazione virus",
}
ROLES: dict[str, str] = {
    "messaggio": "Messaggio",
    "allegato": "Allegato",
    "postacert": "Messaggio originale (postacert.eml)",
    "daticert": "Dati di certificazione (daticert.xml)",
}


class MailboxState(Base):
    """One mailbox folder: its UIDVALIDITY and the highest UID already handled."""

    __tablename__ = "mail_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(sa.String(300), unique=True)  # user@host:port/folder
    uidvalidity: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    polled_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MailMessage(CreatedMixin, Base):
    """A message seen in the mailbox (unique per ente by Message-ID): filed as one registration (the message's
    protocol) with its documents, or refused with the reason."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("mail_mailboxes.id"))
    uid: Mapped[int] = mapped_column(sa.BigInteger)
    message_id: Mapped[str] = mapped_column(sa.String(500))
    kind: Mapped[str] = mapped_column(sa.String(12))
    receipt_kind: Mapped[str | None] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    sender: Mapped[str | None] = mapped_column(sa.String(250))
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    attachments: Mapped[int] = mapped_column(sa.Integer, default=0)
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    protocol: Mapped[str | None] = mapped_column(sa.String(40), index=True)

    document: Mapped[Document | None] = relationship()
    parts: Mapped[list[MailMessageDocument]] = relationship(
        back_populates="message", order_by="MailMessageDocument.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "message_id"),
        sa.CheckConstraint(_in("kind", MAIL_KINDS), name="kind"),
        sa.CheckConstraint(_in("status", MAIL_STATUSES), name="status"),
    )

    @property
    def kind_label(self) -> str:
        return MAIL_KINDS.get(self.kind, self.kind)


class MailMessageDocument(Base):
    """A document a message became: the message itself, an attachment, the PEC envelope's parts."""

    __tablename__ = "mail_message_documents"

    mail_message_id: Mapped[int] = mapped_column(sa.ForeignKey("mail_messages.id"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    file_name: Mapped[str] = mapped_column(sa.String(255))

    message: Mapped[MailMessage] = relationship(back_populates="parts")
    document: Mapped[Document] = relationship()

    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)


access.register_scope(MailMessage, ente=MailMessage.ente_id)
access.register_scope(MailMessageDocument, ente=access.through(MailMessageDocument.document_id))
