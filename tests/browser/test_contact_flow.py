"""Done when of issue 12 (contact log) in a real browser: an agent finds a taxpayer by phone number in the
header search, registers a call from the card's Contatti section with no page reload, sees it on the
timeline and in the statistics (table and Chart.js chart). Any console error (CSP included) fails the test;
axe-core finds no serious or critical violation on the card with the section nor on the statistics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.support import login, open_card_section
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser

NOTE = "Chiede un piano di rateazione in dodici rate: richiamare giovedì"


def _serious(page: Page) -> list[tuple[str, str, int]]:
    return [v for v in violations(page) if v[1] in ("serious", "critical")]


def test_agent_finds_by_phone_registers_a_call_and_sees_it_everywhere(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_app, "admin")

    search = page.locator("#esa-search-q")
    search.fill("+39 06-555 1234")
    search.press("Enter")
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("Rossi Mario")
    expect(page.get_by_text("per numero di telefono")).to_be_visible()
    results.get_by_role("link", name=MARIO_ROSSI_CF).click()

    open_card_section(page, "contatti")
    section = page.locator("#contatti")
    expect(section.get_by_test_id("contact-form")).to_be_attached()
    page.evaluate("() => { window.__esaSamePage = true; }")  # gone if the page reloads
    section.get_by_test_id("contact-open").click()
    form = section.get_by_test_id("contact-form")
    form.get_by_label("Canale").select_option("telefono")
    form.get_by_label("Direzione").select_option("in")
    form.get_by_label("Argomento").select_option(label="Rateazione")
    form.get_by_label("Esito").select_option("da_richiamare")
    form.get_by_label("Durata (minuti)").fill("4")
    form.get_by_label("Note").fill(NOTE)
    form.get_by_test_id("contact-submit").click()

    expect(section.get_by_test_id("contact-recorded")).to_be_visible()
    expect(section.get_by_test_id("card-contacts")).to_contain_text(NOTE)
    assert page.evaluate("() => window.__esaSamePage === true"), "the page reloaded"
    assert _serious(page) == []

    page.reload()
    expect(page.locator("#h-timeline")).to_be_visible()
    timeline = page.locator("section[aria-labelledby='h-timeline']")
    expect(timeline).to_contain_text("Telefono in entrata · Rateazione · Da richiamare")

    page.goto("/crm/statistiche?dimensione=argomento")
    rows = page.get_by_test_id("stats-rows")
    expect(rows.get_by_role("row", name=re.compile(r"^Rateazione 2 "))).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('stats-chart')) !== undefined"
    )
    labels = page.evaluate("() => Chart.getChart(document.getElementById('stats-chart')).data.labels")
    assert "Rateazione" in labels
    assert _serious(page) == []
    page.goto("/crm/statistiche?dimensione=operatore")
    expect(page.get_by_test_id("stats-rows")).to_contain_text("Amministratore Demo")
    assert errors == []
