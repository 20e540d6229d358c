"""The archive's one intake service and the changes made to documents afterwards. Never commits.

`file_documents` files each file: `ocr.inspect` (a refusal keeps nothing of that file), the original into the
content-addressed store (never modified), a gap-free protocol number, the text (at once for the command
line, RQ jobs per page for the web), links found in the text, events on the timeline of every taxpayer
concerned, and an outbox row for the search index, all in the caller's transaction (a savepoint per file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.archive import text as text_lib
from app.archive.linking import Match, find_matches
from app.archive.models import (
    CHANNELS,
    Document,
    DocumentLink,
    DocumentPage,
    DocumentType,
    ProtocolCounter,
    SearchOutbox,
)
from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError
from app.enti.models import Ente

# Settings an ente may give itself as parameter rows (none is seeded: they are choices, not legal numbers).
AUTO_LINK = "archivio_collega_automatico"  # {"enabled": true}: an unambiguous taxpayer is linked at once
REVIEW_THRESHOLD = "archivio_soglia_revisione_ocr"  # {"confidence": 70}: instead of OCR_CONFIDENCE_REVIEW
DEFAULT_TYPE = "altro"
Mode = Literal["sync", "jobs"]


@dataclass(frozen=True, slots=True)
class IncomingFile:
    name: str  # the name the sender gave it (shown, never trusted)
    path: Path


@dataclass(slots=True)
class FilingResult:
    """One file's outcome: formats.md §6's object (`as_json`)."""

    file: str
    status: str  # indexed | received | reading | duplicate | refused
    sha256: str
    document: int | None = None
    protocol: str | None = None
    pages: int | None = None
    text_source: str | None = None
    ocr_confidence: float | None = None
    proposed_links: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "file": self.file,
            "document": self.document,
            "protocol": self.protocol,
            "sha256": self.sha256,
            "pages": self.pages,
            "text_source": self.text_source,
            "ocr_confidence": self.ocr_confidence,
            "proposed_links": self.proposed_links,
            "status": self.status,
        }
        if self.error is not None:
            body["error"] = self.error
        return body


# --- settings (parameter rows) --------------------------------------------------------------------------


def ente_setting(session: Session, ente_id: int, code: str, day: dt.date | None = None) -> Any:
    """The value in force of a parameter row (the ente's own over the national one), or None."""
    from app.enti.queries import in_force, parameter_rows

    row = in_force(parameter_rows(session, ente_id=ente_id), code, day or dt.date.today())
    return row["value"] if row else None


def auto_link_enabled(session: Session, ente_id: int) -> bool:
    value = ente_setting(session, ente_id, AUTO_LINK)
    return bool(value.get("enabled")) if isinstance(value, dict) else bool(value)


def review_threshold(session: Session, ente_id: int, default: Decimal | int) -> Decimal:
    """The OCR confidence under which a page is listed for review: the ente's parameter row when it has one,
    else the configured default (OCR_CONFIDENCE_REVIEW)."""
    value = ente_setting(session, ente_id, REVIEW_THRESHOLD)
    if isinstance(value, dict) and "confidence" in value:
        return Decimal(str(value["confidence"]))
    return Decimal(str(default))


# --- numbers, types, outbox -----------------------------------------------------------------------------


def next_protocol(session: Session, ente: Ente, year: int) -> str:
    """`<ente>-<year>-<7 digits>`: the counter row is created once (INSERT ... ON CONFLICT DO NOTHING) and
    moved with UPDATE ... RETURNING, whose row lock holds until the filing commits: gap-free and unique."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    session.execute(
        insert(ProtocolCounter).values(ente_id=ente.id, year=year, last=0).on_conflict_do_nothing()
    )
    last = session.execute(
        sa.update(ProtocolCounter)
        .where(ProtocolCounter.ente_id == ente.id, ProtocolCounter.year == year)
        .values(last=ProtocolCounter.last + 1)
        .returning(ProtocolCounter.last)
    ).scalar_one()
    return f"{ente.code}-{year}-{last:07d}"


def next_attachment_no(session: Session, main: Document) -> int:
    """The next attachment's place in the main document's registration (1, 2, ...: its message is filed in
    one transaction, so nobody else numbers them meanwhile; the unique constraint is the guard)."""
    last = session.scalar(sa.select(sa.func.max(Document.attachment_no)).where(Document.main_id == main.id))
    return (last or 0) + 1


def reserve_protocols(session: Session, ente: Ente, year: int, count: int) -> list[str]:
    """`count` consecutive protocol numbers of the ente's register at once (a mass issuance of acts takes its
    numbers in one short transaction instead of holding the counter's row lock while it renders)."""
    if count <= 0:
        return []
    next_protocol(session, ente, year)  # creates the counter row if needed and takes the first number
    last = session.execute(
        sa.update(ProtocolCounter)
        .where(ProtocolCounter.ente_id == ente.id, ProtocolCounter.year == year)
        .values(last=ProtocolCounter.last + (count - 1))
        .returning(ProtocolCounter.last)
    ).scalar_one()
    return [f"{ente.code}-{year}-{n:07d}" for n in range(last - count + 1, last + 1)]


def document_type(session: Session, ente_id: int, code: str | None) -> DocumentType:
    """The ente's own type of that code, else the national one; DomainError names an unknown code."""
    code = code or DEFAULT_TYPE
    found = session.scalars(
        sa.select(DocumentType)
        .where(
            DocumentType.code == code, sa.or_(DocumentType.ente_id == ente_id, DocumentType.ente_id.is_(None))
        )
        .order_by(DocumentType.ente_id.is_(None))
    ).first()
    if found is None:
        raise DomainError(f"Tipo di documento sconosciuto: {code}.")
    return found


def ensure_document_type(session: Session, code: str, *, label: str, source: str) -> None:
    """The national document type `code` (no retention limit), added when missing: the types that other slices
    file documents under (an issued act, a postal letter)."""
    exists = session.scalar(
        sa.select(DocumentType.id).where(DocumentType.code == code, DocumentType.ente_id.is_(None))
    )
    if exists is None:
        session.add(DocumentType(code=code, label=label, retention_years=None, source=source))
        session.flush()


def document_types(session: Session, ente_ids: Sequence[int]) -> list[DocumentType]:
    return list(
        session.scalars(
            sa.select(DocumentType)
            .where(sa.or_(DocumentType.ente_id.is_(None), DocumentType.ente_id.in_(list(ente_ids))))
            .order_by(DocumentType.label)
        )
    )


def touch(session: Session, document: Document, *, enqueue_index: bool = True, new: bool = False) -> None:
    """A change of the document: its version moves on and the index will hear of it (outbox row, same
    transaction; the drain job is enqueued after commit)."""
    if not new:
        document.version = (document.version or 1) + 1
    session.add(
        SearchOutbox(document_id=document.id, op="index" if document.status != "deleted" else "delete")
    )
    if enqueue_index:
        request_indexing(session)


def request_indexing(session: Session) -> None:
    """Enqueue one drain of the outbox after this transaction commits (once per transaction)."""
    from app.archive.tasks import INDEX_QUEUE, drain_index
    from app.core.jobs import enqueue_after_commit

    pending = session.info.get("pending_jobs") or []
    if any(job[1] is drain_index for job in pending):
        return
    enqueue_after_commit(session, drain_index, queue_name=INDEX_QUEUE)


# --- intake ---------------------------------------------------------------------------------------------


def neutral_path(directory: Path, stem: str, name: str) -> Path:
    """Where to save a received file: a name of ours, keeping the sender's suffix when it is a plain one (so
    a refusal can say "anche se il nome termina in .pdf")."""
    suffix = Path(name).suffix
    return directory / (stem + suffix.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix) else stem)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_documents(
    session: Session,
    files: Sequence[IncomingFile],
    ente: Ente,
    channel: str,
    doc_type: str | None,
    actor: Actor,
    *,
    file_store: str,
    mode: Mode = "sync",
    received_date: dt.date | None = None,
    sender: str | None = None,
    subject: str | None = None,
    taxpayer_id: int | None = None,
    main: Document | None = None,
) -> list[FilingResult]:
    """File every file for `ente`; one result per file, in order. A refused file keeps nothing, the others
    are kept (each file is its own savepoint). `taxpayer_id` (filed from the card): each document is linked
    to that taxpayer of the ente at once. `main` (an e-mail's attachments): each new document is an
    attachment of that document, under its protocol number (no number of its own is taken)."""
    if channel not in CHANNELS:
        raise DomainError(f"Canale sconosciuto: {channel}. Canali: {', '.join(CHANNELS)}.")
    kind = document_type(session, ente.id, doc_type)
    if taxpayer_id is not None and not _taxpayer_of_ente(session, taxpayer_id, ente.id):
        raise DomainError(f"Il contribuente indicato non risulta tra quelli dell'ente {ente.code}.")
    results = []
    for incoming in files:
        results.append(
            _file_one(
                session,
                incoming,
                ente,
                channel,
                kind,
                actor,
                file_store=file_store,
                mode=mode,
                received_date=received_date or dt.date.today(),
                sender=sender,
                subject=subject,
                taxpayer_id=taxpayer_id,
                main=main,
            )
        )
    if mode == "jobs":
        request_indexing(session)  # the command line drains the outbox itself, before returning
    return results


