"""RQ jobs of the messages. Each takes ids, re-fetches, returns quietly when there is nothing to do, is
idempotent and commits its own work (style.md B.5).

- `send_message(message_id)` ("default" queue, RQ `Retry(max=n, interval=[...])`): one attempt. A transient
  error (SMTP down, provider 5xx) is raised so that RQ retries after the next interval; on the last attempt
  the message is marked `fallito` with the reason instead (never lost). A permanent error marks it `fallito`
  at once, a recipient's refusal (App IO) `rifiutato`. A postal message is never sent here (no job is queued
  for it; a stray one does nothing): the print batch sends it (app/atti/delivery/letters.py).
- `check_delivery(message_id, round_)` ("default", scheduled after an App IO send): IO's getMessage status;
  PROCESSED is `consegnato`, FAILED/REJECTED `fallito`, otherwise another look later (DELIVERY_CHECKS).
- `send_reminders()` (periodic queue): the rules of every ente for today (`services.run_rules`); the
  registry of periodic jobs runs it every morning at 07:00 (Europe/Rome); `esattoria messaggi
  invia-promemoria` does the same by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.core.audit import Actor
from app.extensions import db

log = logging.getLogger(__name__)
PERIODIC_QUEUE = "periodic"
# Periodic jobs of this module: (callable, description, cron in Europe/Rome, expected max minutes), read by
# the registry of app/core/periodic.py.
PERIODIC_JOBS = (
    ("app.crm.messages.tasks.send_reminders", "ogni mattina alle 07:00, i promemoria delle regole di invio",
     "0 7 * * *", 60),
)
RULES_ACTOR = Actor.system("regole di invio")
DELIVERY_CHECKS = (60, 600, 3600, 6 * 3600)  # App IO: seconds before each look at the message's status


def _outgoing(message: Any) -> Any:
    from app.crm.messages.channels import AttachmentFile, OutgoingMessage
    from app.jobs.files import path_of

    files = tuple(
        AttachmentFile(a.filename, a.mime_type,
                       path_of(current_app.config["FILE_STORE"], a.file_path).read_bytes())
        for a in message.attachments
    )
    return OutgoingMessage(
        message_id=message.id, dedup_key=message.dedup_key, recipient=message.recipient or "",
        subject=message.subject, body=message.body, payload=dict(message.payload or {}), attachments=files,
    )


def send_message(message_id: int) -> str | None:
    """One attempt to send a queued message; the status it ends in (None: nothing to do)."""
    from rq import get_current_job

    from app.crm.messages import services
    from app.crm.messages.channels import PermanentError, RecipientRefused, TransientError, channel_for
    from app.crm.messages.models import Message
    from app.enti.models import Ente

    session = db.session
    message = session.get(Message, message_id)
    if message is None or message.status != "in_coda" or message.channel == "posta":  # posta: print batch
        session.rollback()
        return None
    claimed = session.execute(  # compare-and-set: one attempt at a time, counted before it is made
        sa.update(Message)
        .where(Message.id == message_id, Message.status == "in_coda", Message.attempts == message.attempts)
        .values(attempts=Message.attempts + 1, last_attempt_dt=sa.func.now())
    ).rowcount
    session.commit()
    if claimed != 1:
        return None
    message = session.get(Message, message_id)
    assert message is not None
    ente = session.get(Ente, message.ente_id)
    channel = channel_for(message.channel, current_app.config, ente_code=ente.code if ente else None,
                          payee_fiscal_code=ente.codice_fiscale if ente else None)
    try:
        outgoing = _outgoing(message)
        provider_id = channel.send(outgoing)
    except RecipientRefused as exc:
        services.mark_refused(session, message, exc.reason)
    except PermanentError as exc:
        services.mark_failed(session, message, exc.reason)
    except (TransientError, OSError) as exc:
        reason = exc.reason if isinstance(exc, TransientError) else f"File allegato non leggibile: {exc}"
        job = get_current_job()
        if job is None or not job.retries_left:
            services.mark_failed(session, message, f"{reason} (tentativi: {message.attempts})")
            session.commit()
            return message.status
        message.reason = f"Tentativo {message.attempts} non riuscito, riprova prevista: {reason}"[:500]
        session.commit()
        log.warning("messaggio %s: tentativo %s non riuscito: %s", message_id, message.attempts, reason)
        raise
    else:
        services.mark_sent(session, message, provider_id)
    session.commit()
    if message.status == "inviato" and message.channel == "app_io":
        schedule_delivery_check(message.id, 1)
    return message.status


def schedule_delivery_check(message_id: int, round_: int) -> str | None:
    """The next look at an App IO message's status (DELIVERY_CHECKS: seconds before each look)."""
    from app.core.jobs import queue

    if round_ > len(DELIVERY_CHECKS):
        return None
    job_id = f"messaggio-{message_id}-consegna-{round_}"
    queue("default").enqueue_in(dt.timedelta(seconds=DELIVERY_CHECKS[round_ - 1]), check_delivery, message_id,
                                round_, job_id=job_id, job_timeout=300, failure_ttl=7 * 86400)
    return job_id


def check_delivery(message_id: int, round_: int = 1) -> str | None:
    """App IO: `consegnato` once IO has the message in the citizen's inbox, `fallito` if IO gave up; else
    a later look (idempotent: only a message still `inviato` changes)."""
    from app.crm.messages import services
    from app.crm.messages.channels import AppIoChannel, ChannelError, io_delivery
    from app.crm.messages.models import Message
    from app.enti.models import Ente

    session = db.session
    message = session.get(Message, message_id)
    waiting = message is not None and message.status == "inviato" and message.channel == "app_io"
    if message is None or not waiting or not message.provider_id:
        session.rollback()
        return None
    ente = session.get(Ente, message.ente_id)
    channel = AppIoChannel(current_app.config, ente_code=ente.code if ente else None)
    try:
        status, reason = io_delivery(channel, message.recipient or "", message.provider_id)
    except ChannelError as exc:
        log.warning("messaggio %s: stato App IO non letto: %s", message_id, exc.reason)
        status, reason = None, None
    if status == "consegnato":
        services.mark_delivered(session, message)
    elif status == "fallito":
        services.mark_failed(session, message, reason or "App IO: messaggio non recapitato.")
    session.commit()
    if status is None:
        schedule_delivery_check(message_id, round_ + 1)
    return message.status


def send_reminders(on: str | None = None) -> dict[str, Any]:
    """Today's reminders of every rule (idempotent)."""
    from app.crm.messages.services import run_rules, today

    day = dt.date.fromisoformat(on) if on else today()
    run = run_rules(db.session, day, RULES_ACTOR)
    db.session.commit()
    return run.as_json()

