"""One page of a list with its total: `page_within` runs the count and the page of an ordered statement, a
page past the last one being the last one (a bookmarked `?pagina=9` after rows went away still shows rows);
`Page` is the shape templates/_macros/forms.html `pagination` reads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.db import count_rows


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list with its total count."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return last_page(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def last_page(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def page_within(
    session: Session, stmt: sa.Select, page: int, per_page: int, *, mappings: bool = False
) -> Page:
    """One page of `stmt` (ordered by the caller) with its total; a page before the first is the first, one
    past the last is the last. Items are the ORM objects of `stmt` (its first column), or with `mappings`
    one dict per row (a statement of labelled columns)."""
    total = count_rows(session, stmt)
    page = min(max(1, page), last_page(total, per_page))
    window = stmt.limit(per_page).offset((page - 1) * per_page)
    if mappings:
        items: list[Any] = [dict(row) for row in session.execute(window).mappings()]
    else:
        items = list(session.scalars(window))
    return Page(items=items, page=page, per_page=per_page, total=total)
