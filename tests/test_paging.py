"""The one paging of the lists (app/core/paging.py): the count and the page of an ordered statement, a page
before the first or past the last clamped, ORM objects or mapping rows."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.paging import Page, page_within
from app.enti.models import Ente


def test_a_page_past_the_last_is_the_last_and_one_before_the_first_is_the_first(session) -> None:
    stmt = sa.select(Ente).order_by(Ente.code)
    codes = list(session.scalars(sa.select(Ente.code).order_by(Ente.code)))
    assert len(codes) >= 2
    last = page_within(session, stmt, 999, 1)
    assert (last.page, last.pages, last.total) == (len(codes), len(codes), len(codes))
    assert [e.code for e in last.items] == codes[-1:] and last.has_prev and not last.has_next
    first = page_within(session, stmt, 0, 1)
    assert first.page == 1 and [e.code for e in first.items] == codes[:1] and not first.has_prev


def test_mapping_rows_and_an_empty_list(session) -> None:
    stmt = sa.select(Ente.code.label("codice")).order_by(Ente.code)
    page = page_within(session, stmt, 1, 50, mappings=True)
    assert page.items[0] == {"codice": page.items[0]["codice"]} and page.pages == 1
    empty = page_within(session, stmt.where(Ente.code == "NESSUNO"), 3, 50)
    assert empty == Page(items=[], page=1, per_page=50, total=0) and empty.pages == 1 and not empty.has_next
