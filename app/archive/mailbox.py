"""The archive's IMAP mailbox (e-mail and PEC, R-C3 intake): reading a message and filing it. Never commits.

A message becomes one registration, ONE protocol number: the message itself (its .eml original, its body as
the document's text) is filed first and takes a number; every attachment is filed after it, through the one
intake service (`services.file_documents(main=...)`), as an attachment of that document under the same number
(`attachment_no` 1, 2, ...; no number of its own, so the counter stays gap-free). An attachment whose content
the ente already holds is not stored twice: the message's record (`MailMessageDocument`) names the existing
document. A PEC envelope
(`X-Trasporto: posta-certificata`, or a `postacert.eml` with its `daticert.xml`) is filed with channel `pec`,
the original message inside it and that message's attachments with it; a PEC receipt (accettazione, avvenuta
consegna, mancata consegna...: the `X-Ricevuta` header or the `tipo` of daticert.xml) is filed as type
`ricevuta_pec`, never as a taxpayer's letter. A message with more attachments than the limit is refused
whole: nothing is stored, the refusal and its reason are kept (`MailMessage`, an event).

The IMAP client (settings ARCHIVE_IMAP_*, connection, folder commands, the polling loop) is
app/core/mailbox/; the archive's handling of each message, with its commits, is
app/archive/entrypoints/tasks.py; this module parses (stdlib `email`, policy=default; daticert.xml with
defusedxml) and files.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from defusedxml import ElementTree as SafeET
from sqlalchemy.orm import Session

from app.archive.mailbox_models import RECEIPT_KINDS, MailboxState, MailMessage, MailMessageDocument
from app.archive.models import Document
from app.archive.services import FilingResult, IncomingFile, file_documents, neutral_path
from app.core.audit import Actor, record_event
from app.enti.models import Ente

MESSAGE_TYPE = "corrispondenza"
RECEIPT_TYPE = "ricevuta_pec"
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature"}
FLAG_FILED = r"(\Seen $Protocollato)"
FLAG_REFUSED = r"(\Seen \Flagged $Rifiutato)"
MAX_NAME = 255
# Called after a message is filed, in the same transaction, with (session, ente, mail, MailMessage row,
# actor): a slice that cares about some messages registers here at import (app/atti/delivery: PEC receipts).
FILED_HOOKS: list[Callable[[Session, Ente, ParsedMail, MailMessage, Actor], Any]] = []


class MailRefused(Exception):
    """A message the archive does not take; `reason` is Italian and names what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- parsing --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    data: bytes
    role: str  # messaggio | allegato | postacert | daticert


@dataclass(slots=True)
class ParsedMail:
    message_id: str
    sender: str | None
    subject: str | None
    kind: str  # email | pec | ricevuta_pec
    receipt_kind: str | None
    raw: bytes
    parts: list[Part] = field(default_factory=list)  # attachments, in order (the message itself aside)

    @property
    def channel(self) -> str:
        return "email" if self.kind == "email" else "pec"


def parse_message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def message_key(header_or_raw: bytes) -> str:
    """The Message-ID (angle brackets and spaces trimmed), or a digest of the header when there is none."""
    message = parse_message(header_or_raw)
    found = str(message.get("Message-ID") or "").strip().strip("<>").strip()
    if found:
        return found[:500]
    return "sha256:" + hashlib.sha256(header_or_raw.split(b"\r\n\r\n", 1)[0]).hexdigest()


def _header(message: Message, name: str, limit: int) -> str | None:
    value = message.get(name)
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit] or None


def _leaves(message: Message) -> Iterator[Message]:
    """Every part that is not a container, an attached message (message/rfc822) being one part."""
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message
        return
    for part in message.get_payload():  # type: ignore[union-attr]
        yield from _leaves(part)


def _attached_message_bytes(part: Message) -> bytes:
    inner = part.get_payload()
    if isinstance(inner, list):
        inner = inner[0]
    if isinstance(inner, Message):
        return inner.as_bytes(policy=email.policy.default)
    return part.get_payload(decode=True) or b""  # type: ignore[return-value]


def _attachments(message: EmailMessage) -> list[tuple[str, bytes, Message]]:
    """(name, content, part) of each attachment: every leaf but the body shown to the reader and an S/MIME
    signature (the signed message is kept whole as the original .eml)."""
    body = message.get_body(preferencelist=("plain", "html"))
    found: list[tuple[str, bytes, Message]] = []
    for n, part in enumerate(_leaves(message), start=1):
        if part is body or part is message or part.get_content_type() in SIGNATURE_TYPES:
            continue
        name = part.get_filename()
        if part.get_content_type() == "message/rfc822":
            found.append((name or f"messaggio-{n}.eml", _attached_message_bytes(part), part))
            continue
        if (
            not name
            and part.get_content_disposition() != "attachment"
            and part.get_content_maintype() in ("text", "multipart")
        ):
            continue  # an alternative rendering of the body
        found.append((name or f"allegato-{n}", part.get_payload(decode=True) or b"", part))
    return found


