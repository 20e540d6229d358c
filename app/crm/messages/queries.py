"""Reads of messages, templates, rules and consents: always through the scoping helper (app.core.access)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.core.access import Principal, scoped, scoped_join
from app.core.errors import NotFound
from app.core.paging import Page, page_within
from app.core.query_forms import QueryArgs
from app.crm.messages.models import Consent, Message, MessageRule, MessageTemplate
from app.enti.models import Entrata
from app.taxpayers.models import Taxpayer, TaxpayerEnte

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class MessageFilters(QueryArgs):
    ente_id: int | None = None
    channel: str | None = None
    status: str | None = None
    purpose: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str | None = None  # codice fiscale or recipient


def messages_stmt(principal: Principal, filters: MessageFilters) -> sa.Select[Any]:
    stmt = scoped(sa.select(Message), Message, principal)
    if filters.ente_id:
        stmt = stmt.where(Message.ente_id == filters.ente_id)
    if filters.channel:
        stmt = stmt.where(Message.channel == filters.channel)
    if filters.status:
        stmt = stmt.where(Message.status == filters.status)
    if filters.purpose:
        stmt = stmt.where(Message.purpose == filters.purpose)
    if filters.date_from:
        stmt = stmt.where(Message.created_dt >= dt.datetime.combine(filters.date_from, dt.time(), dt.UTC))
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        stmt = stmt.where(Message.created_dt < end)
    if filters.q:
        text = filters.q.strip()
        stmt = scoped_join(stmt, Taxpayer, Taxpayer.id == Message.taxpayer_id, principal).where(
            sa.or_(Taxpayer.codice_fiscale == text.upper(), Message.recipient == text)
        )
    return stmt


def list_messages(session: Session, principal: Principal, filters: MessageFilters, *, page: int = 1) -> Page:
    stmt = (
        messages_stmt(principal, filters)
        .options(selectinload(Message.taxpayer), selectinload(Message.ente))
        .order_by(Message.created_dt.desc(), Message.id.desc())
    )
    return page_within(session, stmt, page, PAGE_SIZE)


def export_rows(session: Session, principal: Principal, filters: MessageFilters) -> Iterator[dict[str, Any]]:
    stmt = (
        messages_stmt(principal, filters)
        .options(selectinload(Message.taxpayer), selectinload(Message.ente))
        .order_by(Message.created_dt.desc(), Message.id.desc())
        .execution_options(yield_per=1000)
    )
    for m in session.scalars(stmt):
        yield {
            "creato": m.created_dt,
            "ente": m.ente.code,
            "codice_fiscale": m.taxpayer.codice_fiscale,
            "nominativo": m.taxpayer.display_name,
            "canale": m.channel,
            "destinatario": m.recipient or "",
            "finalita": m.purpose,
            "oggetto": m.subject,
            "stato": m.status,
            "motivo": m.reason or "",
            "tentativi": m.attempts,
            "inviato": m.sent_dt,
            "id_fornitore": m.provider_id or "",
        }


def messages_of_taxpayer(
    session: Session, principal: Principal, taxpayer_id: int, limit: int = 50
) -> list[Message]:
    stmt = (
        scoped(sa.select(Message), Message, principal)
        .where(Message.taxpayer_id == taxpayer_id)
        .options(selectinload(Message.ente), selectinload(Message.attachments))
        .order_by(Message.created_dt.desc(), Message.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def get_message(session: Session, principal: Principal, message_id: int) -> Message:
    message = session.scalars(
        scoped(sa.select(Message).where(Message.id == message_id), Message, principal)
    ).first()
    if message is None:
        raise NotFound("Messaggio non trovato.")
    return message


def consents_of(session: Session, principal: Principal, taxpayer_id: int) -> list[Consent]:
    """Every version (open first, then history), newest first."""
    stmt = (
        scoped(sa.select(Consent), Consent, principal)
        .where(Consent.taxpayer_id == taxpayer_id)
        .order_by(Consent.valid_to_dt.is_not(None), Consent.channel, Consent.valid_from_dt.desc())
    )
    return list(session.scalars(stmt))


def list_templates(
    session: Session, principal: Principal, ente_id: int | None = None
) -> list[MessageTemplate]:
    stmt = scoped(sa.select(MessageTemplate), MessageTemplate, principal).options(
        selectinload(MessageTemplate.ente), selectinload(MessageTemplate.entrata)
    )
    if ente_id:
        stmt = stmt.where(MessageTemplate.ente_id == ente_id)
    stmt = stmt.order_by(
        MessageTemplate.ente_id,
        MessageTemplate.purpose,
        MessageTemplate.channel,
        MessageTemplate.entrata_id.is_not(None),
        MessageTemplate.entrata_id,
        MessageTemplate.version.desc(),
    )
    return list(session.scalars(stmt))


def get_template(session: Session, principal: Principal, template_id: int) -> MessageTemplate:
    template = session.scalars(
        scoped(
            sa.select(MessageTemplate).where(MessageTemplate.id == template_id), MessageTemplate, principal
        )
    ).first()
    if template is None:
        raise NotFound("Modello non trovato.")
    return template


def list_rules(session: Session, principal: Principal) -> list[MessageRule]:
    stmt = (
        scoped(sa.select(MessageRule), MessageRule, principal)
        .options(selectinload(MessageRule.ente), selectinload(MessageRule.entrata))
        .order_by(MessageRule.ente_id, MessageRule.id)
    )
    return list(session.scalars(stmt))


def get_rule(session: Session, principal: Principal, rule_id: int) -> MessageRule:
    rule = session.scalars(
        scoped(sa.select(MessageRule).where(MessageRule.id == rule_id), MessageRule, principal)
    ).first()
    if rule is None:
        raise NotFound("Regola non trovata.")
    return rule


def taxpayer_ente_ids(session: Session, principal: Principal, taxpayer_id: int) -> set[int]:
    """The enti (among the principal's) the taxpayer owes: those a message can be sent for."""
    stmt = scoped(
        sa.select(TaxpayerEnte.ente_id).where(TaxpayerEnte.taxpayer_id == taxpayer_id),
        TaxpayerEnte,
        principal,
    )
    return set(session.scalars(stmt))


def entrate_of(session: Session, ente_ids: list[int]) -> list[Entrata]:
    stmt = (
        sa.select(Entrata)
        .where(Entrata.ente_id.in_(ente_ids))
        .options(selectinload(Entrata.ente))
        .order_by(Entrata.ente_id, Entrata.code)
    )
    return list(session.scalars(stmt))