def _duplicate(session: Session, name: str, existing: Document) -> FilingResult:
    return FilingResult(
        file=name,
        status="duplicate",
        sha256=existing.sha256,
        document=existing.id,
        protocol=existing.protocol,
        pages=existing.pages,
        text_source=existing.text_source,
        ocr_confidence=_float(existing.ocr_confidence),
        proposed_links=links_json(session, existing),
    )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _file_one(
    session: Session,
    incoming: IncomingFile,
    ente: Ente,
    channel: str,
    kind: DocumentType,
    actor: Actor,
    *,
    file_store: str,
    mode: Mode,
    received_date: dt.date,
    sender: str | None,
    subject: str | None,
    taxpayer_id: int | None = None,
    main: Document | None = None,
) -> FilingResult:
    from app.jobs.files import store_path

    sha = sha256_of(incoming.path)
    existing = _by_hash(session, ente.id, sha)
    if existing is not None:
        return _duplicate(session, incoming.name, existing)
    try:
        info = text_lib.inspect(incoming.path)
        extraction = text_lib.extract(incoming.path) if mode == "sync" and not info.encrypted else None
    except text_lib.Refused as exc:
        return FilingResult(file=incoming.name, status="refused", sha256=sha, error=exc.reason_it)
    stored = store_path(file_store, incoming.path)
    try:
        with session.begin_nested():
            document = Document(
                ente_id=ente.id,
                protocol=next_protocol(session, ente, received_date.year) if main is None else main.protocol,
                main_id=None if main is None else main.id,
                attachment_no=0 if main is None else next_attachment_no(session, main),
                received_date=received_date,
                channel=channel,
                type_id=kind.id,
                sender=sender,
                subject=subject,
                file_name=incoming.name[:255],
                sha256=stored.sha256,
                file_path=stored.relative_path,
                size_bytes=stored.size,
                mime_type=info.mime_type,
                pages=info.pages,
                encrypted=info.encrypted,
                text="",
                text_source="none",
                status="received",
                version=1,
                created_by_id=actor.user_id,
                created_by_label=actor.label,
            )
            session.add(document)
            session.flush()
            if taxpayer_id is not None:
                _link_by_hand(session, document, taxpayer_id, actor)
            matches: list[Match] = []
            if info.encrypted:
                document.status = "indexed"  # stored and flagged, never read: its metadata is searchable
            elif extraction is not None:
                matches = _complete(session, document, extraction.pages, actor)
            else:
                _start_reading(session, document)
            record_filed(session, document, actor, matches)
            touch(session, document, enqueue_index=False, new=True)
    except IntegrityError:
        existing = _by_hash(session, ente.id, sha)  # filed by someone else meanwhile
        if existing is None:
            raise
        return _duplicate(session, incoming.name, existing)
    return FilingResult(
        file=incoming.name,
        status=document.status,
        sha256=document.sha256,
        document=document.id,
        protocol=document.protocol,
        pages=document.pages,
        text_source=document.text_source,
        ocr_confidence=_float(document.ocr_confidence),
        proposed_links=links_json(session, document),
    )


