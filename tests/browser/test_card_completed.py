"""The completed card in a real browser (issue 12 point 3): the quick actions, the timeline filtered by group
with no page reload, "mostra altri", the estratto conto download; axe-core finds no serious or critical
violation on the card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.core.timeline import group_of
from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.support import login, open_card_section
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def _mario(app) -> int:
    import sqlalchemy as sa

    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        stmt = sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        return db.session.scalars(stmt).one()


def test_quick_actions_and_the_timeline_filter_on_the_card(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    mario = _mario(live_app)
    login(page, live_app, "admin")
    page.goto(f"/contribuenti/{mario}")
    page.get_by_test_id("card-positions").wait_for()
    page.locator("#plan-panel form").wait_for()
    open_card_section(page, "documenti")
    page.get_by_test_id("card-documents-section").locator("h2").wait_for()

    serious = [v for v in violations(page) if v[1] in ("serious", "critical")]
    assert serious == []

    bar = page.get_by_test_id("quick-actions")
    for name in ("Carica documento", "Simula rateazione", "Stampa estratto conto (PDF)"):
        expect(bar.get_by_text(name, exact=True)).to_be_visible()
    # a quick action to a closed section opens it (and loads it) first
    bar.get_by_text("Invia messaggio", exact=True).click()
    expect(page.get_by_test_id("card-open-messaggi")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#messaggi").get_by_test_id("message-send-form")).to_be_visible()

    # the timeline by group, with no page reload
    page.evaluate("window.__sameDocument = true")
    timeline = page.get_by_test_id("card-timeline")
    timeline.locator('[data-timeline-group="posizioni"]').click()
    expect(
        page.get_by_test_id("card-timeline").locator('[data-timeline-group="posizioni"]')
    ).to_have_attribute("aria-pressed", "true")
    kinds = page.locator("[data-event-kind]").evaluate_all("items => items.map(i => i.dataset.eventKind)")
    # the positions' group: their own events and the slices' registered with it (escalation, plans, ...)
    assert kinds and all(group_of(k) == "posizioni" for k in kinds), kinds
    page.get_by_test_id("card-timeline").locator('[data-timeline-group="pagamenti"]').click()
    expect(
        page.get_by_test_id("card-timeline").locator('[data-timeline-group="pagamenti"]')
    ).to_have_attribute("aria-pressed", "true")
    kinds = page.locator("[data-event-kind]").evaluate_all("items => items.map(i => i.dataset.eventKind)")
    assert all(k.startswith("payment.") for k in kinds), kinds
    page.get_by_test_id("card-timeline").locator('[data-timeline-group="tutti"]').click()
    expect(page.get_by_test_id("card-timeline").locator('[data-timeline-group="tutti"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.evaluate("window.__sameDocument") is True  # HTMX swapped the section, no reload
    assert [v for v in violations(page) if v[1] in ("serious", "critical")] == []

    # "Simula rateazione" jumps to the plan panel of the same card
    bar.get_by_text("Simula rateazione", exact=True).click()
    expect(page).to_have_url(re.compile(r"#plan-panel$"))
    expect(page.locator("#plan-panel")).to_be_in_viewport()

    # the estratto conto downloads as a PDF and is then on the timeline
    with page.expect_download() as download:
        bar.get_by_role("button", name="Stampa estratto conto (PDF)").click()
    assert download.value.suggested_filename.startswith(f"estratto_conto_{MARIO_ROSSI_CF}")
    page.goto(f"/contribuenti/{mario}")
    expect(page.get_by_test_id("card-timeline")).to_contain_text("Estratto conto stampato")

    # "Carica documento" opens the archive's upload for this taxpayer
    page.get_by_test_id("quick-actions").get_by_text("Carica documento", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/archivio/nuovo\?contribuente={mario}$"))
    assert errors == []
