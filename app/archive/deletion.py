"""Deletion of a document at the end of its retention (issue 11, point 8), by an administrator. Never commits.

`delete_document` is the one deletion: the text and every page's text are dropped, the row stays as the
protocol register's trace (numbers are never reused) but names no stored file any more (`file_path` None),
the search index forgets it (outbox row), and an event goes on the timeline of every taxpayer it concerned.
It says what may leave the file store after the commit (`StoreRemoval`): the original when no other row names
it, and the original's cached thumbnails when no other live document has that content. `remove_files`
removes them; what a crash leaves behind, the file-store purge (`esattoria files purge`) removes later, since
no row names it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.archive.models import Document
from app.archive.services import taxpayers_of, touch
from app.core.audit import Actor, record_event
from app.core.errors import DomainError


@dataclass(frozen=True, slots=True)
class StoreRemoval:
    """What leaves the file store after the commit: the original (None: another row still names it) and the
    thumbnails of that content (None: another live document still shows them)."""

    document: int
    protocol: str
    relative_path: str | None
    thumbnails_of: str | None = None


def retention_end(document: Document) -> dt.date | None:
    """The first day the document may be deleted: received date + its type's retention years (None: kept)."""
    years = document.doc_type.retention_years
    if years is None:
        return None
    received = document.received_date
    try:
        return received.replace(year=received.year + years)
    except ValueError:  # 29 February
        return received.replace(year=received.year + years, day=28)


def delete_document(session: Session, document: Document, actor: Actor, *, today: dt.date) -> StoreRemoval:
    """Delete at the end of retention (the caller has checked the actor is an administrator who sees it).
    DomainError, in Italian, while it must still be kept or when it is already gone."""
    if document.status == "deleted":
        raise DomainError(f"Il documento {document.protocol_label} è già stato eliminato.")
    end = retention_end(document)
    if end is None or today < end:
        when = f"dal {end:%d/%m/%Y}" if end else "mai (conservazione illimitata)"
        raise DomainError(f"Il documento {document.protocol_label} è in conservazione: eliminabile {when}.")
    taxpayers = taxpayers_of(document)
    path = document.file_path
    document.status = "deleted"
    document.text = ""
    document.file_path = None
    for page in document.page_rows:
        page.text = ""
    summary = f"Documento {document.protocol_label} eliminato a fine conservazione: {document.file_name}"
    for taxpayer_id in taxpayers or [None]:
        record_event(
            session,
            actor,
            "document.deleted",
            summary[:500],
            taxpayer_id=taxpayer_id,
            ente_id=document.ente_id,
            payload={"document": document.id, "protocol": document.protocol},
        )
    touch(session, document)
    session.flush()
    return StoreRemoval(
        document.id,
        document.protocol_label,
        path if path and not _named_elsewhere(session, path) else None,
        None if _shown_elsewhere(session, document) else document.sha256,
    )


def _named_elsewhere(session: Session, relative_path: str) -> bool:
    """Another row of any table names that stored file (the same content filed for another ente, a job):
    every column marked as naming the store (`STORED_FILE`, as the file-store purge reads them)."""
    from app.core.db import Base
    from app.jobs.files import STORED_FILE

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            found = column.info.get(STORED_FILE) and session.scalar(
                sa.select(sa.literal(1)).where(column == relative_path).limit(1)
            )
            if found:
                return True
    return False


def _shown_elsewhere(session: Session, document: Document) -> bool:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Document)
            .where(
                Document.sha256 == document.sha256, Document.id != document.id, Document.status != "deleted"
            )
        )
        or 0
    ) > 0


def remove_files(file_store: str, removal: StoreRemoval) -> None:
    """After the commit: the original and its thumbnails leave the store (those nothing else needs)."""
    from app.archive.thumbnails import cached_paths
    from app.jobs.files import remove

    if removal.relative_path:
        remove(file_store, removal.relative_path)
    if removal.thumbnails_of:
        for thumbnail in cached_paths(file_store, removal.thumbnails_of):
            Path(thumbnail).unlink(missing_ok=True)
