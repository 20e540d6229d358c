"""Reads of user administration: the staff accounts within an administrator's enti."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.auth.models import User, user_enti
from app.core.access import STAFF_ROLES, Principal
from app.core.audit import Event
from app.core.paging import Page, page_within

PAGE_SIZE = 50


def _in_reach(principal: Principal) -> sa.ColumnElement[bool]:
    """Staff accounts with at least one ente and none outside the administrator's enti."""
    outside = sa.exists().where(
        user_enti.c.user_id == User.id, user_enti.c.ente_id.not_in(principal.ente_ids)
    )
    inside = sa.exists().where(user_enti.c.user_id == User.id, user_enti.c.ente_id.in_(principal.ente_ids))
    return sa.and_(User.role.in_(STAFF_ROLES), inside, ~outside)


def list_users(
    session: Session,
    principal: Principal,
    *,
    role: str | None = None,
    ente_id: int | None = None,
    active: bool | None = None,
    text: str | None = None,
    page: int = 1,
) -> Page:
    stmt = sa.select(User).where(_in_reach(principal))
    if role:
        stmt = stmt.where(User.role == role)
    if ente_id:
        stmt = stmt.where(sa.exists().where(user_enti.c.user_id == User.id, user_enti.c.ente_id == ente_id))
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(
            sa.or_(sa.func.lower(User.username).like(like), sa.func.lower(User.display_name).like(like))
        )
    stmt = stmt.options(selectinload(User.enti)).order_by(User.username)
    return page_within(session, stmt, page, PAGE_SIZE)


def get_user(session: Session, principal: Principal, user_id: int) -> User | None:
    return session.scalar(sa.select(User).where(User.id == user_id, _in_reach(principal)))


def user_events(session: Session, user_id: int, limit: int = 100) -> list[Event]:
    """The administration events about one user (created, changed, disabled, reset), newest first."""
    stmt = (
        sa.select(Event)
        .where(Event.kind.like("user.%"), Event.payload["user_id"].as_integer() == user_id)
        .order_by(Event.occurred_dt.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
