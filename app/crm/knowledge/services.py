"""Use cases of the knowledge base: write or edit an article (the previous version kept by the history,
the search index changed in the same transaction), and turn a resolved ticket's solution into one. Never
commits."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.core.audit import Actor
from app.core.errors import DomainError
from app.crm.knowledge import indexing
from app.crm.knowledge.models import KINDS, Article

HOURS = re.compile(r"^\s*\d{2}:\d{2}-\d{2}:\d{2}(\s*,\s*\d{2}:\d{2}-\d{2}:\d{2})*\s*$")


@dataclass(frozen=True, slots=True)
class ArticleData:
    kind: str
    title: str
    body: str
    ente_id: int | None
    ente_code: str | None
    valid_from: dt.date
    valid_to: dt.date | None = None
    tags: str = ""
    entrate: str = ""
    office_name: str | None = None
    office_hours: dict[str, str] = field(default_factory=dict)
    source_ticket_id: int | None = None


def _normal_list(text: str, *, upper: bool = False) -> str:
    items = [t.strip() for t in text.split(",") if t.strip()]
    return ",".join(dict.fromkeys(t.upper() if upper else t.lower() for t in items))[:500]


def _check(data: ArticleData) -> None:
    if data.kind not in KINDS:
        raise DomainError(f"Tipo di articolo non ammesso: {data.kind}.")
    if not data.title.strip():
        raise DomainError("Titolo: obbligatorio.")
    if not data.body.strip():
        raise DomainError("Testo: obbligatorio.")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise DomainError("Valido fino al: deve seguire la data di inizio validità.")
    for weekday, hours in data.office_hours.items():
        if hours and not HOURS.match(hours):
            raise DomainError(
                f"Orari del giorno {int(weekday) + 1}: scrivere ad esempio 09:00-13:00, 14:00-16:30."
            )


def save_article(
    session: Session, article: Article | None, data: ArticleData, actor: Actor, *, now: dt.datetime
) -> Article:
    _check(data)
    if article is None:
        article = Article(
            author_user_id=actor.user_id, author_label=actor.label[:200], created_dt=now, version=0
        )
        session.add(article)
    article.kind = data.kind
    article.title = data.title.strip()[:200]
    article.body = data.body.strip()
    article.ente_id = data.ente_id
    article.valid_from = data.valid_from
    article.valid_to = data.valid_to
    article.tags = _normal_list(data.tags)
    article.entrate = _normal_list(data.entrate, upper=True)
    article.office_name = (data.office_name or "").strip()[:200] or None
    article.office_hours = {k: v.strip() for k, v in data.office_hours.items() if v and v.strip()}
    article.updated_dt = now
    article.version = (article.version or 0) + 1
    if data.source_ticket_id is not None:
        article.source_ticket_id = data.source_ticket_id
    session.flush()
    indexing.backend().index([indexing.search_doc(article, data.ente_code)])
    return article


def draft_from_ticket(ticket: object, today: dt.date) -> dict[str, object]:
    """The prefilled form of an article made from a resolved ticket's solution (one click on the ticket)."""
    t = ticket
    return {
        "kind": "faq",
        "title": getattr(t, "subject", "")[:200],
        "body": f"Domanda: {getattr(t, 'description', '')}\n\nRisposta: {getattr(t, 'solution', '') or ''}",
        "tags": getattr(t, "category", ""),
        "valid_from": today,
        "ente_id": getattr(t, "ente_id", None),
        "source_ticket_id": getattr(t, "id", None),
    }
