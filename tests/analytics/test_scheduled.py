"""Scheduled ad-hoc queries (issue 15 point 4): with the run day fixed, a due query is exported and lands in
the local SMTP server's mailbox (XLSX attached) and in the archive (PDF, with a protocol); the next run moves
one period on; a failure is recorded and retried the next day; the job is one of the slice's PERIODIC_JOBS."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.analytics.models import SavedQuery
from app.analytics.scheduled import next_run_after, set_schedule
from tests.analytics.conftest import principal
from tests.conftest import user_by_name
from tests.smtp import smtp_sink

DAY = "2026-12-04"
SPEC = {"dataset": "posizioni", "group": ["entrata"], "measures": ["count", "sum:residuo"]}


def _saved(session: Any, r01: int, **schedule: Any) -> SavedQuery:
    owner = user_by_name("regione")
    saved = SavedQuery(name="Residuo per entrata", owner_id=owner.id, dataset="posizioni", spec=SPEC)
    session.add(saved)
    session.flush()
    who = principal({r01}, user_id=owner.id)
    set_schedule(saved, who, start=dt.date.fromisoformat(DAY), **schedule)
    session.commit()  # as the schedule form does (a failed run rolls its own work back, not this)
    return saved


def _direct_residuo(session: Any, r01: int) -> int:
    return int(
        session.execute(
            sa.text(
                "SELECT sum(m.amount_cents) FROM movements m JOIN positions p ON p.id = m.position_id"
                " WHERE p.ente_id = :e"
            ),
            {"e": r01},
        ).scalar()
    )


def test_a_due_query_is_mailed_with_its_xlsx(app, session, r01) -> None:
    from app.analytics.tasks import run_scheduled_queries

    saved = _saved(
        session,
        r01,
        frequency="settimanale",
        delivery="email",
        export_format="xlsx",
        recipient="ufficio@regione.invalid",
        archive_ente_id=None,
    )
    not_yet = _saved(
        session,
        r01,
        frequency="giornaliera",
        delivery="email",
        export_format="csv",
        recipient="altro@regione.invalid",
        archive_ente_id=None,
    )
    not_yet.next_run = dt.date(2026, 12, 5)
    session.flush()
    with smtp_sink() as sink:
        app.config.update(sink.settings)
        outcomes = run_scheduled_queries(DAY)
        [message] = sink.wait_for(1)
    assert [o["query"] for o in outcomes] == [saved.id] and outcomes[0]["ok"]
    assert message["To"] == "ufficio@regione.invalid" and "Residuo per entrata" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename().endswith(".xlsx")
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(values) if row and row[0] == "Entrata")
    data = [row for row in values[header + 1 :] if row and row[0] not in (None, "Totale")]
    total = sum(Decimal(str(row[2])) for row in data)
    assert int(total * 100) == _direct_residuo(session, r01)  # to the cent, R01 only (the owner's scope)
    session.refresh(saved)
    assert saved.next_run == dt.date(2026, 12, 11) and saved.last_outcome.startswith("Eseguita")


def test_a_due_query_lands_in_the_archive(app, session, r01) -> None:
    from app.analytics.tasks import run_scheduled_queries
    from app.archive.models import Document

    saved = _saved(
        session,
        r01,
        frequency="mensile",
        delivery="archivio",
        export_format="pdf",
        recipient=None,
        archive_ente_id=r01,
    )
    [outcome] = run_scheduled_queries(DAY)
    assert outcome["ok"], outcome
    document = session.scalars(sa.select(Document).where(Document.subject == "Residuo per entrata")).one()
    assert (
        document.ente_id == r01 and document.channel == "uscita" and document.mime_type == "application/pdf"
    )
    assert "Residuo" in (document.text or "")  # read by the archive (the PDF's text layer)
    session.refresh(saved)
    assert saved.next_run == dt.date(2027, 1, 4) and document.protocol in saved.last_outcome


def test_a_failed_run_is_recorded_and_tried_again(app, session, r01) -> None:
    from app.analytics.tasks import run_scheduled_queries

    saved = _saved(
        session,
        r01,
        frequency="giornaliera",
        delivery="email",
        export_format="csv",
        recipient="ufficio@regione.invalid",
        archive_ente_id=None,
    )
    app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9, "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 2})
    try:
        [outcome] = run_scheduled_queries(DAY)
    finally:
        app.config.update({"SMTP_HOST": None})
    assert not outcome["ok"]
    session.refresh(saved)
    assert saved.next_run == dt.date(2026, 12, 4) and saved.last_outcome.startswith("Non riuscita")


@pytest.mark.parametrize(
    ("day", "frequency", "expected"),
    [
        ("2026-12-04", "giornaliera", "2026-12-05"),
        ("2026-12-31", "settimanale", "2027-01-07"),
        ("2026-01-31", "mensile", "2026-02-28"),
        ("2026-12-15", "mensile", "2027-01-15"),
    ],
)
def test_next_run(day: str, frequency: str, expected: str) -> None:
    assert next_run_after(dt.date.fromisoformat(day), frequency) == dt.date.fromisoformat(expected)


def test_schedule_rules(session, r01, r02) -> None:
    from app.core.errors import DomainError

    with pytest.raises(DomainError, match="PDF o CSV"):
        _saved(
            session,
            r01,
            frequency="giornaliera",
            delivery="archivio",
            export_format="xlsx",
            recipient=None,
            archive_ente_id=r01,
        )
    with pytest.raises(DomainError, match="ente"):
        _saved(
            session,
            r01,
            frequency="giornaliera",
            delivery="archivio",
            export_format="pdf",
            recipient=None,
            archive_ente_id=r02,
        )  # not one of the owner's enti


def test_the_jobs_are_periodic() -> None:
    from app.analytics.tasks import PERIODIC_JOBS

    names = [name for name, *_ in PERIODIC_JOBS]
    assert names == ["app.analytics.tasks.refresh_summary", "app.analytics.tasks.run_scheduled_queries"]
