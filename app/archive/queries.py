"""Reads of the archive, every one through the scoping helper (app/core/access.py `scoped`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.archive.models import Document, DocumentLink, DocumentPage
from app.core.access import Principal, scoped
from app.core.audit import Actor, log_access
from app.core.paging import Page, page_within

PAGE_SIZE = 25


def _filtered(
    principal: Principal,
    *,
    ente_id: int | None = None,
    status: str | None = None,
    taxpayer_id: int | None = None,
    to_link: bool = False,
    to_review: Any = None,
) -> sa.Select:
    """`to_link`: the "da collegare" work list (documents with proposed links); `to_review`: documents with a
    page read below that OCR confidence."""
    stmt = scoped(sa.select(Document), Document, principal).where(Document.status != "deleted")
    if ente_id:
        stmt = stmt.where(Document.ente_id == ente_id)
    if status:
        stmt = stmt.where(Document.status == status)
    if taxpayer_id:
        stmt = stmt.where(
            Document.id.in_(
                sa.select(DocumentLink.document_id).where(
                    DocumentLink.taxpayer_id == taxpayer_id, DocumentLink.state != "rejected"
                )
            )
        )
    if to_link:
        stmt = stmt.where(
            Document.id.in_(sa.select(DocumentLink.document_id).where(DocumentLink.state == "proposed"))
        )
    if to_review is not None:
        stmt = stmt.where(
            Document.id.in_(sa.select(DocumentPage.document_id).where(DocumentPage.confidence < to_review))
        )
    return stmt


def list_documents(
    session: Session, principal: Principal, *, page: int = 1, per_page: int = PAGE_SIZE, **filters: Any
) -> Page:
    """The newest first, one page, with the total the user may see (counted in the database, keyset-free:
    the (ente, received, id) index serves both)."""
    stmt = (
        _filtered(principal, **filters)
        .options(selectinload(Document.doc_type), selectinload(Document.ente), selectinload(Document.links))
        .order_by(Document.received_date.desc(), Document.id.desc())
    )
    return page_within(session, stmt, page, per_page)


def document_choices(
    session: Session, principal: Principal, *, taxpayer_id: int, limit: int = 50
) -> list[sa.Row[Any]]:
    """The newest `limit` documents of a taxpayer as plain rows (id, protocol, subject, file_name), in the
    order of `list_documents`: the choices of a form, without loading entities, links or the total."""
    stmt = _filtered(principal, taxpayer_id=taxpayer_id).with_only_columns(
        Document.id, Document.protocol, Document.subject, Document.file_name
    )
    stmt = stmt.order_by(Document.received_date.desc(), Document.id.desc()).limit(limit)
    return list(session.execute(stmt))


def get_document(session: Session, principal: Principal, document_id: int) -> Document | None:
    """A document the user may see (None otherwise: the route answers 404, never 403)."""
    return session.scalars(
        scoped(sa.select(Document), Document, principal)
        .where(Document.id == document_id, Document.status != "deleted")
        .options(
            selectinload(Document.links), selectinload(Document.page_rows), selectinload(Document.doc_type)
        )
    ).first()


def registration(session: Session, principal: Principal, document: Document) -> list[Document]:
    """The documents of the same registration, shown together: the main document (the e-mail message) and its
    attachments under the same protocol number, plus those of the message whose content the ente already held
    (filed before under another number). The document itself included, deleted ones left out."""
    from app.archive.mailbox_models import MailMessage, MailMessageDocument

    main_id = document.main_id or document.id
    by_message = (
        sa.select(MailMessageDocument.document_id)
        .join(MailMessage, MailMessage.id == MailMessageDocument.mail_message_id)
        .where(MailMessage.document_id == main_id)
    )
    members = session.scalars(
        scoped(sa.select(Document), Document, principal)
        .where(
            sa.or_(Document.id == main_id, Document.main_id == main_id, Document.id.in_(by_message)),
            Document.status != "deleted",
        )
        .order_by(Document.main_id.is_not(None), Document.protocol, Document.attachment_no)
    ).all()
    return list(members) if len(members) > 1 else []


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One step of a document's history, in the shape of the timeline macro (templates/_macros/ui.html)."""

    kind_label: str
    occurred_dt: Any
    summary: str
    actor_name: str | None = None


