"""Postal messages (app/crm/messages, channel `posta`) in the print flow: the letters waiting for a batch,
their print items (the letter's PDF as filed, the address printed on it), marking them sent when a batch is
produced, and the provider's outcomes for them (docs/formats/stampa.md, manifest 1.1 and §3).

A message's outcome is its delivery status: `notificato` -> `consegnato`; every other outcome (irreperibile,
trasferito, deceduto, rifiutato, compiuta giacenza: the letter did not reach the recipient) -> `fallito` with
the outcome as the reason. Only a message `inviato` takes an outcome: a second one is a duplicate. Never
commit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.atti.delivery.outcomes_file import POSTAL_OUTCOMES, LineError, OutcomeLine
from app.atti.delivery.printflow import KIND_MESSAGE, ManifestRow, PrintItem
from app.core.access import Principal, scoped
from app.crm.messages.models import Message
from app.enti.models import Ente

LIST_LIMIT = 500
DELIVERED = "notificato"


def _fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def messages_to_send(
    session: Session, ente_id: int, principal: Principal | None = None, *, lock: bool = False
) -> list[Message]:
    """The ente's postal messages waiting for a print batch, oldest first (at most LIST_LIMIT). `lock` (the
    batch being made): the rows are locked, and those another batch is taking right now are skipped, so two
    batches made at once never send a letter twice."""
    stmt = (
        sa.select(Message)
        .where(
            Message.ente_id == ente_id,
            Message.channel == "posta",
            Message.status == "in_coda",
            Message.print_batch_id.is_(None),
        )
        .options(selectinload(Message.taxpayer), selectinload(Message.document))
        .order_by(Message.id)
        .limit(LIST_LIMIT)
    )
    if principal is not None:
        stmt = scoped(stmt, Message, principal)
    if lock:
        stmt = stmt.with_for_update(of=Message, skip_locked=True)
    return list(session.scalars(stmt))


def print_items(session: Session, messages: Sequence[Message], *, file_store: str | None) -> list[PrintItem]:
    """One item per letter: its protocol, the address printed on it (checked again by the pre-check), its
    PDF as filed in the archive (`file_store` None: no PDF, for the pre-check page)."""
    from app.atti.delivery.services import recipient_name
    from app.crm.messages.postal import address_of_payload
    from app.jobs.files import path_of

    items = []
    for message in messages:
        document = message.document
        pdf = path_of(file_store, document.file_path).read_bytes() if file_store and document else b""
        items.append(
            PrintItem(
                message.id,
                document.protocol if document else "",
                message.taxpayer.codice_fiscale,
                recipient_name(message.taxpayer),
                address_of_payload(dict(message.payload or {})),
                pdf,
                KIND_MESSAGE,
            )
        )
    return items


def mark_batched(
    session: Session, messages: Sequence[Message], rows: Sequence[ManifestRow], batch: Any
) -> int:
    """The letters of the batch are `inviato` (provider id: the raccomandata placeholder), each with its
    `message.sent` event; the number of letters."""
    from app.crm.messages.services import mark_sent

    by_id = {m.id: m for m in messages}
    sent = 0
    for row in rows:
        if not row.is_message:
            continue
        message = by_id[row.act_id]
        message.print_batch_id = batch.id
        mark_sent(session, message, row.barcode, batch=batch.code, sequence=row.sequence)
        sent += 1
    return sent


# --- outcomes -----------------------------------------------------------------------------------------------


def resolve(
    session: Session, ente: Ente | None, line: OutcomeLine, errors: list[LineError]
) -> Message | None:
    """The postal message a line names (`id_comunicazione`, or a `protocollo` that is a letter's); an error
    with line and field when it is unknown (for that ente)."""
    from app.archive.models import Document

    stmt = sa.select(Message).where(Message.channel == "posta")
    if ente is not None:
        stmt = stmt.where(Message.ente_id == ente.id)
    whose = "" if ente is None else f" per l'ente {ente.code}"
    if line.message_id is not None:
        message = session.scalars(stmt.where(Message.id == line.message_id)).first()
        if message is None:
            errors.append(
                LineError(
                    line.line, "id_comunicazione", f"comunicazione {line.message_id} sconosciuta{whose}"
                )
            )
            return None
        protocol = message.document.protocol if message.document else None
        if line.protocol and protocol != line.protocol:
            errors.append(
                LineError(
                    line.line,
                    "protocollo",
                    f"{line.protocol} non è il protocollo della comunicazione {message.id}",
                )
            )
            return None
        return message
    return session.scalars(
        stmt.join(Document, Document.id == Message.document_id).where(Document.protocol == line.protocol)
    ).first()


def outcome_problem(message: Message, outcome: str, event_date: dt.date) -> tuple[str, str] | None:
    """(field, why) this outcome cannot be applied to this postal message, or None."""
    sent = message.sent_dt.date() if message.sent_dt else None
    if message.status == "in_coda" or sent is None:
        return "id_comunicazione", f"la comunicazione {message.id} non risulta ancora inviata"
    if message.status in ("consegnato", "fallito"):
        return "esito", f"esito duplicato: la comunicazione {message.id} è già {message.status_label.lower()}"
    if message.status != "inviato":
        return "id_comunicazione", f"la comunicazione {message.id} è {message.status_label.lower()}"
    if event_date < sent:
        return "data_esito", f"data {_fmt(event_date)} anteriore all'invio della comunicazione ({_fmt(sent)})"
    if event_date > dt.date.today() + dt.timedelta(days=1):
        return "data_esito", f"data {_fmt(event_date)} nel futuro"
    return None


def apply_outcome(session: Session, message: Message, line: OutcomeLine, reference: str) -> bool:
    """The outcome on the message: True when delivered, False when failed (with the reason)."""
    from app.crm.messages.services import mark_delivered, mark_failed

    label = POSTAL_OUTCOMES[line.outcome]
    outcome = {
        "esito": line.outcome,
        "data_esito": line.event_date.isoformat(),
        "riferimento": reference,
        "codice_raccomandata": line.barcode,
    }
    message.payload = {**dict(message.payload or {}), "esito": outcome}
    if line.outcome == DELIVERED:
        mark_delivered(
            session, message, outcome=line.outcome, date=line.event_date.isoformat(), reference=reference
        )
        return True
    mark_failed(
        session,
        message,
        f"{label} ({_fmt(line.event_date)})",
        outcome=line.outcome,
        date=line.event_date.isoformat(),
        reference=reference,
    )
    return False
