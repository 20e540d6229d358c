"""The mailbox's polling (RQ job on the periodic queue, and `esattoria archivio posta`): each new message (UID
above the last one handled) is filed or refused in a transaction of its own, which also moves the folder's
last UID on; the message is flagged on the server after the commit. Idempotent: a Message-ID already seen for
the ente is skipped, and a new UIDVALIDITY starts the folder again from UID 1 without filing anything twice.
"""

from __future__ import annotations

import imaplib
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.archive import mailbox as mb
from app.core.audit import Actor
from app.core.errors import DomainError
from app.core.mailbox.client import MailboxSettings, fetch_head, fetch_raw
from app.core.mailbox.tasks import poll_folder
from app.extensions import db

SYSTEM = Actor.system("casella di posta dell'archivio")
MAILBOX = "ARCHIVE"  # its settings: ARCHIVE_IMAP_*


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " MB"


def mailbox_settings(config: Mapping[str, Any]) -> MailboxSettings:
    """The archive's mailbox: ARCHIVE_IMAP_* (app/core/mailbox/client.py reads them)."""
    return MailboxSettings.from_config(config, MAILBOX, "dell'archivio")


def poll(session: Session, settings: MailboxSettings, *, file_store: str) -> list[mb.MailOutcome]:
    """One poll of the folder (app/core/mailbox/tasks.py `poll_folder`); commits after each message."""
    from app.enti.queries import get_ente_by_code

    ente = get_ente_by_code(session, settings.ente_code)
    if ente is None:
        raise DomainError(f"ARCHIVE_IMAP_ENTE: ente sconosciuto {settings.ente_code}.")

    def handle(
        session: Session, conn: imaplib.IMAP4, state: Any, uid: int
    ) -> tuple[mb.MailOutcome, str | None]:
        outcome = _one(session, conn, state, ente, uid, settings, file_store=file_store)
        flags = {"filed": mb.FLAG_FILED, "refused": mb.FLAG_REFUSED}.get(outcome.status)
        return outcome, flags

    return poll_folder(session, settings, settings.account, state_of=_locked_state, handle=handle)


def _locked_state(session: Session, account: str) -> Any:
    return mb.mailbox_state(session, account, lock=True)


def _one(
    session: Session,
    conn: imaplib.IMAP4,
    state: Any,
    ente: Any,
    uid: int,
    settings: MailboxSettings,
    *,
    file_store: str,
) -> mb.MailOutcome:
    head = fetch_head(conn, uid)
    if head is None:
        return mb.MailOutcome(uid=uid, message_id="", status="gone")
    size, header = head
    message_id = mb.message_key(header)
    known = mb.known_message(session, ente.id, message_id)
    if known is not None:
        return mb.MailOutcome(
            uid=uid,
            message_id=message_id,
            status="duplicate",
            kind=known.kind,
            receipt_kind=known.receipt_kind,
            protocol=known.protocol,
            documents=[p.document_id for p in known.parts],
        )
    if size > settings.max_bytes:
        reason = (
            f"Il messaggio pesa {_megabytes(size)}: il limite è {_megabytes(settings.max_bytes)}. "
            "Non è stato protocollato nulla."
        )
        return mb.refuse_message(
            session, state, ente, uid, message_id, reason, SYSTEM, head=header, size=size
        )
    raw = fetch_raw(conn, uid)
    if raw is None:
        return mb.MailOutcome(uid=uid, message_id=message_id, status="gone")
    try:
        mail = mb.read_mail(raw, settings.max_attachments)
        with session.begin_nested():
            return mb.file_mail(session, state, ente, uid, mail, SYSTEM, file_store=file_store)
    except mb.MailRefused as exc:
        return mb.refuse_message(
            session, state, ente, uid, message_id, exc.reason, SYSTEM, head=header, size=len(raw)
        )


def poll_mailbox() -> list[dict[str, Any]]:
    """The periodic job (app/archive/tasks.py PERIODIC_JOBS): one poll when the mailbox is configured."""
    config = current_app.config
    if not config.get("ARCHIVE_IMAP_HOST"):
        return []
    settings = mailbox_settings(config)
    outcomes = poll(db.session, settings, file_store=config["FILE_STORE"])
    _drain()
    return [o.as_json() for o in outcomes]


def _drain() -> None:
    """The search index hears of what was filed (the command line waits for it, like `archivio import`)."""
    from app.archive.indexing import backend, drain_outbox

    drain_outbox(db.session, backend())
    db.session.commit()
