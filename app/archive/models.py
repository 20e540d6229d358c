"""The document archive (R-C1, R-C3): documents with their protocol number, pages, links to taxpayers and
positions, the per-ente protocol counter and the search outbox.

Originals are never modified: a document names its file in the content-addressed store (app/jobs/files.py) by
path and SHA-256. Every change bumps `version` and writes an outbox row in the same transaction, so the search
index follows the database even when a job dies (app/archive/indexing.py drains it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import access
from app.core.db import Base, CreatedMixin, UTCDateTime, utcnow
from app.jobs.files import STORED_FILE

CHANNELS: dict[str, str] = {
    "sportello": "Sportello",
    "posta": "Posta",
    "pec": "PEC",
    "email": "E-mail",
    "scansione": "Scansione",
    "web": "Web",
    "uscita": "In uscita",  # an act the ente issued (app/atti), filed with its protocol
}
DOCUMENT_STATUSES: dict[str, str] = {
    "received": "Ricevuto",
    "reading": "In lettura",
    "indexed": "Indicizzato",
    "refused": "Rifiutato",
    "deleted": "Eliminato",
}
TEXT_SOURCES: dict[str, str] = {"text_layer": "Testo del PDF", "ocr": "OCR", "none": "Nessun testo"}
LINK_KINDS: dict[str, str] = {"taxpayer": "Contribuente", "position": "Posizione"}
LINK_STATES: dict[str, str] = {"proposed": "Proposto", "confirmed": "Confermato", "rejected": "Rifiutato"}
OUTBOX_OPS = ("index", "delete")


def _in(column: str, values: object) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"  # type: ignore[attr-defined]


class DocumentType(Base):
    """A kind of document (istanza di rateazione, ricorso, ...): national (no ente) or an ente's own, with its
    retention class (years) and the legal act it comes from."""

    __tablename__ = "document_types"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enti.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str] = mapped_column(sa.String(200))
    retention_years: Mapped[int | None] = mapped_column(sa.SmallInteger)
    source: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (sa.UniqueConstraint("code", "ente_id"),)


class Document(CreatedMixin, Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    protocol: Mapped[str] = mapped_column(sa.String(40), unique=True)
    received_date: Mapped[dt.date] = mapped_column(sa.Date)
    channel: Mapped[str] = mapped_column(sa.String(12))
    type_id: Mapped[int] = mapped_column(sa.ForeignKey("document_types.id"))
    sender: Mapped[str | None] = mapped_column(sa.String(250))
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    file_name: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    file_path: Mapped[str] = mapped_column(sa.String(200), info={STORED_FILE: True})
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    mime_type: Mapped[str] = mapped_column(sa.String(100))
    pages: Mapped[int] = mapped_column(sa.Integer, default=0)
    encrypted: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    text_source: Mapped[str] = mapped_column(sa.String(12), default="none")
    ocr_confidence: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    status: Mapped[str] = mapped_column(sa.String(12), default="received")
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_label: Mapped[str] = mapped_column(sa.String(120))

    doc_type: Mapped[DocumentType] = relationship()
    ente = relationship("Ente")
    links: Mapped[list[DocumentLink]] = relationship(
        back_populates="document", order_by="DocumentLink.id", cascade="all, delete-orphan"
    )
    page_rows: Mapped[list[DocumentPage]] = relationship(
        back_populates="document", order_by="DocumentPage.number", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "sha256"),
        sa.Index("ix_documents_ente_received", "ente_id", "received_date", "id"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(_in("status", DOCUMENT_STATUSES), name="status"),
        sa.CheckConstraint(_in("text_source", TEXT_SOURCES), name="text_source"),
        sa.CheckConstraint(
            "ocr_confidence IS NULL OR (ocr_confidence >= 0 AND ocr_confidence <= 100)", name="confidence"
        ),
    )

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def status_label(self) -> str:
        return DOCUMENT_STATUSES.get(self.status, self.status)

    @property
    def text_source_label(self) -> str:
        return TEXT_SOURCES.get(self.text_source, self.text_source)


class DocumentPage(Base):
    """One page's text (OCR job per page); `text` None while its job has not run."""

    __tablename__ = "document_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    number: Mapped[int] = mapped_column(sa.Integer)
    text: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(12), default="none")
    confidence: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    read_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[Document] = relationship(back_populates="page_rows")

    __table_args__ = (sa.UniqueConstraint("document_id", "number"),)


class DocumentLink(Base):
    """A document tied to a taxpayer or a position, found in its text (`matched`) or set by hand."""

    __tablename__ = "document_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    target_id: Mapped[int] = mapped_column(sa.Integer)
    # the taxpayer concerned (the position's for a position link): the card's "Documenti" section
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"), index=True)
    matched: Mapped[str] = mapped_column(sa.String(60), default="")
    state: Mapped[str] = mapped_column(sa.String(10), default="proposed")
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_label: Mapped[str | None] = mapped_column(sa.String(120))
    decided_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[Document] = relationship(back_populates="links")

    __table_args__ = (
        sa.UniqueConstraint("document_id", "kind", "target_id"),
        sa.CheckConstraint(_in("kind", LINK_KINDS), name="kind"),
        sa.CheckConstraint(_in("state", LINK_STATES), name="state"),
    )

    @property
    def kind_label(self) -> str:
        return LINK_KINDS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        return LINK_STATES.get(self.state, self.state)


class ProtocolCounter(Base):
    """The last protocol number of an ente in a year (gap-free: taken in the filing transaction)."""

    __tablename__ = "document_protocol_counters"

    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(sa.Integer, default=0)


class SearchOutbox(Base):
    """A change the search index has not seen yet (written with the change, drained after commit)."""

    __tablename__ = "document_outbox"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    op: Mapped[str] = mapped_column(sa.String(8))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint(_in("op", OUTBOX_OPS), name="op"),)


# Who sees what (app.core.access): a document belongs to its ente; pages, links and outbox rows to their
# document; document types are national (no ente) or an ente's own, like parameters.
access.register_scope(Document, ente=Document.ente_id)
access.register_scope(DocumentPage, ente=access.through(DocumentPage.document_id))
access.register_scope(DocumentLink, ente=access.through(DocumentLink.document_id))
access.register_scope(SearchOutbox, ente=access.through(SearchOutbox.document_id))
access.register_scope(ProtocolCounter, ente=ProtocolCounter.ente_id)
access.register_scope(
    DocumentType, ente=lambda allowed: sa.or_(DocumentType.ente_id.is_(None), allowed(DocumentType.ente_id))
)
from app.archive import mailbox_models  # noqa: E402,F401  (the IMAP intake's tables)
