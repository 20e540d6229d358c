"""The e-mail alert of a periodic run that failed or overran its expected maximum duration (BATCH_ALERT_TO,
comma-separated addresses; through app/core/mailer.py)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from app.reports.formatting import format_datetime_it

log = logging.getLogger(__name__)


def recipients() -> list[str]:
    return [a.strip() for a in str(current_app.config.get("BATCH_ALERT_TO") or "").split(",") if a.strip()]


def _duration_it(ms: int | None) -> str:
    seconds = (ms or 0) // 1000
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {seconds} s" if hours else f"{minutes} min {seconds} s"


def alert_text(run: Any, job: Any) -> tuple[str, str]:
    label = job.description if job else run.job_name
    if run.status == "failed":
        subject = f"[Esattoria] Lavoro periodico non riuscito: {label}"
    else:
        subject = f"[Esattoria] Lavoro periodico oltre la durata attesa: {label}"
    lines = [
        f"Lavoro: {run.job_name}",
        f"Descrizione: {label}",
        f"Avvio: {format_datetime_it(run.started_dt)}",
        f"Fine: {format_datetime_it(run.finished_dt)}",
        f"Durata: {_duration_it(run.duration_ms)}",
    ]
    if job is not None:
        lines.append(f"Durata massima attesa: {_duration_it(int(job.max_duration.total_seconds() * 1000))}")
    lines.append(f"Esito: {run.status_label}" + (" (oltre la durata attesa)" if run.overran else ""))
    if run.error:
        lines += ["", "Errore:", run.error]
    return subject, "\n".join(lines) + "\n"


def send_alert(run: Any, job: Any) -> bool:
    """Send the alert; False (logged) when no recipient or SMTP is configured or the server refuses it."""
    from app.core.mailer import MailerError, SmtpSettings, new_message, send

    to = recipients()
    if not to:
        log.warning("periodic run %s: %s, no BATCH_ALERT_TO", run.id, run.status)
        return False
    subject, body = alert_text(run, job)
    try:
        settings = SmtpSettings.from_config(current_app.config)
        send(settings, new_message(settings, to=", ".join(to), subject=subject, body=body))
    except MailerError as exc:
        log.warning("periodic run %s: alert not sent: %s", run.id, exc)
        return False
    return True
