"""Delivery records of issued acts: print batches for the postal provider, each sending of an act by a channel
(post, PEC, SEND) and each notification outcome (the work list of failed notifications is the outcomes whose
`worklist_status` is open)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope
from app.core.audit import EVENT_KINDS
from app.core.db import Base, CreatedMixin, JsonDoc
from app.jobs.files import STORED_FILE

EVENT_KINDS.setdefault("act.sent", "Atto inviato")
EVENT_KINDS.setdefault("act.not_notified", "Notifica dell'atto non riuscita")
EVENT_KINDS.setdefault("act.print_batch", "Lotto di stampa preparato")

CHANNELS: dict[str, str] = {"posta": "Posta (raccomandata)", "pec": "PEC", "send": "SEND"}
DELIVERY_STATUSES: dict[str, str] = {
    "inviato": "Inviato",
    "accettato": "Accettato",
    "consegnato": "Consegnato",
    "non_consegnato": "Non consegnato",
    "errore": "Errore",
}
OUTCOMES: dict[str, str] = {
    "notificato": "Notificato (consegnato)",
    "compiuta_giacenza": "Compiuta giacenza",
    "rifiutato": "Rifiutato dal destinatario",
    "irreperibile": "Destinatario irreperibile",
    "trasferito": "Destinatario trasferito",
    "deceduto": "Destinatario deceduto",
    "pec_consegnata": "PEC consegnata",
    "pec_mancata_consegna": "PEC non consegnata",
    "send_perfezionata": "Notifica SEND perfezionata",
    "send_irreperibile": "Destinatario irreperibile (SEND)",
}
OUTCOME_SOURCES: dict[str, str] = {
    "flusso": "Flusso esiti del fornitore",
    "pec": "Ricevuta PEC",
    "send": "SEND",
    "manuale": "Inserimento manuale",
}
# What to do after a failed notification (the work list's next step).
NEXT_STEPS: dict[str, str] = {
    "nuovo_indirizzo": "Cercare un nuovo indirizzo in anagrafe (ANPR) e reinviare",
    "reinvio": "Reinviare l'atto",
    "deposito_casa_comunale": "Deposito presso la casa comunale (art. 60 D.P.R. 600/1973)",
    "eredi": "Notificare agli eredi (art. 65 D.P.R. 600/1973)",
}
WORKLIST_STATUSES: dict[str, str] = {"aperto": "Da lavorare", "chiuso": "Lavorato"}
BATCH_STATUSES: dict[str, str] = {"pronto": "Pronto per il fornitore", "consegnato": "Consegnato"}


def _in(column: str, values: dict[str, str]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class PrintBatch(CreatedMixin, Base):
    """One batch for the postal provider: the ZIP (merged PDF + CSV/XML manifest) in the file store, and the
    acts and postal messages left out by the address pre-check with their reasons."""

    __tablename__ = "act_print_batches"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="pronto")
    acts: Mapped[int] = mapped_column(sa.Integer, default=0)
    messages: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")  # postal messages
    pages: Mapped[int] = mapped_column(sa.Integer, default=0)
    file_path: Mapped[str] = mapped_column(sa.String(200), info={STORED_FILE: True})
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    excluded: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_label: Mapped[str] = mapped_column(sa.String(120))

    __table_args__ = (sa.CheckConstraint(_in("status", BATCH_STATUSES), name="status"),)

    @property
    def status_label(self) -> str:
        return BATCH_STATUSES.get(self.status, self.status)


class ActDelivery(CreatedMixin, Base):
    """One sending of an act by one channel: the batch and barcode (post), the Message-ID (PEC), the request
    and IUN (SEND)."""

    __tablename__ = "act_deliveries"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("acts.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(16), default="inviato")
    sent_date: Mapped[dt.date] = mapped_column(sa.Date)
    recipient: Mapped[str] = mapped_column(sa.String(320))  # the address or PEC it went to
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("act_print_batches.id"), index=True)
    sequence: Mapped[int | None] = mapped_column(sa.Integer)
    barcode: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    message_id: Mapped[str | None] = mapped_column(sa.String(500), index=True)
    send_request_id: Mapped[str | None] = mapped_column(sa.String(64))
    send_iun: Mapped[str | None] = mapped_column(sa.String(25), index=True)
    error: Mapped[str | None] = mapped_column(sa.Text)

    batch: Mapped[PrintBatch | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
    )

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def status_label(self) -> str:
        return DELIVERY_STATUSES.get(self.status, self.status)


class ActOutcome(CreatedMixin, Base):
    """One notification outcome of an act, with the date it set and where it came from. A failed one opens a
    work-list item (`worklist_status` aperto) with its next step. Never two equal outcomes (act, outcome,
    date): a re-sent file is refused as a duplicate."""

    __tablename__ = "act_outcomes"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("acts.id"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("act_deliveries.id"))
    channel: Mapped[str] = mapped_column(sa.String(8))
    outcome: Mapped[str] = mapped_column(sa.String(24))
    event_date: Mapped[dt.date] = mapped_column(sa.Date)
    cad_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    notified_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    payment_due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    prescription_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    rule_source: Mapped[str | None] = mapped_column(sa.String(300))  # the legal source of the date's rule
    source: Mapped[str] = mapped_column(sa.String(10))
    reference: Mapped[str | None] = mapped_column(sa.String(300))  # file and line, Message-ID, IUN
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    next_step: Mapped[str | None] = mapped_column(sa.String(30))
    worklist_status: Mapped[str | None] = mapped_column(sa.String(8))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_label: Mapped[str] = mapped_column(sa.String(120))

    __table_args__ = (
        sa.UniqueConstraint("act_id", "outcome", "event_date"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint(_in("source", OUTCOME_SOURCES), name="source"),
        sa.CheckConstraint(f"next_step IS NULL OR {_in('next_step', NEXT_STEPS)}", name="next_step"),
        sa.CheckConstraint(
            f"worklist_status IS NULL OR {_in('worklist_status', WORKLIST_STATUSES)}", name="worklist_status"
        ),
        sa.Index("ix_act_outcomes_worklist", "ente_id", "worklist_status"),
    )

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)

    @property
    def source_label(self) -> str:
        return OUTCOME_SOURCES.get(self.source, self.source)

    @property
    def next_step_label(self) -> str:
        return NEXT_STEPS.get(self.next_step or "", "")


# Who sees what (app.core.access): each belongs to its ente.
for _model in (PrintBatch, ActDelivery, ActOutcome):
    register_scope(_model, ente=_model.ente_id)