def _taxpayer_of_ente(session: Session, taxpayer_id: int, ente_id: int) -> bool:
    from app.core.access import Principal, scoped
    from app.taxpayers.models import Taxpayer

    principal = Principal(role="backoffice", ente_ids=frozenset({ente_id}))
    stmt = scoped(sa.select(Taxpayer.id), Taxpayer, principal).where(Taxpayer.id == taxpayer_id)
    return session.scalar(stmt) is not None


def _link_by_hand(session: Session, document: Document, taxpayer_id: int, actor: Actor) -> None:
    """Filed from the taxpayer's card: the link is the user's own decision (confirmed, an event)."""
    link = DocumentLink(
        document_id=document.id,
        kind="taxpayer",
        target_id=taxpayer_id,
        taxpayer_id=taxpayer_id,
        matched="",
        state="confirmed",
        decided_by_id=actor.user_id,
        decided_by_label=actor.label,
        decided_dt=utcnow(),
    )
    session.add(link)
    document.links.append(link)
    session.flush()
    _link_event(session, document, link, actor, "document.linked")


def _by_hash(session: Session, ente_id: int, sha: str) -> Document | None:
    return session.scalars(
        sa.select(Document).where(
            Document.ente_id == ente_id, Document.sha256 == sha, Document.status != "deleted"
        )
    ).first()


