"""One access-log row per card view (app/core/card_view.py): the sections the card loads (at once, or when
their accordion item is opened) carry the token of its logged view and write no row; asked any other way
they log their own read."""

from __future__ import annotations

import html as html_lib
import json
import re

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from tests.test_access import taxpayer_id

LOAD = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="(?:load|click once)"')  # at once, or when opened
HEADERS = re.compile(r"hx-headers='([^']+)'")


def _rows(app, taxpayer: int) -> list[tuple[str, int | None]]:
    from app.core.audit import AccessLog
    from app.extensions import db

    with app.app_context():
        return [
            (r.action, r.user_id)
            for r in db.session.scalars(
                sa.select(AccessLog).where(AccessLog.taxpayer_id == taxpayer).order_by(AccessLog.id)
            )
        ]


def _open_card(client, taxpayer: int) -> tuple[list[str], dict[str, str]]:  # noqa: ANN001
    """The card page: the fragments it loads at once and the headers htmx sends with them."""
    page = client.get(f"/contribuenti/{taxpayer}").get_data(as_text=True)
    headers = {"HX-Request": "true"}
    for found in HEADERS.findall(page):
        headers.update(json.loads(html_lib.unescape(found)))
    return [html_lib.unescape(u) for u in LOAD.findall(page)], headers


def test_the_card_and_the_sections_it_loads_write_one_row(app, personas) -> None:
    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
    client = personas.client("backoffice")
    before = _rows(app, mario)
    urls, headers = _open_card(client, mario)
    assert "X-Esattoria-Scheda" in headers
    assert {"/pagamenti/", "/crm/", "/archivio/", "/messaggi/"} <= {"/" + u.split("/")[1] + "/" for u in urls}
    for url in urls:
        assert client.get(url, headers=headers).status_code == 200
    rows = _rows(app, mario)[len(before) :]
    assert [action for action, _ in rows] == ["card"]


def test_a_section_asked_without_a_valid_token_of_that_view_logs_its_read(app, personas) -> None:
    from app.demo.seed import SECOND_ENTE_CF

    with app.app_context():
        mario, other = taxpayer_id(MARIO_ROSSI_CF), taxpayer_id(SECOND_ENTE_CF)
    client = personas.client("backoffice")
    _, headers = _open_card(client, mario)
    token = headers["X-Esattoria-Scheda"]
    path = f"/pagamenti/contribuenti/{mario}"
    before = len(_rows(app, mario))
    assert client.get(path, headers={"HX-Request": "true"}).status_code == 200  # no token
    assert client.get(path, headers={"X-Esattoria-Scheda": token[:-2] + "xx"}).status_code == 200  # forged
    # another user with this view's token: the token names the user who opened the card
    assert personas.client("sportello").get(path, headers={"X-Esattoria-Scheda": token}).status_code == 200
    rows = _rows(app, mario)[before:]
    assert [action for action, _ in rows] == ["card_payments"] * 3
    assert len({user for _, user in rows}) == 2
    # the token of Mario's card does not cover another taxpayer's section
    _, other_headers = _open_card(client, other)
    before_other = len(_rows(app, other))
    client.get(f"/pagamenti/contribuenti/{other}", headers={"X-Esattoria-Scheda": token})
    assert [a for a, _ in _rows(app, other)[before_other:]] == ["card_payments"]
    assert other_headers["X-Esattoria-Scheda"] != token


def test_an_expired_token_no_longer_covers_a_section(app, personas, monkeypatch) -> None:
    from app.core import card_view

    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
    client = personas.client("backoffice")
    _, headers = _open_card(client, mario)
    monkeypatch.setattr(card_view, "CARD_VIEW_SECONDS", -1)
    before = len(_rows(app, mario))
    assert client.get(f"/archivio/contribuente/{mario}", headers=headers).status_code == 200
    assert [a for a, _ in _rows(app, mario)[before:]] == ["card_documents"]
