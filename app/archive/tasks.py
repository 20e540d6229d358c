"""RQ jobs of the archive. Each takes ids, re-fetches, returns quietly when the row is gone, is idempotent and
commits its own work (style.md B.5).

- `read_document(document_id)` ("ocr" queue): a born-digital PDF's text layer at once; otherwise one
  `ocr_document_page` job per page;
- `ocr_document_page(document_id, number)` ("ocr" queue): one page through Tesseract; the job that reads the
  last page assembles the text, links and indexes (`finish_document`, under the document's row lock);
- `drain_index()` ("index" queue): the outbox pushed to the search backend;
- `verify_index()` and `sweep_intake()` (periodic queue): the consistency check of index and database, and
  the bulk intake folder, run by the registry of periodic jobs (PERIODIC_JOBS below,
  `esattoria batch elenco`).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.core.audit import Actor
from app.extensions import db

log = logging.getLogger(__name__)
OCR_QUEUE = "ocr"
INDEX_QUEUE = "index"
PERIODIC_QUEUE = "periodic"
# Periodic jobs of this module: (callable, description, cron in Europe/Rome, expected max minutes), read by
# the registry of app/core/periodic.py.
PERIODIC_JOBS = (
    (
        "app.archive.tasks.verify_index",
        "ogni notte alle 03:30, confronto e riparazione dell'indice",
        "30 3 * * *",
        60,
    ),
    (
        "app.archive.tasks.sweep_intake",
        "ogni 5 minuti, la cartella di acquisizione massiva",
        "*/5 * * * *",
        5,
    ),
    (
        "app.archive.entrypoints.tasks.poll_mailbox",
        "ogni 5 minuti, la casella IMAP (e-mail e PEC)",
        "*/5 * * * *",
        5,
    ),
)
SYSTEM = Actor.system("archivio")


def _path(document: Any) -> Path:
    from app.jobs.files import path_of

    return path_of(current_app.config["FILE_STORE"], document.file_path)


def read_document(document_id: int) -> str | None:
    """Claim a received document (compare-and-set) and read its text layer, or fan out one job per page."""
    from app.archive import text as text_lib
    from app.archive.models import Document, DocumentPage
    from app.archive.services import complete_reading
    from app.core.db import utcnow
    from app.core.jobs import enqueue_after_commit

    session = db.session
    claimed = session.execute(
        sa.update(Document)
        .where(Document.id == document_id, Document.status == "received")
        .values(status="reading")
    ).rowcount
    if claimed != 1:
        session.rollback()
        return None
    session.commit()
    document = session.get(Document, document_id)
    if document is None:
        return None
    path = _path(document)
    if document.mime_type in ("text/plain", "message/rfc822"):  # text and e-mail: read at once
        complete_reading(session, document, text_lib.extract(path).pages, SYSTEM)
        session.commit()
        return "text_layer"
    layer = text_lib.text_layer(path) if document.mime_type == "application/pdf" else None
    with_text = [p for p in layer or [] if p.text.strip()]
    if layer is not None and len(with_text) == len(layer):
        complete_reading(session, document, layer, SYSTEM)
        session.commit()
        return "text_layer"
    existing = {p.number: p for p in document.page_rows}
    own_text = {p.number: p for p in with_text}  # a born-digital page keeps its text; scans bound in get OCR
    for number in range(1, max(document.pages, 1) + 1):
        row = existing.get(number)
        if row is None:
            row = DocumentPage(document_id=document.id, number=number, text=None, source="ocr")
            session.add(row)
        if row.text is None and number in own_text:
            row.text, row.source, row.read_dt = own_text[number].text, own_text[number].source, utcnow()
        if row.text is not None:
            continue
        enqueue_after_commit(
            session,
            ocr_document_page,
            document.id,
            number,
            queue_name=OCR_QUEUE,
            job_id=f"ocr-{document.id}-{number}",
        )
    session.commit()
    return "ocr"


def ocr_document_page(document_id: int, number: int) -> bool:
    """OCR one page (skipped when already read), then finish the document when it was the last one."""
    from app.archive import text as text_lib
    from app.archive.models import Document, DocumentPage
    from app.core.db import utcnow

    session = db.session
    page = session.scalars(
        sa.select(DocumentPage).where(DocumentPage.document_id == document_id, DocumentPage.number == number)
    ).first()
    document = session.get(Document, document_id)
    if page is None or document is None or document.status != "reading":
        session.rollback()
        return False
    if page.text is None:
        result = text_lib.ocr_page(_path(document), number)
        page.text, page.source, page.read_dt = result.text, result.source, utcnow()
        page.confidence = None if result.confidence is None else round(result.confidence, 1)  # type: ignore[assignment]
        session.commit()
    finish_document(document_id)
    return True


def finish_document(document_id: int) -> bool:
    """When every page is read: the text assembled, links, index. The row lock on the document makes the two
    jobs of the last two pages finish it once."""
    from app.archive.models import Document, DocumentPage
    from app.archive.services import complete_reading

    session = db.session
    document = session.scalars(
        sa.select(Document).where(Document.id == document_id).with_for_update()
    ).first()
    if document is None or document.status != "reading":
        session.rollback()
        return False
    pending = session.scalar(
        sa.select(sa.func.count())
        .select_from(DocumentPage)
        .where(DocumentPage.document_id == document_id, DocumentPage.text.is_(None))
    )
    if pending:
        session.rollback()
        return False
    from app.archive.text import PageText

    pages = [
        PageText(p.number, p.text or "", p.source, None if p.confidence is None else float(p.confidence))
        for p in document.page_rows
    ]
    complete_reading(session, document, pages, SYSTEM)
    session.commit()
    return True


def drain_index() -> int:
    from app.archive.indexing import backend, drain_outbox

    done = drain_outbox(db.session, backend())
    db.session.commit()
    return done


def requeue_stuck(older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Documents whose reading stopped (a worker died, Redis lost its queue): enqueued again. Safe to repeat:
    a page already read is skipped, a received document is claimed once."""
    from app.archive.models import Document
    from app.core.db import utcnow
    from app.core.jobs import enqueue_after_commit

    session = db.session
    limit = utcnow() - older_than
    stuck = list(
        session.scalars(
            sa.select(Document).where(
                Document.status.in_(("received", "reading")), Document.created_dt < limit
            )
        )
    )
    for document in stuck:
        pending = [p.number for p in document.page_rows if p.text is None]
        if document.status == "reading" and not document.page_rows:
            document.status = "received"  # claimed, then lost before its pages were created
        if document.status == "received":
            enqueue_after_commit(session, read_document, document.id, queue_name=OCR_QUEUE)
            continue
        for number in pending:
            enqueue_after_commit(
                session,
                ocr_document_page,
                document.id,
                number,
                queue_name=OCR_QUEUE,
                job_id=f"ocr-{document.id}-{number}",
            )
        if not pending:
            enqueue_after_commit(session, finish_document, document.id, queue_name=OCR_QUEUE)
    session.commit()
    return len(stuck)


def verify_index() -> dict[str, Any]:
    """The nightly check: readings that stopped are started again, then index and database compared."""
    from app.archive.indexing import backend, verify

    requeued = requeue_stuck()
    report = {**verify(db.session, backend()).as_json(), "requeued": requeued}
    db.session.commit()
    return report


def sweep_intake(mode: str = "jobs") -> list[dict[str, Any]]:
    """File what waits in ARCHIVE_INTAKE_DIR/<ente>/ (channel scansione), one commit per file, then move it
    to done/ or refused/."""
    from app.archive.services import file_documents
    from app.archive.sweep import intake_files, move_swept

    root = current_app.config.get("ARCHIVE_INTAKE_DIR")
    out: list[dict[str, Any]] = []
    if root:
        session = db.session
        actor = Actor.system("acquisizione massiva")
        for item in intake_files(session, root):
            from app.archive.services import IncomingFile

            (result,) = file_documents(
                session,
                [IncomingFile(item.path.name, item.path)],
                item.ente,
                "scansione",
                None,
                actor,
                file_store=current_app.config["FILE_STORE"],
                mode=mode,  # type: ignore[arg-type]
            )
            session.commit()
            move_swept(item, result)
            out.append({"ente": item.ente.code, **result.as_json()})
    return out
