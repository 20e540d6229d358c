"""RQ jobs of the help desk. Each takes ids, re-fetches, is idempotent and commits its own work.

- `send_mail(mail_id)` (default queue, RQ `Retry`): one recorded e-mail through app/core/mailer.py; sent once
  (a sent row is skipped); after the last try it is marked failed with the reason, never lost;
- `check_sla()` (periodic queue, every 5 minutes): warnings before a breach and breaches (services.check_sla);
- `poll_helpdesk_mailbox()` (periodic queue, every 5 minutes): the desk's IMAP mailbox (intake.py).
The registry of periodic jobs (PERIODIC_JOBS below, `esattoria batch elenco`) runs the last two.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from rq import Retry, get_current_job

from app.core.db import utcnow
from app.extensions import db

PERIODIC_QUEUE = "periodic"
RETRY = Retry(max=3, interval=[60, 300, 900])
PERIODIC_JOBS = (
    (
        "app.helpdesk.tasks.check_sla",
        "ogni 5 minuti, preavvisi e violazioni degli SLA dell'help desk",
        "*/5 * * * *",
        5,
    ),
    (
        "app.helpdesk.tasks.poll_helpdesk_mailbox",
        "ogni 5 minuti, la casella IMAP dell'help desk",
        "*/5 * * * *",
        5,
    ),
)


def _last_try() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


def send_mail(mail_id: int) -> str | None:
    from app.core.mailer import MailerError, SmtpSettings, new_message, send
    from app.helpdesk.models import Ticket, TicketEvent, TicketMail

    session = db.session
    mail = session.get(TicketMail, mail_id, with_for_update=True)
    if mail is None or mail.status == "sent":
        session.rollback()
        return None
    mail.attempts = (mail.attempts or 0) + 1
    try:
        settings = SmtpSettings.from_config(current_app.config)
        message = new_message(settings, to=mail.recipient, subject=mail.subject, body=mail.body)
        sender = current_app.config.get("HELPDESK_MAIL_FROM")
        if sender:
            message.replace_header("From", sender)
        mail.message_id = send(settings, message)
    except MailerError as exc:
        mail.error = str(exc)[:2000]
        if _last_try():
            mail.status = "failed"
            session.commit()
            return None
        session.commit()
        raise
    mail.status, mail.sent_dt, mail.error = "sent", utcnow(), None
    ticket = session.get(Ticket, mail.ticket_id)
    if ticket is not None:
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="mail_out",
                occurred_dt=utcnow(),
                actor_label="sistema",
                note=f"{mail.subject} → {mail.recipient}"[:1000],
                detail={"mail": mail.id},
            )
        )
    session.commit()
    return mail.message_id


def check_sla() -> dict[str, int]:
    from app.helpdesk import services

    counts = services.check_sla(db.session, utcnow(), alert_to=current_app.config.get("HELPDESK_ALERT_TO"))
    db.session.commit()
    return counts


def poll_helpdesk_mailbox() -> list[dict[str, Any]]:
    from app.helpdesk import intake

    config = current_app.config
    if not config.get("HELPDESK_IMAP_HOST"):
        return []
    outcomes = poll(db.session, intake.settings_from(config), file_store=config["FILE_STORE"])
    return [o.as_json() for o in outcomes]


def poll(session: Any, settings: Any, *, file_store: str) -> list[Any]:
    """One poll of the help desk's folder (app/core/mailbox/tasks.py `poll_folder`); commits after each
    message."""
    from app.archive import mailbox as mb
    from app.core.errors import DomainError
    from app.core.mailbox.client import fetch_raw
    from app.core.mailbox.tasks import poll_folder
    from app.enti.queries import get_ente_by_code
    from app.helpdesk import intake

    ente = get_ente_by_code(session, settings.ente_code)
    if ente is None:
        raise DomainError(f"HELPDESK_IMAP_ENTE: ente sconosciuto {settings.ente_code}.")

    def handle(session: Any, conn: Any, state: Any, uid: int) -> tuple[intake.Outcome, str]:
        raw = fetch_raw(conn, uid)
        if raw is None:
            return intake.Outcome(uid, "", "gone"), intake.FLAG_DONE
        try:
            with session.begin_nested():
                outcome = intake.handle_message(
                    session, ente.id, raw, settings, file_store=file_store, uid=uid
                )
        except (mb.MailRefused, DomainError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            outcome = intake.Outcome(uid, mb.message_key(raw), "refused", reason=reason)
        return outcome, intake.FLAG_DONE

    def locked_state(session: Any, account: str) -> Any:
        return mb.mailbox_state(session, account, lock=True)

    account = ("assistenza:" + settings.account)[:300]
    return poll_folder(session, settings, account, state_of=locked_state, handle=handle)
