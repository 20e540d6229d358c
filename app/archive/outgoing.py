"""Documents the ente writes itself (an issued act, a postal letter, a campaign's acts): filed under the
protocol already taken, indexed at once (their text is what was written), linked and confirmed to their
taxpayer and position by whoever wrote them. Never commits."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.archive.models import Document, DocumentLink
from app.archive.services import document_type, record_filed, touch
from app.core.audit import Actor
from app.core.db import utcnow
from app.enti.models import Ente

if TYPE_CHECKING:
    from app.jobs.files import StoredFile


def outgoing_values(
    *,
    ente: Ente,
    type_id: int,
    channel: str,
    protocol: str,
    on: dt.date,
    subject: str,
    text: str,
    stored: StoredFile,
    pages: int,
    actor: Actor,
) -> dict[str, Any]:
    """The columns of a PDF the ente wrote, under the protocol already taken: indexed at once, its text being
    what was written (one act, a letter: `file_outgoing_pdf`; a campaign's chunk of acts as rows)."""
    return {
        "ente_id": ente.id,
        "protocol": protocol,
        "received_date": on,
        "channel": channel,
        "type_id": type_id,
        "sender": ente.name[:250],
        "subject": subject[:500],
        "file_name": f"{protocol}.pdf",
        "sha256": stored.sha256,
        "file_path": stored.relative_path,
        "size_bytes": stored.size,
        "mime_type": "application/pdf",
        "pages": pages,
        "encrypted": False,
        "text": text,
        "text_source": "text_layer",
        "status": "indexed",
        "version": 1,
        "created_by_id": actor.user_id,
        "created_by_label": actor.label,
    }


def confirmed_link_rows(
    document_id: int, taxpayer_id: int, position_id: int | None, actor: Actor, now: dt.datetime
) -> list[dict[str, Any]]:
    """The links of a document the ente wrote to its taxpayer and, when it has one, its position, confirmed by
    whoever wrote it."""
    targets = [("taxpayer", taxpayer_id)] + ([("position", position_id)] if position_id is not None else [])
    return [
        {
            "document_id": document_id,
            "kind": kind,
            "target_id": target,
            "taxpayer_id": taxpayer_id,
            "position_id": position_id if kind == "position" else None,
            "matched": "",
            "state": "confirmed",
            "decided_by_id": actor.user_id,
            "decided_by_label": actor.label,
            "decided_dt": now,
            "created_dt": now,
        }
        for kind, target in targets
    ]


def file_outgoing_pdf(
    session: Session,
    pdf: bytes,
    pages: int,
    *,
    ente: Ente,
    type_code: str,
    channel: str,
    protocol: str,
    on: dt.date,
    subject: str,
    text: str,
    taxpayer_id: int,
    position_id: int | None,
    actor: Actor,
    file_store: str,
) -> Document:
    """File a PDF the ente wrote (an issued act, a postal letter) as its document of type `type_code`, under
    the protocol already taken, linked (confirmed) to the taxpayer and the position if any: the stored file,
    the event `document.filed` and the outbox row of the index."""
    from app.jobs.files import store_stream

    stored = store_stream(file_store, io.BytesIO(pdf))
    kind = document_type(session, ente.id, type_code)
    document = Document(
        **outgoing_values(
            ente=ente,
            type_id=kind.id,
            channel=channel,
            protocol=protocol,
            on=on,
            subject=subject,
            text=text,
            stored=stored,
            pages=pages,
            actor=actor,
        )
    )
    session.add(document)
    session.flush()
    for row in confirmed_link_rows(document.id, taxpayer_id, position_id, actor, utcnow()):
        link = DocumentLink(**row)
        session.add(link)
        document.links.append(link)
    record_filed(session, document, actor)
    touch(session, document, new=True)
    return document