def daticert_kind(data: bytes) -> tuple[str, str | None]:
    """daticert.xml (DM 2 novembre 2005, allegato): the `tipo` of `<postacert>` and the original sender
    (`intestazione/mittente`)."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # noqa: BLE001 - defusedxml raises several kinds; all mean unreadable
        raise MailRefused(f"Il file daticert.xml della PEC non è leggibile: {exc}") from None
    tipo = (root.get("tipo") or "").strip().lower()
    sender = root.findtext("intestazione/mittente")
    return tipo, (sender.strip() if sender else None)


def read_mail(raw: bytes, max_attachments: int) -> ParsedMail:
    """What the message is and what it carries; MailRefused past the attachment limit (counted before
    anything is stored, the PEC original's own attachments included)."""
    message = parse_message(raw)
    attachments = _attachments(message)
    kind, receipt = "email", None
    sender = _header(message, "From", 250)
    ricevuta = _header(message, "X-Ricevuta", 60)
    trasporto = (_header(message, "X-Trasporto", 60) or "").lower()
    names = {name.lower(): data for name, data, _ in attachments}
    if trasporto == "posta-certificata" or ("postacert.eml" in names and "daticert.xml" in names):
        kind = "pec"
    if "daticert.xml" in names:
        tipo, original_sender = daticert_kind(names["daticert.xml"])
        if tipo and tipo != "posta-certificata":
            kind, receipt = "ricevuta_pec", tipo
        elif tipo == "posta-certificata":
            kind = "pec"
        if original_sender and kind == "pec":
            sender = original_sender[:250]
    if ricevuta:
        kind, receipt = "ricevuta_pec", ricevuta.lower()
    if receipt is not None and receipt not in RECEIPT_KINDS:
        receipt = receipt[:30]
    parts: list[Part] = []
    for name, data, _part in attachments:
        lowered = name.lower()
        if kind != "email" and lowered == "daticert.xml":
            parts.append(Part(name, data, "daticert"))
        elif kind != "email" and lowered == "postacert.eml":
            parts.append(Part(name, data, "postacert"))
            if kind == "pec":  # the original message's own attachments are the taxpayer's documents
                inner = parse_message(data)
                parts.extend(Part(n, d, "allegato") for n, d, _ in _attachments(inner))
        else:
            parts.append(Part(name, data, "allegato"))
    counted = [p for p in parts if p.role == "allegato"]
    if len(counted) > max_attachments:
        raise MailRefused(
            f"Il messaggio ha {len(counted)} allegati: il limite è {max_attachments}. "
            "Non è stato protocollato nulla."
        )
    return ParsedMail(
        message_id=message_key(raw),
        sender=sender,
        subject=_header(message, "Subject", 500),
        kind=kind,
        receipt_kind=receipt,
        raw=raw,
        parts=parts,
    )


# --- filing ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class MailOutcome:
    """One message's outcome, as `esattoria archivio posta` prints it."""

    uid: int
    message_id: str
    status: str  # filed | refused | duplicate
    kind: str | None = None
    receipt_kind: str | None = None
    protocol: str | None = None
    documents: list[int] = field(default_factory=list)
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "message_id": self.message_id,
            "status": self.status,
            "kind": self.kind,
            "receipt_kind": self.receipt_kind,
            "protocol": self.protocol,
            "documents": self.documents,
            "reason": self.reason,
        }


def mailbox_state(session: Session, account: str, *, lock: bool = False) -> MailboxState:
    """The folder's row (created at the first poll); `lock` holds it until the transaction ends, so two polls
    never file the same UID."""
    stmt = sa.select(MailboxState).where(MailboxState.account == account)
    state = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if state is None:
        state = MailboxState(account=account, uidvalidity=0, last_uid=0)
        session.add(state)
        session.flush()
    return state


def known_message(session: Session, ente_id: int, message_id: str) -> MailMessage | None:
    return session.scalars(
        sa.select(MailMessage).where(MailMessage.ente_id == ente_id, MailMessage.message_id == message_id)
    ).first()


def refuse_message(
    session: Session,
    state: MailboxState,
    ente: Ente,
    uid: int,
    message_id: str,
    reason: str,
    actor: Actor,
    *,
    head: bytes = b"",
    size: int = 0,
) -> MailOutcome:
    """Nothing of the message is stored: its refusal is (the row keeps it from being fetched again) and
    the ente's log says why."""
    message = parse_message(head) if head else None
    row = MailMessage(
        ente_id=ente.id,
        mailbox_id=state.id,
        uid=uid,
        message_id=message_id,
        kind="email",
        status="refused",
        reason=reason,
        sender=_header(message, "From", 250) if message else None,
        subject=_header(message, "Subject", 500) if message else None,
        size_bytes=size,
        attachments=0,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor,
        "mail.refused",
        f"Messaggio di posta rifiutato ({row.sender or 'mittente sconosciuto'}): {reason}"[:500],
        ente_id=ente.id,
        payload={"mail_message": row.id, "uid": uid, "message_id": message_id},
    )
    return MailOutcome(uid=uid, message_id=message_id, status="refused", reason=reason)


