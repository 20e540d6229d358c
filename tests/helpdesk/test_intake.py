"""The help desk's mailbox against a real Dovecot (tests/archive/conftest_imap.py): a message opens a ticket
with its attachment in the archive, a reply naming the reference is threaded as a public comment (and reopens
a resolved ticket), and polling again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.archive.conftest_imap import PASSWORD, Dovecot, dovecot, mailbox_user  # noqa: F401


@pytest.fixture
def helpdesk_box(app, dovecot: Dovecot, mailbox_user: str, store: Path) -> Iterator[Any]:  # noqa: F811
    settings = {
        "HELPDESK_IMAP_HOST": dovecot.host,
        "HELPDESK_IMAP_PORT": dovecot.port,
        "HELPDESK_IMAP_USER": mailbox_user,
        "HELPDESK_IMAP_PASSWORD": PASSWORD,
        "HELPDESK_IMAP_FOLDER": "INBOX",
        "HELPDESK_IMAP_ENTE": "R01",
        "HELPDESK_IMAP_SSL": "none",
    }
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    conn = dovecot.connect(mailbox_user)
    try:
        yield conn
    finally:
        conn.logout()
        app.config.update(saved)


def _deliver(
    conn: Any,
    subject: str,
    body: str,
    *,
    sender: str = "Anna Bianchi <anna.bianchi@example.invalid>",
    attachment: bytes | None = None,
) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "assistenza@gestore.invalid"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.invalid")
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="plain", filename="dettagli.txt")
    typ, data = conn.append("INBOX", None, None, message.as_bytes(policy=SMTP))
    assert typ == "OK", data


def test_mail_opens_a_ticket_and_a_reply_is_threaded_by_reference(app, session, helpdesk_box) -> None:
    from app.helpdesk import intake, services
    from app.helpdesk.models import Ticket
    from app.helpdesk.tasks import poll_helpdesk_mailbox

    _deliver(
        helpdesk_box,
        "Non riesco a scaricare l'avviso",
        "Buongiorno,\nil link dell'avviso non funziona.",
        attachment=b"Codice avviso 301000000000000017\n",
    )
    (opened,) = poll_helpdesk_mailbox()
    assert opened["status"] == "opened" and len(opened["attachments"]) == 1
    ticket = session.scalars(sa.select(Ticket).where(Ticket.reference == opened["reference"])).one()
    assert ticket.channel == "email" and ticket.urgency == "media" and ticket.status == "nuovo"
    assert (
        ticket.requester_email == "anna.bianchi@example.invalid" and ticket.requester_name == "Anna Bianchi"
    )
    assert "il link dell'avviso non funziona" in ticket.description
    assert ticket.attachments[0].document.protocol.startswith("R01-")
    services.change_status(
        session,
        ticket,
        "risolto",
        intake.Actor.system("test"),
        now=ticket.opened_dt,
        solution="Link corretto.",
    )
    session.commit()

    _deliver(
        helpdesk_box,
        f"R: [{ticket.reference}] Non riesco a scaricare l'avviso",
        "Ancora non funziona, grazie.",
    )
    _deliver(helpdesk_box, "Un'altra domanda", "Quando scade la rata?")
    replied, other = poll_helpdesk_mailbox()
    assert replied["status"] == "replied" and replied["reference"] == ticket.reference
    assert other["status"] == "opened" and other["reference"] != ticket.reference
    session.refresh(ticket)
    (comment,) = ticket.comments
    assert comment.from_requester and not comment.internal and "Ancora non funziona" in comment.body
    assert ticket.status == "riaperto" and ticket.reopen_count == 1
    # polling again: nothing new, nothing twice
    assert poll_helpdesk_mailbox() == []
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.channel == "email")) == 2
    )


def test_the_settings_name_what_is_missing(app) -> None:
    from app.core.errors import DomainError
    from app.helpdesk.intake import settings_from

    with pytest.raises(DomainError, match="HELPDESK_IMAP_HOST"):
        settings_from({"HELPDESK_IMAP_USER": "u"})
