"""Saved ad-hoc queries: saving, sharing, scheduling and one scheduled run (export + delivery). Never commits.

A scheduled run computes the query as its owner would see it today (the owner's role and enti, read again at
each run: a user who lost an ente stops receiving its rows; a disabled owner's queries are skipped), writes
the export through app/reports/exports.py and delivers it:

| delivery | where                                                                                 |
|----------|---------------------------------------------------------------------------------------|
| email    | to ``recipient`` through app/core/mailer.py, the export attached                      |
| archivio | filed in the archive of ``archive_ente_id`` (app/archive/services.py), channel        |
|          | "uscita"; the archive takes PDF and text, so an archived export is a PDF or a CSV     |

``next_run`` then moves one period on (a month: the same day of the next month, or its last day).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.analytics.builder import QuerySpec, plan
from app.analytics.models import DELIVERIES, FREQUENCIES, SavedQuery
from app.core.access import Principal, principal_of
from app.core.db import utcnow
from app.core.errors import DomainError
from app.reports.exports import FORMATS, MIMETYPES, export_filename, write_export

ARCHIVE_FORMATS = ("pdf", "csv")


@dataclass(frozen=True, slots=True)
class RunOutcome:
    query_id: int
    ok: bool
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"query": self.query_id, "ok": self.ok, "message": self.message}


def next_run_after(day: dt.date, frequency: str) -> dt.date:
    if frequency == "giornaliera":
        return day + dt.timedelta(days=1)
    if frequency == "settimanale":
        return day + dt.timedelta(days=7)
    if frequency == "mensile":
        year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
        for last in (day.day, 30, 29, 28):
            try:
                return dt.date(year, month, min(day.day, last))
            except ValueError:
                continue
    raise DomainError(f"Frequenza sconosciuta: {frequency}.")


def visible_queries(session: Session, principal: Principal) -> list[SavedQuery]:
    """The queries the user owns or that are shared with the user's role."""
    stmt = (
        sa.select(SavedQuery)
        .where(sa.or_(SavedQuery.owner_id == principal.user_id, SavedQuery.shared_role == principal.role))
        .order_by(SavedQuery.name, SavedQuery.id)
    )
    return list(session.scalars(stmt))


def get_visible(session: Session, principal: Principal, query_id: int) -> SavedQuery | None:
    saved = session.get(SavedQuery, query_id)
    if saved is None or (saved.owner_id != principal.user_id and saved.shared_role != principal.role):
        return None
    return saved


def save_query(
    session: Session, principal: Principal, spec: QuerySpec, name: str, shared_role: str | None
) -> SavedQuery:
    plan(spec, principal)  # refuses a spec the builder would refuse
    saved = SavedQuery(
        name=name.strip()[:120],
        owner_id=principal.user_id,
        shared_role=shared_role or None,
        dataset=spec.dataset,
        spec=spec.as_json(),
    )
    session.add(saved)
    session.flush()
    return saved


def set_schedule(
    saved: SavedQuery,
    principal: Principal,
    *,
    frequency: str | None,
    delivery: str | None,
    export_format: str | None,
    recipient: str | None,
    archive_ente_id: int | None,
    start: dt.date,
) -> None:
    """Schedule (or, with no frequency, unschedule) a query; only its owner may."""
    if saved.owner_id != principal.user_id:
        raise DomainError("Solo chi ha salvato l'interrogazione può pianificarla.")
    if not frequency:
        saved.frequency = saved.delivery = saved.export_format = saved.recipient = None
        saved.archive_ente_id = saved.next_run = None
        return
    if frequency not in FREQUENCIES or delivery not in DELIVERIES or export_format not in FORMATS:
        raise DomainError("Pianificazione non valida.")
    if delivery == "email" and not (recipient and "@" in recipient):
        raise DomainError("Indicare l'indirizzo e-mail del destinatario.")
    if delivery == "archivio":
        if archive_ente_id is None or archive_ente_id not in principal.ente_ids:
            raise DomainError("Indicare l'ente nel cui archivio depositare l'esportazione.")
        if export_format not in ARCHIVE_FORMATS:
            raise DomainError("L'archivio accetta l'esportazione in PDF o CSV.")
    saved.frequency, saved.delivery, saved.export_format = frequency, delivery, export_format
    saved.recipient = recipient if delivery == "email" else None
    saved.archive_ente_id = archive_ente_id if delivery == "archivio" else None
    saved.next_run = start


def due_queries(session: Session, today: dt.date) -> list[SavedQuery]:
    stmt = sa.select(SavedQuery).where(SavedQuery.frequency.is_not(None), SavedQuery.next_run <= today)
    return list(session.scalars(stmt.order_by(SavedQuery.id)))


def run_saved_query(session: Session, saved: SavedQuery, today: dt.date, config: Any) -> RunOutcome:
    """One scheduled run: export, deliver, move `next_run` on. Raises DomainError / MailerError on failure
    (the task records it and leaves `next_run` as it was, so the next day tries again)."""
    from app.auth.models import User

    owner = session.get(User, saved.owner_id)
    if owner is None or not owner.active:
        raise DomainError("Il proprietario dell'interrogazione è disattivato: esecuzione saltata.")
    principal = principal_of(owner)
    query_plan = plan(QuerySpec.from_json(saved.spec), principal)
    now = utcnow()
    spec = query_plan.export_spec(saved.name)
    fmt = saved.export_format or "xlsx"
    body = b"".join(write_export(query_plan.rows(session), spec, fmt, generated_at=now))
    filename = export_filename(spec, fmt, now)
    if saved.delivery == "email":
        _mail(config, saved, body, fmt, filename, today)
        where = f"inviata a {saved.recipient}"
    else:
        where = _archive(session, saved, owner, body, filename, today, config)
    saved.last_run_dt = now
    saved.next_run = next_run_after(today, saved.frequency or "giornaliera")
    saved.last_outcome = f"Eseguita: {filename} {where}"[:300]
    return RunOutcome(saved.id, True, saved.last_outcome)


def _mail(config: Any, saved: SavedQuery, body: bytes, fmt: str, filename: str, today: dt.date) -> None:
    from app.core.mailer import SmtpSettings, new_message, send

    settings = SmtpSettings.from_config(config)
    message = new_message(
        settings,
        to=saved.recipient or "",
        subject=f"Esattoria: {saved.name} ({today:%d/%m/%Y})",
        body=(
            f"In allegato l'interrogazione pianificata «{saved.name}» "
            f"({FREQUENCIES.get(saved.frequency or '', '')}), estratta il {today:%d/%m/%Y}.\n"
        ),
    )
    maintype, subtype = MIMETYPES[fmt].split("/", 1)
    message.add_attachment(body, maintype=maintype, subtype=subtype, filename=filename)
    send(settings, message)


def _archive(
    session: Session, saved: SavedQuery, owner: Any, body: bytes, filename: str, today: dt.date, config: Any
) -> str:
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente

    ente = session.get(Ente, saved.archive_ente_id) if saved.archive_ente_id else None
    if ente is None:
        raise DomainError("Ente dell'archivio non indicato.")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / filename
        path.write_bytes(body)
        [result] = file_documents(
            session,
            [IncomingFile(filename, path)],
            ente,
            "uscita",
            None,
            Actor(user_id=owner.id, label=f"{owner.display_name} (interrogazione pianificata)"),
            file_store=config["FILE_STORE"],
            received_date=today,
            subject=saved.name[:200],
        )
    if result.status in ("refused",):
        raise DomainError(f"L'archivio ha rifiutato l'esportazione: {result.error}")
    return f"archiviata con protocollo {result.protocol}"