def file_mail(
    session: Session,
    state: MailboxState,
    ente: Ente,
    uid: int,
    mail: ParsedMail,
    actor: Actor,
    *,
    file_store: str,
    received_date: dt.date | None = None,
) -> MailOutcome:
    """The message and its attachments filed (one registration: the message's protocol), its record kept."""
    doc_type = RECEIPT_TYPE if mail.kind == "ricevuta_pec" else MESSAGE_TYPE
    with tempfile.TemporaryDirectory(prefix="esattoria-posta-") as tmp:
        folder = Path(tmp)
        eml = folder / "messaggio.eml"
        eml.write_bytes(mail.raw)
        (first,) = file_documents(
            session,
            [IncomingFile(_message_name(mail), eml)],
            ente,
            mail.channel,
            doc_type,
            actor,
            file_store=file_store,
            mode="sync",
            received_date=received_date,
            sender=mail.sender,
            subject=mail.subject,
        )
        if first.document is None:
            raise MailRefused(f"Il messaggio non può essere protocollato: {first.error or first.status}.")
        protocol = first.protocol
        main = session.get(Document, first.document)
        assert main is not None
        main = main.main or main  # the same .eml filed before as an attachment: its registration's main
        results: list[tuple[Part, FilingResult]] = []
        for n, part in enumerate(mail.parts, start=1):
            path = neutral_path(folder, f"parte-{n:04d}", part.name)
            path.write_bytes(part.data)
            attached_type = (
                doc_type if part.role in ("daticert", "postacert") or mail.kind == "ricevuta_pec" else None
            )
            (result,) = file_documents(
                session,
                [IncomingFile(part.name[:MAX_NAME], path)],
                ente,
                mail.channel,
                attached_type,
                actor,
                file_store=file_store,
                mode="sync",
                received_date=received_date,
                sender=mail.sender,
                subject=f"Allegato al protocollo {protocol}: {mail.subject or ''}".rstrip(": ")[:500],
                main=main,
            )
            results.append((part, result))
    refused = [f"{part.name}: {result.error}" for part, result in results if result.status == "refused"]
    row = MailMessage(
        ente_id=ente.id,
        mailbox_id=state.id,
        uid=uid,
        message_id=mail.message_id,
        kind=mail.kind,
        receipt_kind=mail.receipt_kind,
        status="filed",
        reason=("Allegati non protocollati: " + "; ".join(refused))[:4000] if refused else None,
        sender=mail.sender,
        subject=mail.subject,
        size_bytes=len(mail.raw),
        attachments=sum(1 for p in mail.parts if p.role == "allegato"),
        document_id=first.document,
        protocol=protocol,
    )
    session.add(row)
    row.parts.append(
        MailMessageDocument(
            position=0, document_id=first.document, role="messaggio", file_name=first.file[:255]
        )
    )
    for n, (part, result) in enumerate(results, start=1):
        if result.document is not None:
            row.parts.append(
                MailMessageDocument(
                    position=n, document_id=result.document, role=part.role, file_name=part.name[:MAX_NAME]
                )
            )
    session.flush()
    what = (
        RECEIPT_KINDS.get(mail.receipt_kind or "", "Ricevuta PEC")
        if mail.kind == "ricevuta_pec"
        else ("PEC" if mail.kind == "pec" else "E-mail")
    )
    record_event(
        session,
        actor,
        "mail.filed",
        f"{what}: protocollo {protocol} ({len(row.parts)} documenti): {mail.subject or ''}"[:500],
        ente_id=ente.id,
        payload={
            "mail_message": row.id,
            "protocol": protocol,
            "documents": [p.document_id for p in row.parts],
        },
    )
    for hook in FILED_HOOKS:
        hook(session, ente, mail, row, actor)
    return MailOutcome(
        uid=uid,
        message_id=mail.message_id,
        status="filed",
        kind=mail.kind,
        receipt_kind=mail.receipt_kind,
        protocol=protocol,
        documents=[p.document_id for p in row.parts],
        reason=row.reason,
    )


def _message_name(mail: ParsedMail) -> str:
    base = re.sub(r"[^\w.-]+", "_", mail.subject or "messaggio", flags=re.UNICODE).strip("_.")[:80]
    return f"{base or 'messaggio'}.eml"
