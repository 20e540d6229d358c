"""Reads of the knowledge base, through the scoping helper: a user sees the articles of their enti and those
for every ente. Search goes through `search/` (indexing.py); the hits are re-read here, scoped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import holidays
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.paging import Page, page_within
from app.crm.knowledge.models import WEEKDAYS, Article

PAGE_SIZE = 20


def _valid(day: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(Article.valid_from <= day, sa.or_(Article.valid_to.is_(None), Article.valid_to >= day))


def list_articles(
    session: Session,
    principal: Principal,
    *,
    day: dt.date,
    kind: str | None = None,
    tag: str | None = None,
    include_expired: bool = False,
    page: int = 1,
) -> Page:
    stmt = scoped(sa.select(Article), Article, principal)
    if not include_expired:
        stmt = stmt.where(_valid(day))
    if kind:
        stmt = stmt.where(Article.kind == kind)
    if tag:
        stmt = stmt.where(sa.func.lower(Article.tags).contains(tag.strip().lower()))
    return page_within(session, stmt.order_by(Article.updated_dt.desc(), Article.id.desc()), page, PAGE_SIZE)


@dataclass(frozen=True, slots=True)
class Found:
    article: Article
    highlight: str


def search_articles(
    session: Session,
    principal: Principal,
    query: str,
    ente_codes: list[str],
    *,
    kind: str | None = None,
    page: int = 1,
) -> tuple[int, list[Found]]:
    """Italian full text (stemming: a plural finds the singular), in the user's enti and the common ones."""
    from app.crm.knowledge.indexing import find

    result = find(query, ente_codes, kind=kind, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    ids = [h.document for h in result.hits]
    rows = (
        {
            a.id: a
            for a in session.scalars(
                scoped(sa.select(Article), Article, principal).where(Article.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return result.total, [Found(rows[h.document], h.highlight) for h in result.hits if h.document in rows]


def get_article(session: Session, principal: Principal, article_id: int) -> Article | None:
    return session.scalars(
        scoped(sa.select(Article), Article, principal).where(Article.id == article_id)
    ).first()


def related_to_entrate(
    session: Session, principal: Principal, entrata_codes: set[str], *, day: dt.date, limit: int = 6
) -> list[Article]:
    """Valid articles tagged with one of the taxpayer's entrate, then the common office hours and contacts."""
    rows = list(
        session.scalars(
            scoped(sa.select(Article), Article, principal)
            .where(_valid(day))
            .order_by(Article.updated_dt.desc())
            .limit(300)
        )
    )
    codes = {c.upper() for c in entrata_codes}
    tagged = [a for a in rows if codes & {e.upper() for e in a.entrata_list}]
    offices = [a for a in rows if a.kind in ("orari", "contatti") and a not in tagged]
    return (tagged + offices)[:limit]


def related_to_ticket(
    session: Session, principal: Principal, ticket: Any, *, limit: int = 5
) -> list[Article]:
    """Articles for the agent handling a ticket: full text on its subject (any word), then its category."""
    from app.crm.knowledge.indexing import find
    from app.enti.queries import list_enti

    codes = [e.code for e in list_enti(session, principal.ente_ids)]
    words = [w for w in "".join(c if c.isalnum() else " " for c in ticket.subject).split() if len(w) > 3]
    found: list[Article] = []
    seen: set[int] = set()
    for word in words[:6]:
        for hit in find(word, codes, limit=5).hits:
            if hit.document not in seen:
                seen.add(hit.document)
        if len(seen) >= limit:
            break
    if seen:
        found = list(
            session.scalars(
                scoped(sa.select(Article), Article, principal).where(
                    Article.id.in_(seen), _valid(ticket.opened_dt.date())
                )
            )
        )
    if len(found) < limit:
        more = session.scalars(
            scoped(sa.select(Article), Article, principal)
            .where(sa.func.lower(Article.tags).contains(ticket.category))
            .limit(limit)
        )
        found += [a for a in more if a.id not in seen]
    return found[:limit]


@dataclass(frozen=True, slots=True)
class OpeningDay:
    day: dt.date
    weekday: str
    hours: str | None  # None: closed
    closed_reason: str | None


def opening_days(article: Article, start: dt.date, days: int = 14) -> list[OpeningDay]:
    """The office's next days: its weekly hours, closed on the Italian national holidays (`holidays`)."""
    national = holidays.country_holidays("IT", years=range(start.year, start.year + 2), language="it_IT")
    out = []
    for n in range(days):
        day = start + dt.timedelta(days=n)
        hours = (article.office_hours or {}).get(str(day.weekday())) or None
        reason = None
        if day in national:
            reason, hours = f"Festività: {national.get(day)}", None
        elif not hours:
            reason = "Chiuso"
        out.append(OpeningDay(day, WEEKDAYS[day.weekday()], hours, reason))
    return out
