"""The weekly radar report to the Regione: the export of app/reports (PDF), filed in the ente's archive and
e-mailed through app/core/mailer.py. Never commit here."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.enti.models import Ente
from app.enti.queries import in_force, parameter_rows
from app.escalation.radar import radar, report_rows
from app.reports.exports import Column, ExportSpec, write_export

SPEC = ExportSpec(
    title="Radar della prescrizione",
    filename_stem="radar_prescrizione",
    columns=[
        Column("id_posizione", "Posizione"),
        Column("contribuente", "Contribuente"),
        Column("codice_fiscale", "Codice fiscale"),
        Column("entrata", "Entrata"),
        Column("stato", "Stato"),
        Column("prescrizione", "Prescrizione", "date"),
        Column("giorni", "Giorni", "int"),
        Column("termine", "Termine e fonte"),
        Column("atto_interruttivo", "Atto interruttivo"),
    ],
)
RECIPIENTS_PARAMETER = "escalation_report_recipients"


def recipients(session: Session, ente: Ente, on: dt.date) -> list[str]:
    # parameter_rows without an entrata also returns other enti's rows (entrata_id IS NULL): keep the ente's
    rows = [r for r in parameter_rows(session, ente_id=ente.id) if r["ente_id"] in (None, ente.id)]
    row = in_force(rows, RECIPIENTS_PARAMETER, on)
    value = row["value"] if row else {}
    return [str(e) for e in (value.get("emails") or [])] if isinstance(value, dict) else []


def radar_export(session: Session, ente: Ente, on: dt.date, days: int, fmt: str = "pdf") -> tuple[bytes, int]:
    from app.positions.services import system_principal

    rows = report_rows(
        radar(session, system_principal(session), ente_id=ente.id, on=on, days=days, limit=2000)
    )
    return b"".join(write_export(rows, SPEC, fmt)), len(rows)


def send_radar_reports(
    session: Session, on: dt.date, *, days: int, file_store: str, config: Any
) -> list[dict[str, Any]]:
    """For every ente: the export filed in its archive (channel `uscita`) and mailed to its recipients."""
    from app.archive.services import IncomingFile, file_documents
    from app.core.mailer import MailerError, SmtpSettings, new_message, send

    actor = Actor.system("sistema (radar della prescrizione)")
    done = []
    for ente in session.scalars(sa.select(Ente).order_by(Ente.id)):
        pdf, count = radar_export(session, ente, on, days)
        name = f"radar_prescrizione_{ente.code}_{on:%Y%m%d}.pdf"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(pdf)
            filed = file_documents(
                session,
                [IncomingFile(name, path)],
                ente,
                "uscita",
                None,
                actor,
                file_store=file_store,
                received_date=on,
                sender=ente.name[:250],
                subject=f"Radar della prescrizione al {on:%d/%m/%Y}: {count} posizioni entro {days} giorni",
            )
        sent, error = [], None
        for to in recipients(session, ente, on):
            try:
                settings = SmtpSettings.from_config(config)
                message = new_message(
                    settings,
                    to=to,
                    subject=f"Radar della prescrizione {ente.name} al {on:%d/%m/%Y}",
                    body=f"In allegato le {count} posizioni che si prescrivono entro {days} giorni.",
                )
                message.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
                send(settings, message)
                sent.append(to)
            except MailerError as exc:
                error = str(exc)
        record_event(
            session,
            actor,
            "prescription.reported",
            f"Radar della prescrizione inviato alla Regione: {count} posizioni entro {days} giorni",
            ente_id=ente.id,
            payload={
                "positions": count,
                "days": days,
                "document": filed[0].document if filed else None,
                "sent_to": sent,
                "error": error,
            },
        )
        done.append(
            {
                "ente": ente.code,
                "positions": count,
                "document": filed[0].document if filed else None,
                "sent_to": sent,
                "error": error,
            }
        )
    return done
