"""The escalation's proposals review in a real browser (issue 14 item 3): the steps with their counts and
totals, one step's sample, one position excluded (its row leaves the sample), the rest approved as an act
campaign. Any console error (CSP included) fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login

pytestmark = pytest.mark.browser


def test_backoffice_reviews_excludes_one_and_approves_a_step(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_app, "backoffice")

    page.goto("/escalation/proposte")
    groups = page.get_by_test_id("escalation-groups")
    expect(groups).to_be_visible()  # the demo seed computed today's proposals
    groups.get_by_role("link", name=re.compile("Esamina")).first.click()

    count = page.get_by_test_id("escalation-count")
    before = int(count.inner_text().replace(".", ""))
    sample = page.get_by_test_id("escalation-sample")
    first = sample.locator("tbody tr").first
    row_id = first.get_attribute("data-testid")
    first.get_by_label("Motivo dell'esclusione").fill("verifica in corso allo sportello")
    first.get_by_role("button", name=re.compile("Escludi")).click()
    expect(page.get_by_text("Posizione esclusa dalla proposta.")).to_be_visible()
    expect(page.get_by_test_id(row_id)).to_have_count(0)
    expect(page.get_by_test_id("escalation-excluded")).to_contain_text("verifica in corso allo sportello")
    if before > 1:
        expect(count).to_have_text(re.compile(f"^{before - 1:,}$".replace(",", ".")))
        page.get_by_test_id("escalation-approve").click()
        approved = re.compile(r"Proposte approvate: campagna n\. \d+ avviata\.")
        expect(page.get_by_text(approved)).to_be_visible()
    assert errors == []
