"""Outgoing e-mail and PEC over SMTP: the one place that opens an SMTP connection.

Every slice that sends mail (messages to taxpayers, acts by PEC, help-desk replies, report deliveries,
alerts) builds an `email.message.EmailMessage` and calls `send`. No retries here: callers that must not lose a
message record it first and send from a job that retries (RQ `Retry`), marking it failed after the last try.

Settings (config.py): SMTP_HOST (unset: sending is refused with MailerError), SMTP_PORT, SMTP_SECURITY
(`ssl`, `starttls` or `none` for a local test server), SMTP_USER / SMTP_PASSWORD (optional), SMTP_TIMEOUT,
MAIL_FROM (default sender), PEC_FROM (sender of PEC messages, the Gestore's PEC address).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any


class MailerError(RuntimeError):
    """Sending failed or is not configured; the message (Italian) says why."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    timeout: float
    sender: str
    pec_sender: str

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        host = config.get("SMTP_HOST")
        if not host:
            raise MailerError("Invio e-mail non configurato: manca SMTP_HOST.")
        security = str(config.get("SMTP_SECURITY") or "starttls").lower()
        if security not in {"ssl", "starttls", "none"}:
            raise MailerError(f"SMTP_SECURITY non valido: {security} (ammessi ssl, starttls, none).")
        default_port = {"ssl": 465, "starttls": 587, "none": 25}[security]
        sender = str(config.get("MAIL_FROM") or "esattoria@localhost")
        return cls(
            host=str(host),
            port=int(config.get("SMTP_PORT") or default_port),
            security=security,
            user=config.get("SMTP_USER") or None,
            password=config.get("SMTP_PASSWORD") or None,
            timeout=float(config.get("SMTP_TIMEOUT") or 30),
            sender=sender,
            pec_sender=str(config.get("PEC_FROM") or sender),
        )


def new_message(
    settings: SmtpSettings, *, to: str, subject: str, body: str, pec: bool = False
) -> EmailMessage:
    """A plain-text message from the configured sender (the PEC sender for PEC), with a Message-ID."""
    message = EmailMessage()
    message["From"] = settings.pec_sender if pec else settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or "localhost")
    message.set_content(body)
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> str:
    """Hand the message to the SMTP server; its Message-ID. MailerError (Italian) when refused or down."""
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid()
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailerError(f"Server SMTP non raggiungibile o invio rifiutato: {exc}") from exc
    if refused:
        raise MailerError("Destinatari rifiutati dal server SMTP: " + ", ".join(sorted(refused)))
    return str(message["Message-ID"])
