"""In a real browser: filtering the positions list with HTMX re-renders its count and export links with the
filters, and the downloaded file holds exactly the filtered positions; the call center sees no export link."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.reports.formatting import format_int
from tests.browser.support import login

pytestmark = pytest.mark.browser


def busiest_state(live_app) -> tuple[str, int]:
    """The state with most positions of R01 (so the filter keeps rows and leaves others out)."""
    from app.enti.models import Ente
    from app.extensions import db
    from app.positions.models import Position

    with live_app.app_context():
        return db.session.execute(
            sa.select(Position.state, sa.func.count())
            .join(Ente, Ente.id == Position.ente_id)
            .where(Ente.code == "R01")
            .group_by(Position.state)
            .order_by(sa.func.count().desc())
        ).first()


def test_filtering_with_htmx_carries_the_filters_into_the_export(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    state, count = busiest_state(live_app)
    login(page, live_app, "backoffice")
    page.goto("/posizioni/")
    total = page.get_by_test_id("position-count").inner_text()
    page.locator("#f-ente").select_option("R01")
    page.locator("#f-stato").select_option(state)
    page.get_by_role("button", name="Filtra").click()
    label = "posizione" if count == 1 else "posizioni"
    expect(page.get_by_test_id("position-count")).to_have_text(f"{format_int(count)} {label}")
    assert page.get_by_test_id("position-count").inner_text() != total
    csv_link = page.get_by_test_id("export-links").get_by_role("link", name="CSV")
    query = parse_qs(urlsplit(csv_link.get_attribute("href")).query)
    assert query == {"ente": ["R01"], "stato": [state]}
    assert re.search(rf"ente=R01.*stato={state}", page.url)  # hx-push-url: the address follows too
    with page.expect_download() as download:
        csv_link.click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    assert len(rows) == count
    assert {r["Ente"] for r in rows} == {"R01"} and {r["Stato"] for r in rows} == {state}
    assert errors == []


def test_the_call_center_sees_no_export_link(page: Page, live_app) -> None:
    login(page, live_app, "callcenter")
    page.goto("/posizioni/")
    expect(page.get_by_test_id("position-count")).to_be_visible()
    expect(page.get_by_text("Esporta")).to_have_count(0)
