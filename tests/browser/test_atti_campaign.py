"""The acts' campaign screens in a real browser (admin): new campaign with criteria, preview with exclusions,
approve, the progress followed live (HTMX polling) while a worker issues the acts, the campaign's acts and an
act's page; the template editor's live preview. No console errors, no WCAG violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login
from tests.browser.test_accessibility import violations
from tests.browser.test_carichi_flow import _run_worker

pytestmark = pytest.mark.browser


def test_campaign_new_preview_approve_progress_and_acts(page: Page, live_app) -> None:
    from app.core.jobs import queue

    with live_app.app_context():
        queue("default").empty()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.get_by_role("link", name="Atti", exact=True).first.click()
    expect(page.get_by_role("heading", name="Atti", exact=True)).to_be_visible()
    page.get_by_role("link", name="Campagne").click()
    page.get_by_test_id("new-campaign").click()
    expect(page.get_by_role("heading", name="Nuova campagna di emissione")).to_be_visible()
    assert violations(page) == []
    page.get_by_label("Nome della campagna").fill("Solleciti tassa auto")
    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    page.locator("#act_type").select_option(label="Sollecito di pagamento")
    page.locator("#entrata_id").select_option(label="R01 – Tassa automobilistica")
    page.get_by_role("button", name="Prepara l'anteprima").click()

    expect(page.get_by_role("heading", name=re.compile("Campagna «Solleciti tassa auto»"))).to_be_visible()
    to_issue = int(page.get_by_test_id("to-issue").inner_text().replace(".", ""))
    assert to_issue > 0
    expect(page.get_by_test_id("samples").get_by_role("link").first).to_be_visible()
    assert violations(page) == []
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("campaign-status")).to_have_text("In corso")
    worker = _run_worker(live_app, "default")
    expect(page.get_by_test_id("campaign-status")).to_have_text("Completata", timeout=180_000)
    worker.join(timeout=60)
    expect(page.get_by_test_id("issued")).to_have_text(str(to_issue))
    assert violations(page) == []
    page.get_by_test_id("campaign-acts").click()
    expect(page.get_by_test_id("acts").locator("tbody tr")).to_have_count(min(to_issue, 50))
    page.get_by_test_id("acts").locator("tbody tr a").first.click()
    expect(page.get_by_test_id("act-notice")).to_have_text(re.compile(r"^\d{4} \d{4} \d{4} \d{4} \d{2}$"))
    assert violations(page) == []
    assert errors == []


def test_template_editor_live_preview(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.goto("/atti/modelli")
    page.get_by_test_id("templates").get_by_role("link", name="Ingiunzione fiscale").first.click()
    expect(page.get_by_test_id("preview-page").first).to_be_visible(timeout=30_000)
    assert violations(page) == []
    editor = page.get_by_label("Testo del modello (Typst)")
    editor.fill("#intestazione()\n\nTesto di prova\n#importi(\n")
    expect(page.get_by_test_id("preview-error")).to_contain_text("riga 4", timeout=30_000)
    assert errors == []
