"""Reads of the audit trail and of the access log, always through the scoping helper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.access import Principal, scoped, visible
from app.core.audit import EVENT_KINDS, AccessLog, Event
from app.core.paging import Page, page_within
from app.core.query_forms import QueryArgs
from app.enti.models import Ente
from app.taxpayers.models import Taxpayer

ROME = ZoneInfo("Europe/Rome")
PAGE_SIZE = 50
EXPORT_BATCH = 2000


@dataclass(frozen=True, slots=True)
class TrailFilters(QueryArgs):
    kind: str | None = None
    ente_id: int | None = None
    username: str | None = None
    codice_fiscale: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight in Rome of `day`, as an aware instant (the filters are Italian calendar days)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ROME)


def _period(column: Any, filters: TrailFilters) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if filters.date_from:
        conditions.append(column >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(column < _day_start(filters.date_to + dt.timedelta(days=1)))
    return conditions


def _user_ids(username: str) -> sa.Select:
    like = f"%{username.lower()}%"
    return sa.select(User.id).where(
        sa.or_(sa.func.lower(User.username).like(like), sa.func.lower(User.display_name).like(like))
    )


def _taxpayer_ids(codice_fiscale: str) -> sa.Select:
    return sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == codice_fiscale.strip().upper())


def _events(principal: Principal, filters: TrailFilters) -> sa.Select:
    stmt = sa.select(Event)
    if principal.role == "admin":  # configuration events (parameters, users of no ente) are the admin's too
        stmt = stmt.where(sa.or_(visible(Event, principal), Event.ente_id.is_(None)))
    else:
        stmt = scoped(stmt, Event, principal)
    if filters.kind:
        stmt = stmt.where(Event.kind == filters.kind)
    if filters.ente_id:
        stmt = stmt.where(Event.ente_id == filters.ente_id)
    if filters.username:
        stmt = stmt.where(Event.actor_user_id.in_(_user_ids(filters.username)))
    if filters.codice_fiscale:
        stmt = stmt.where(Event.taxpayer_id.in_(_taxpayer_ids(filters.codice_fiscale)))
    return stmt.where(*_period(Event.occurred_dt, filters))


def _accesses(principal: Principal, filters: TrailFilters) -> sa.Select:
    stmt = sa.select(AccessLog)
    if principal.role == "admin":
        stmt = stmt.where(sa.or_(visible(AccessLog, principal), AccessLog.taxpayer_id.is_(None)))
    else:
        stmt = scoped(stmt, AccessLog, principal)
    if filters.username:
        stmt = stmt.where(AccessLog.user_id.in_(_user_ids(filters.username)))
    if filters.codice_fiscale:
        stmt = stmt.where(AccessLog.taxpayer_id.in_(_taxpayer_ids(filters.codice_fiscale)))
    return stmt.where(*_period(AccessLog.accessed_dt, filters))


def events_stmt(principal: Principal, filters: TrailFilters) -> sa.Select:
    """The events the trail shows for `filters` (unordered: for a count)."""
    return _events(principal, filters)


def accesses_stmt(principal: Principal, filters: TrailFilters) -> sa.Select:
    """The card accesses the log shows for `filters` (unordered: for a count)."""
    return _accesses(principal, filters)


def list_events(session: Session, principal: Principal, filters: TrailFilters, page: int = 1) -> Page:
    stmt = _events(principal, filters).order_by(Event.occurred_dt.desc(), Event.id.desc())
    return page_within(session, stmt, page, PAGE_SIZE)


def list_accesses(session: Session, principal: Principal, filters: TrailFilters, page: int = 1) -> Page:
    stmt = _accesses(principal, filters).order_by(AccessLog.accessed_dt.desc(), AccessLog.id.desc())
    return page_within(session, stmt, page, PAGE_SIZE)


def names(session: Session, items: list[Any]) -> dict[str, dict[int, str]]:
    """Usernames, taxpayers' codici fiscali and ente codes the rows name, in three queries."""
    user_ids = {getattr(i, "actor_user_id", None) or getattr(i, "user_id", None) for i in items} - {None}
    taxpayer_ids = {i.taxpayer_id for i in items} - {None}
    ente_ids = {getattr(i, "ente_id", None) for i in items} - {None}
    return {
        "users": dict(session.execute(sa.select(User.id, User.username).where(User.id.in_(user_ids))).all())
        if user_ids
        else {},
        "taxpayers": dict(
            session.execute(
                sa.select(Taxpayer.id, Taxpayer.codice_fiscale).where(Taxpayer.id.in_(taxpayer_ids))
            ).all()
        )
        if taxpayer_ids
        else {},
        "enti": dict(session.execute(sa.select(Ente.id, Ente.code).where(Ente.id.in_(ente_ids))).all())
        if ente_ids
        else {},
    }


def event_rows(session: Session, principal: Principal, filters: TrailFilters) -> Iterator[dict[str, Any]]:
    """Every matching event, newest first, as export rows (in batches: names looked up once per batch)."""
    stmt = _events(principal, filters).order_by(Event.occurred_dt.desc(), Event.id.desc())
    for batch in session.scalars(stmt.execution_options(yield_per=EXPORT_BATCH)).partitions():
        lookup = names(session, list(batch))
        for e in batch:
            yield {
                "occurred_dt": e.occurred_dt,
                "kind": EVENT_KINDS.get(e.kind, e.kind),
                "summary": e.summary,
                "actor": e.actor_label,
                "ente": lookup["enti"].get(e.ente_id, ""),
                "codice_fiscale": lookup["taxpayers"].get(e.taxpayer_id, ""),
                "position_id": e.position_id,
            }


def access_rows(session: Session, principal: Principal, filters: TrailFilters) -> Iterator[dict[str, Any]]:
    stmt = _accesses(principal, filters).order_by(AccessLog.accessed_dt.desc(), AccessLog.id.desc())
    for batch in session.scalars(stmt.execution_options(yield_per=EXPORT_BATCH)).partitions():
        lookup = names(session, list(batch))
        for a in batch:
            yield {
                "accessed_dt": a.accessed_dt,
                "user": lookup["users"].get(a.user_id, "") if a.user_id else f"token API {a.api_token_id}",
                "action": a.action,
                "codice_fiscale": lookup["taxpayers"].get(a.taxpayer_id, ""),
                "remote_addr": a.remote_addr or "",
            }
