"""Reads of the delivery screens, always scoped by the user's enti."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.atti.delivery.models import ActDelivery, ActOutcome, PrintBatch
from app.atti.models import Act
from app.core.access import Principal, scoped
from app.crm.messages.models import Message

LIST_LIMIT = 500


def list_batches(session: Session, principal: Principal) -> list[PrintBatch]:
    stmt = sa.select(PrintBatch).order_by(PrintBatch.id.desc()).limit(100)
    return list(session.scalars(scoped(stmt, PrintBatch, principal)))


def get_batch(session: Session, principal: Principal, batch_id: int) -> PrintBatch | None:
    return session.scalars(
        scoped(sa.select(PrintBatch).where(PrintBatch.id == batch_id), PrintBatch, principal)
    ).first()


def batch_deliveries(session: Session, batch: PrintBatch) -> list[ActDelivery]:
    stmt = sa.select(ActDelivery).where(ActDelivery.batch_id == batch.id).order_by(ActDelivery.sequence)
    return list(session.scalars(stmt))


def batch_messages(session: Session, batch: PrintBatch) -> list[Message]:
    """The postal messages (letters) a batch took, in manifest order (provider id: the placeholder)."""
    stmt = sa.select(Message).where(Message.print_batch_id == batch.id).order_by(Message.provider_id)
    return list(session.scalars(stmt))


def acts_to_send(session: Session, principal: Principal, ente_id: int) -> list[Act]:
    """The ente's issued acts not sent yet, oldest first (at most LIST_LIMIT)."""
    stmt = (
        sa.select(Act)
        .where(Act.ente_id == ente_id, Act.status == "emesso")
        .order_by(Act.id)
        .limit(LIST_LIMIT)
    )
    return list(session.scalars(scoped(stmt, Act, principal)))


def get_act(session: Session, principal: Principal, act_id: int) -> Act | None:
    return session.scalars(scoped(sa.select(Act).where(Act.id == act_id), Act, principal)).first()


def act_deliveries(session: Session, act: Act) -> list[ActDelivery]:
    return list(
        session.scalars(sa.select(ActDelivery).where(ActDelivery.act_id == act.id).order_by(ActDelivery.id))
    )


def act_outcomes(session: Session, act: Act) -> list[ActOutcome]:
    return list(
        session.scalars(sa.select(ActOutcome).where(ActOutcome.act_id == act.id).order_by(ActOutcome.id))
    )


def worklist(session: Session, principal: Principal) -> list[tuple[ActOutcome, Act]]:
    stmt = (
        sa.select(ActOutcome, Act)
        .join(Act, Act.id == ActOutcome.act_id)
        .where(ActOutcome.worklist_status == "aperto")
        .order_by(ActOutcome.event_date, ActOutcome.id)
        .limit(LIST_LIMIT)
    )
    return [(o, a) for o, a in session.execute(scoped(stmt, ActOutcome, principal)).tuples()]


def get_outcome(session: Session, principal: Principal, outcome_id: int) -> ActOutcome | None:
    stmt = sa.select(ActOutcome).where(ActOutcome.id == outcome_id)
    return session.scalars(scoped(stmt, ActOutcome, principal)).first()


def receipt_documents(session: Session, principal: Principal, act: Act) -> Sequence[tuple[int, str]]:
    """Archive documents of the act's taxpayer that may be its scanned return receipt: (id, label)."""
    from app.archive.models import Document, DocumentLink

    stmt = (
        sa.select(Document.id, Document.protocol, Document.file_name)
        .join(DocumentLink, DocumentLink.document_id == Document.id)
        .where(
            Document.ente_id == act.ente_id,
            DocumentLink.taxpayer_id == act.taxpayer_id,
            DocumentLink.state == "confirmed",
            Document.id != act.document_id,
        )
        .distinct()
        .order_by(Document.id.desc())
        .limit(100)
    )
    return [(i, f"{p} · {n}") for i, p, n in session.execute(scoped(stmt, Document, principal)).tuples()]
