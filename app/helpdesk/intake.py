"""The help desk's mailbox (issue 16 point 4): a message whose subject names a ticket's reference
(`TT-<year>-<6 digits>`) is a reply of its requester (a public comment; a resolved ticket reopens); any other
message opens a ticket (channel e-mail, urgency `media` until an agent classifies it). Attachments go to the
archive and are linked to the ticket.

The IMAP side is the one mailbox client (app/core/mailbox/: settings HELPDESK_IMAP_*, connection, the
polling loop) with the archive's reading of a message (app/archive/mailbox.py `read_mail`, `mailbox_state`):
only what a message becomes differs. app/helpdesk/tasks.py `poll` runs the loop: each message in a
transaction of its own that also moves the folder's last UID on; idempotent by Message-ID (a message seen is
skipped).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.archive import mailbox as mb
from app.core.audit import Actor
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.mailbox.client import MailboxSettings
from app.helpdesk import services
from app.helpdesk.models import Ticket, TicketComment

FLAG_DONE = r"(\Seen $Assistenza)"
MAILBOX = "HELPDESK"  # its settings: HELPDESK_IMAP_*
DEFAULT_URGENCY = "media"
DEFAULT_CATEGORY = "altro"


def settings_from(config: Mapping[str, Any]) -> MailboxSettings:
    """The help desk's mailbox: HELPDESK_IMAP_* (app/core/mailbox/client.py reads them)."""
    return MailboxSettings.from_config(config, MAILBOX, "dell'help desk")


@dataclass(slots=True)
class Outcome:
    uid: int
    message_id: str
    status: str  # opened | replied | duplicate | refused | gone
    reference: str | None = None
    attachments: list[int] = field(default_factory=list)
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "message_id": self.message_id,
            "status": self.status,
            "reference": self.reference,
            "attachments": self.attachments,
            "reason": self.reason,
        }


def _seen(session: Session, message_id: str) -> str | None:
    found = session.scalar(sa.select(Ticket.reference).where(Ticket.mail_message_id == message_id))
    if found:
        return found
    return session.scalar(
        sa.select(Ticket.reference)
        .join(TicketComment, TicketComment.ticket_id == Ticket.id)
        .where(TicketComment.mail_message_id == message_id)
    )


def _body(raw: bytes) -> str:
    message = mb.parse_message(raw)
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        return str(body.get_content()).strip()
    except (LookupError, ValueError):  # an unknown charset: the bytes as far as they decode
        return (body.get_payload(decode=True) or b"").decode("utf-8", "replace").strip()  # type: ignore[union-attr]


def _requester_kind(session: Session, address: str) -> tuple[str, int | None]:
    from app.auth.models import User

    user = session.scalars(sa.select(User).where(sa.func.lower(User.email) == address.lower())).first()
    if user is None:
        return "contribuente", None
    return (
        "regione"
        if user.role == "regione"
        else "contribuente"
        if user.role == "contribuente"
        else "operatore"
    ), user.id


def handle_message(
    session: Session, ente_id: int, raw: bytes, settings: MailboxSettings, *, file_store: str, uid: int = 0
) -> Outcome:
    """One message: a reply threaded on its ticket, or a new ticket; its attachments filed. Never commits."""
    mail = mb.read_mail(raw, settings.max_attachments)
    known = _seen(session, mail.message_id)
    if known:
        return Outcome(uid, mail.message_id, "duplicate", known)
    name, address = parseaddr(mail.sender or "")
    address = address[:200]
    actor = Actor.system(f"e-mail di {address or 'mittente sconosciuto'}"[:120])
    now = utcnow()
    text = _body(raw) or "(messaggio senza testo)"
    reference = services.reference_in(mail.subject)
    ticket = None
    if reference:
        ticket = session.scalars(
            sa.select(Ticket).where(Ticket.reference == reference, Ticket.ente_id == ente_id)
        ).first()
    if ticket is not None:
        services.add_comment(
            session, ticket, text, actor, now=now, from_requester=True, mail_message_id=mail.message_id
        )
        status = "replied"
    else:
        kind, user_id = _requester_kind(session, address) if address else ("contribuente", None)
        ticket = services.open_ticket(
            session,
            services.NewTicket(
                ente_id=ente_id,
                channel="email",
                urgency=DEFAULT_URGENCY,
                category=DEFAULT_CATEGORY,
                subject=(mail.subject or "(senza oggetto)")[:200],
                description=text[: services.MAX_TEXT],
                requester_kind=kind,
                requester_name=(name or address or "—")[:200],
                requester_email=address or None,
                requester_user_id=user_id,
            ),
            actor,
            now=now,
        )
        ticket.mail_message_id = mail.message_id
        status = "opened"
    attached: list[int] = []
    with tempfile.TemporaryDirectory(prefix="esattoria-assistenza-") as tmp:
        for n, part in enumerate(p for p in mail.parts if p.role == "allegato"):
            path = Path(tmp) / f"parte-{n:04d}"
            path.write_bytes(part.data)
            try:
                with session.begin_nested():
                    attachment = services.attach_file(
                        session,
                        ticket,
                        path,
                        part.name,
                        actor,
                        now=now,
                        file_store=file_store,
                        channel="email",
                    )
                attached.append(attachment.document_id)
            except DomainError:
                continue  # a refused attachment (type, size) does not lose the message
    return Outcome(uid, mail.message_id, status, ticket.reference, attached)