def document_history(document: Document, targets: dict[int, dict[str, Any]]) -> list[HistoryItem]:
    """The document's own history, newest first, from its rows (no scan of the event log): filed, text read,
    each link proposed and decided. Views, downloads and every event are on the cards' timelines too."""
    items = [
        HistoryItem(
            "Protocollato",
            document.created_dt,
            f"{document.protocol_label}, canale {document.channel_label.lower()}: {document.file_name}",
            document.created_by_label,
        )
    ]
    read = [p.read_dt for p in document.page_rows if p.read_dt is not None]
    if read and document.text_source != "none":
        pages = len(read)
        items.append(
            HistoryItem(
                "Testo letto",
                max(read),
                f"{document.text_source_label}, {pages} {'pagina' if pages == 1 else 'pagine'}",
            )
        )
    for link in document.links:
        target = targets.get(link.id, {})
        who = target.get("taxpayer_name") or link.kind_label.lower()
        if target.get("position") is not None:
            who += f", posizione {target['position'].external_id}"
        found = f" (trovato nel testo: {link.matched})" if link.matched else ""
        if link.decided_by_label is None or link.matched:
            items.append(HistoryItem("Collegamento proposto", link.created_dt, f"{who}{found}"))
        if link.decided_dt is not None:
            items.append(
                HistoryItem(
                    f"Collegamento {link.state_label.lower()}", link.decided_dt, who, link.decided_by_label
                )
            )
    return sorted(items, key=lambda item: item.occurred_dt, reverse=True)


def link_targets(session: Session, links: list[DocumentLink]) -> dict[int, dict[str, Any]]:
    """What each link points at, for the screen: the taxpayer's name and CF, the position's id."""
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    taxpayer_ids = {link.taxpayer_id for link in links}
    position_ids = {link.position_id for link in links if link.position_id}
    names = {t.id: t for t in session.scalars(sa.select(Taxpayer).where(Taxpayer.id.in_(taxpayer_ids)))}
    positions = {p.id: p for p in session.scalars(sa.select(Position).where(Position.id.in_(position_ids)))}
    out: dict[int, dict[str, Any]] = {}
    for link in links:
        taxpayer = names.get(link.taxpayer_id)
        position = positions.get(link.position_id) if link.position_id else None
        out[link.id] = {
            "taxpayer": taxpayer,
            "taxpayer_name": (taxpayer.company_name or f"{taxpayer.surname} {taxpayer.given_name}")
            if taxpayer
            else "",
            "position": position,
        }
    return out


def reading_progress(session: Session, document: Document) -> tuple[int, int]:
    """(pages read, pages) of a document being read."""
    done = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(DocumentPage)
            .where(DocumentPage.document_id == document.id, DocumentPage.text.is_not(None))
        )
        or 0
    )
    return int(done), max(document.pages, 1)


def taxpayer_visible(session: Session, principal: Principal, taxpayer_id: int) -> bool:
    from app.taxpayers.models import Taxpayer

    stmt = scoped(sa.select(Taxpayer.id), Taxpayer, principal).where(Taxpayer.id == taxpayer_id)
    return session.scalar(stmt) is not None


def log_reads(
    session: Session,
    actor: Actor,
    action: str,
    taxpayer_ids: list[int],
    *,
    remote_addr: str | None,
    document_id: int | None = None,
) -> None:
    """GDPR accountability: a document page or the card's Documenti section shows these taxpayers' data."""
    for taxpayer_id in dict.fromkeys(taxpayer_ids):
        log_access(
            session,
            actor,
            action,
            taxpayer_id=taxpayer_id,
            remote_addr=remote_addr,
            detail={"document": document_id} if document_id else None,
        )


def get_link(session: Session, principal: Principal, document_id: int, link_id: int) -> DocumentLink | None:
    document = get_document(session, principal, document_id)
    if document is None:
        return None
    return next((link for link in document.links if link.id == link_id), None)
