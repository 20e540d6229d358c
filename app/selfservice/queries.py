"""Reads of the taxpayer portal: always through the scoping helper (a taxpayer account sees its own rows)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from app.archive.models import Document
from app.core.access import Principal, scoped
from app.positions.models import Movement, Position


def own_documents(session: Session, principal: Principal) -> list[Document]:
    """The archive documents confirmed as the taxpayer's (acts, letters, their own uploads)."""
    stmt = (
        sa.select(Document)
        .where(Document.status != "deleted")
        .options(selectinload(Document.doc_type))
        .order_by(Document.received_date.desc(), Document.id.desc())
    )
    return list(session.scalars(scoped(stmt, Document, principal)))


def get_own_document(session: Session, principal: Principal, document_id: int) -> Document | None:
    stmt = (
        sa.select(Document)
        .where(Document.id == document_id, Document.status != "deleted")
        .options(selectinload(Document.links))
    )
    return session.scalars(scoped(stmt, Document, principal)).first()


def own_payments(session: Session, principal: Principal) -> list[Movement]:
    """The payments booked on the taxpayer's positions (ledger lines of kind pagamento / rimborso)."""
    stmt = (
        sa.select(Movement)
        .where(Movement.kind.in_(("pagamento", "rimborso")))
        .options(joinedload(Movement.position).joinedload(Position.entrata))
        .order_by(Movement.value_date.desc(), Movement.id.desc())
    )
    return list(session.scalars(scoped(stmt, Movement, principal)).unique())
