"""Knowledge-base articles. An article is for one ente or for all (`ente_id` NULL), valid between two dates,
tagged (free tags, entrata codes and topics, so the card can show the ones related to a taxpayer), written
by someone; every edit keeps the previous version (`__versioned__`, app/core/history.py). An `orari` article
carries the office hours of a sportello as structured data (`office_hours`: weekday -> "09:00-13:00, ...")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core import access
from app.core.db import Base, CreatedMixin, JsonDoc, UTCDateTime, utcnow

KINDS: dict[str, str] = {
    "notizia": "Notizia",
    "orari": "Orari di sportello",
    "contatti": "Contatti degli uffici",
    "faq": "Domanda frequente (FAQ)",
    "procedura": "Procedura",
}
WEEKDAYS: dict[int, str] = {
    0: "Lunedì",
    1: "Martedì",
    2: "Mercoledì",
    3: "Giovedì",
    4: "Venerdì",
    5: "Sabato",
    6: "Domenica",
}


class Article(CreatedMixin, Base):
    __tablename__ = "kb_articles"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enti.id"), index=True)  # None: every ente
    kind: Mapped[str] = mapped_column(sa.String(12))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    tags: Mapped[str] = mapped_column(sa.String(500), default="")  # comma-separated, lower case
    entrate: Mapped[str] = mapped_column(sa.String(500), default="")  # entrata codes, comma-separated
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    office_name: Mapped[str | None] = mapped_column(sa.String(200))  # orari: the sportello
    office_hours: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # {"0": "09:00-13:00", ...}
    author_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(sa.String(200))
    updated_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source_ticket_id: Mapped[int | None] = mapped_column(sa.Integer)  # a help-desk ticket's solution
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('notizia','orari','contatti','faq','procedura')", name="kind"),
    )

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (x.strip() for x in self.tags.split(",")) if t]

    @property
    def entrata_list(self) -> list[str]:
        return [t for t in (x.strip() for x in self.entrate.split(",")) if t]

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _article_ente(test: Any) -> sa.ColumnElement[bool]:
    """An article for every ente (no ente) is everyone's; otherwise its ente's."""
    return sa.or_(Article.ente_id.is_(None), test(Article.ente_id))


# Staff see the articles of their enti and those for all; taxpayer accounts none (taxpayer: not declared).
access.register_scope(Article, ente=_article_ente)