def _start_reading(session: Session, document: Document) -> None:
    """The web path: the document waits for its reading job (app/archive/tasks.py), enqueued after commit."""
    from app.archive.tasks import OCR_QUEUE, read_document
    from app.core.jobs import enqueue_after_commit

    document.status = "received"
    enqueue_after_commit(session, read_document, document.id, queue_name=OCR_QUEUE)


def _complete(
    session: Session, document: Document, pages: Sequence[text_lib.PageText], actor: Actor
) -> list[Match]:
    """Every page read: the text, its source and confidence, the links found; the document is indexed."""
    existing = {p.number: p for p in document.page_rows}
    for page in pages:
        row = existing.get(page.number)
        if row is None:
            row = DocumentPage(document_id=document.id, number=page.number)
            session.add(row)
            document.page_rows.append(row)
        row.text = page.text
        row.source = page.source
        row.confidence = None if page.confidence is None else Decimal(str(round(page.confidence, 1)))
        row.read_dt = utcnow()
    rows = sorted(document.page_rows, key=lambda p: p.number)
    document.text = "\n\f".join(p.text or "" for p in rows)
    sources = {p.source for p in rows}
    document.text_source = "ocr" if "ocr" in sources else "text_layer" if document.text.strip() else "none"
    scores = [p.confidence for p in rows if p.confidence is not None]
    document.ocr_confidence = (
        (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.1")) if scores else None
    )
    if rows and len(rows) > document.pages:
        document.pages = len(rows)
    document.status = "indexed"
    session.flush()
    return link_document(session, document, actor)


def complete_reading(
    session: Session, document: Document, pages: Sequence[text_lib.PageText], actor: Actor
) -> list[Match]:
    """The jobs' last step: text assembled, links found, outbox row (the index hears of it after commit)."""
    matches = _complete(session, document, pages, actor)
    touch(session, document)
    return matches


def link_document(session: Session, document: Document, actor: Actor) -> list[Match]:
    """Propose (or, with the ente's setting, confirm) links to the taxpayers and positions named in the
    text; each new link is an event on the taxpayer's timeline. Returns every match."""
    ente = session.get(Ente, document.ente_id)
    assert ente is not None
    matches = find_matches(session, document.text or "", ente.id, ente.code, exclude_document=document.id)
    known = {(link.kind, link.target_id) for link in document.links}
    auto = auto_link_enabled(session, ente.id)
    taxpayer_matches = [m for m in matches if m.kind == "taxpayer"]
    for match in matches:
        if (match.kind, match.target_id) in known:
            continue
        confirm = auto and match.kind == "taxpayer" and len(taxpayer_matches) == 1
        link = DocumentLink(
            document_id=document.id,
            kind=match.kind,
            target_id=match.target_id,
            taxpayer_id=match.taxpayer_id,
            position_id=match.position_id,
            matched=match.matched[:60],
            state="confirmed" if confirm else "proposed",
        )
        if confirm:
            link.decided_by_id, link.decided_by_label, link.decided_dt = (
                None,
                "collegamento automatico",
                utcnow(),
            )
        session.add(link)
        document.links.append(link)
        _link_event(
            session, document, link, actor, "document.linked" if confirm else "document.link_proposed"
        )
    session.flush()
    return matches


def links_json(session: Session, document: Document) -> list[dict[str, str]]:
    """formats.md §6 `proposed_links`: the document's links (not rejected), a taxpayer by its codice fiscale
    and a position by its notice number."""
    from app.payments.notices import notice_numbers_of_positions
    from app.taxpayers.models import Taxpayer

    links = [link for link in document.links if link.state != "rejected"]
    cfs = dict(
        session.execute(
            sa.select(Taxpayer.id, Taxpayer.codice_fiscale).where(
                Taxpayer.id.in_([link.target_id for link in links if link.kind == "taxpayer"])
            )
        )
        .tuples()
        .all()
    )
    notices = notice_numbers_of_positions(
        session, [link.target_id for link in links if link.kind == "position"]
    )
    out: list[dict[str, str]] = []
    for link in links:
        if link.kind == "taxpayer":
            out.append({"kind": "taxpayer", "codice_fiscale": cfs.get(link.target_id, "")})
        else:
            found = link.matched if len(link.matched) == 18 and link.matched.isdigit() else None
            number = found or (notices.get(link.target_id) or [""])[0]
            out.append({"kind": "position", "notice_number": number})
    return out


# --- events ---------------------------------------------------------------------------------------------


def taxpayers_of(document: Document) -> list[int]:
    return list(dict.fromkeys(link.taxpayer_id for link in document.links if link.state != "rejected"))


def record_filed(session: Session, document: Document, actor: Actor, matches: Sequence[Match] = ()) -> None:
    """ "Documento protocollato" on the timeline of every taxpayer it concerns (the ente's when none yet)."""
    summary = (
        f"Documento {document.protocol_label} protocollato ({document.channel_label.lower()}):"
        f" {document.file_name}"
    )
    payload = {"document": document.id, "protocol": document.protocol}
    taxpayers = taxpayers_of(document)
    for taxpayer_id in taxpayers or [None]:
        record_event(
            session,
            actor,
            "document.filed",
            summary,
            taxpayer_id=taxpayer_id,
            ente_id=document.ente_id,
            payload=payload,
        )


def _link_event(session: Session, document: Document, link: DocumentLink, actor: Actor, kind: str) -> None:
    what = "posizione" if link.kind == "position" else "contribuente"
    verbs = {
        "document.linked": "collegato al",
        "document.link_proposed": "proposto per il",
        "document.unlinked": "scollegato dal",
    }
    summary = f"Documento {document.protocol} {verbs[kind]} {what}"
    if link.matched:
        summary += f" (trovato nel testo: {link.matched})"
    record_event(
        session,
        actor,
        kind,
        summary[:500],
        taxpayer_id=link.taxpayer_id,
        position_id=link.position_id,
        ente_id=document.ente_id,
        payload={"document": document.id, "link": link.id, "kind": link.kind},
    )


def decide_link(session: Session, link: DocumentLink, decision: str, actor: Actor) -> None:
    """Confirm a proposed link, or reject/remove one; an event on the taxpayer's timeline either way."""
    if decision not in ("confirm", "reject"):
        raise DomainError("Decisione non valida: attese conferma o rifiuto.")
    document = link.document
    if document.status == "deleted":
        raise DomainError("Il documento è stato eliminato.")
    target = "confirmed" if decision == "confirm" else "rejected"
    if link.state == target:
        return  # sent twice: nothing new
    link.state = target
    link.decided_by_id, link.decided_by_label, link.decided_dt = actor.user_id, actor.label, utcnow()
    session.flush()
    _link_event(
        session, document, link, actor, "document.linked" if target == "confirmed" else "document.unlinked"
    )
    touch(session, document)


def record_access(session: Session, document: Document, actor: Actor, *, viewed: bool = False) -> None:
    """Every download of an original (`document.downloaded`) and every view of it in the page's viewer
    (`document.viewed`) is an event, on the timeline of each taxpayer the document concerns."""
    kind, how = ("document.viewed", "visualizzato") if viewed else ("document.downloaded", "scaricato")
    summary = f"Documento {document.protocol_label} {how}: {document.file_name}"
    for taxpayer_id in taxpayers_of(document) or [None]:
        record_event(
            session,
            actor,
            kind,
            summary[:500],
            taxpayer_id=taxpayer_id,
            ente_id=document.ente_id,
            payload={"document": document.id},
        )
