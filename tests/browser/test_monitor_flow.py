"""Issue 15 points 1-2 in a real browser: a Regione user opens the searches from the "Posizioni" menu, finds
Mario Rossi's positions by name, opens the position monitor and downloads its PDF dossier. Any console error
(CSP included) fails the test; axe-core finds no serious or critical violation on the monitor."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.support import login
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def test_search_by_name_then_monitor_then_dossier(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_app, "regione")

    nav = page.locator("#esa-nav")
    nav.get_by_role("button", name="Posizioni").click()
    nav.get_by_role("link", name="Ricerca posizioni").click()
    form = page.get_by_test_id("position-search-form")
    form.get_by_label("Cognome e nome o ragione sociale").fill("Rossi Mario")
    form.get_by_role("button", name="Cerca").click()
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text(MARIO_ROSSI_CF)
    results.get_by_role("link").first.click()

    expect(page.get_by_test_id("monitor-cf")).to_have_text(MARIO_ROSSI_CF)
    expect(page.get_by_test_id("section-movimenti")).to_be_visible()
    total = page.get_by_test_id("monitor-total").inner_text()
    assert total.endswith("€")
    assert [v for v in violations(page) if v[1] in ("serious", "critical")] == []
    with page.expect_download() as info:
        page.get_by_test_id("dossier-link").click()
    download = info.value
    assert download.suggested_filename.startswith("dossier_") and download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert errors == []
