"""The archive's one door into `search/` (the full-text library): the backend of the configuration, the
outbox drained into it, the rebuild, the consistency check and the ente-scoped search.

A document is in the index when its status is `indexed`; every change writes an outbox row in the filing
transaction (`services.touch`), and `drain_outbox` (a job enqueued after commit, or the command line) pushes
what changed. `verify` compares `backend.versions()` with the database and repairs both ways.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

import search
from search.protocol import SearchBackend, SearchDoc, SearchResult

BATCH = 500


def backend() -> SearchBackend:
    """The configured backend: Elasticsearch with ELASTICSEARCH_URL (one client per application), otherwise
    the database's own full text on the session's connection, so its writes commit (or roll back) with the
    outbox rows they drain."""
    from app.extensions import db

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("ELASTICSEARCH_URL")
    if not url:
        return search.backend_from_settings(None, db.session.connection())
    found = app.extensions.get("archive_search")
    if found is None:
        found = search.backend_from_settings(url, db.engine, index=app.config["ELASTICSEARCH_INDEX"])
        app.extensions["archive_search"] = found
    return found


def _indexable() -> Any:
    from app.archive.models import Document

    return Document.status == "indexed"


def search_docs(session: Session, document_ids: Collection[int]) -> list[SearchDoc]:
    """The search documents of the given ids that belong in the index (others are left out)."""
    from app.archive.models import Document, DocumentLink
    from app.enti.models import Ente
    from app.taxpayers.models import Taxpayer

    if not document_ids:
        return []
    rows = list(
        session.execute(
            sa.select(Document, Ente.code)
            .join(Ente, Ente.id == Document.ente_id)
            .options(selectinload(Document.doc_type))
            .where(Document.id.in_(sorted(document_ids)), _indexable())
            .order_by(Document.id)
        ).tuples()
    )
    codes: dict[int, list[str]] = {}
    if rows:
        for doc_id, cf in session.execute(
            sa.select(DocumentLink.document_id, Taxpayer.codice_fiscale)
            .join(Taxpayer, Taxpayer.id == DocumentLink.taxpayer_id)
            .where(DocumentLink.document_id.in_([d.id for d, _ in rows]), DocumentLink.state != "rejected")
            .order_by(DocumentLink.id)
        ):
            if cf not in codes.setdefault(doc_id, []):
                codes[doc_id].append(cf)
    return [
        SearchDoc(
            id=d.id,
            ente=code,
            text=d.text or "",
            title=d.subject or "",
            protocol=d.protocol,
            taxpayers=tuple(codes.get(d.id, [])),
            doc_type=d.doc_type.code,
            channel=d.channel,
            received=d.received_date,
            version=d.version,
        )
        for d, code in rows
    ]


def drain_outbox(session: Session, engine: SearchBackend, *, limit: int = 5000) -> int:
    """Push the pending changes to the backend and delete their outbox rows; returns how many documents.

    Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so two drains never push the same change;
    the caller commits (a job dying before its commit leaves the rows for the next drain)."""
    from app.archive.models import SearchOutbox

    stmt = sa.select(SearchOutbox.id, SearchOutbox.document_id).order_by(SearchOutbox.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.execute(stmt).tuples())
    if not rows:
        return 0
    ids = {doc_id for _, doc_id in rows}
    docs = search_docs(session, ids)
    if docs:
        engine.index(docs)
    gone = ids - {d.id for d in docs}
    if gone:
        engine.delete(sorted(gone))
    session.execute(sa.delete(SearchOutbox).where(SearchOutbox.id.in_([r for r, _ in rows])))
    return len(ids)


def _all_ids(session: Session, ente_ids: Collection[int] | None = None) -> Iterator[list[int]]:
    from app.archive.models import Document

    stmt = sa.select(Document.id).where(_indexable()).order_by(Document.id)
    if ente_ids is not None:
        stmt = stmt.where(Document.ente_id.in_(sorted(ente_ids)))
    batch: list[int] = []
    for doc_id in session.scalars(stmt):
        batch.append(doc_id)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _stream(session: Session) -> Iterable[SearchDoc]:
    for ids in _all_ids(session):
        yield from search_docs(session, ids)


def rebuild(session: Session, engine: SearchBackend) -> int:
    """Reindex every document from scratch; the outbox is emptied (everything it named is now current)."""
    from app.archive.models import SearchOutbox

    engine.ensure_ready()
    written = engine.rebuild(_stream(session))
    session.execute(sa.delete(SearchOutbox))
    return written


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    missing: int  # in the database, not in the index
    stale: int  # in the index with an older version
    extra: int  # in the index, not (or no longer) in the database
    repaired: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "missing": self.missing,
            "stale": self.stale,
            "extra": self.extra,
            "repaired": self.repaired,
        }


def verify(session: Session, engine: SearchBackend, *, repair: bool = True) -> Verification:
    """Compare the index with the database (id and version of every indexable document) and repair."""
    from app.archive.models import Document

    engine.ensure_ready()
    indexed = engine.versions(None)
    wanted = dict(
        session.execute(sa.select(Document.id, Document.version).where(_indexable())).tuples().all()
    )
    missing = [i for i in wanted if i not in indexed]
    stale = [i for i, v in wanted.items() if i in indexed and indexed[i] != v]
    extra = [i for i in indexed if i not in wanted]
    if repair:
        todo = missing + stale
        for start in range(0, len(todo), BATCH):
            engine.index(search_docs(session, todo[start : start + BATCH]))
        if extra:
            engine.delete(extra)
    return Verification(len(wanted), len(missing), len(stale), len(extra), repair)


def search_documents(
    engine: SearchBackend,
    query: str,
    *,
    ente_codes: Collection[str],
    taxpayer: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """The backend's search, the ente scope part of the query (never filtered afterwards)."""
    if not ente_codes:
        return SearchResult(total=0, hits=[])
    return engine.search(query, entes=sorted(ente_codes), taxpayer=taxpayer, limit=limit, offset=offset)
