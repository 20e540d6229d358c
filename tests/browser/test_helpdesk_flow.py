"""The help desk in a real browser: an administrator takes a call (intake), opens the ticket, takes it in
charge, answers, resolves it with the solution, turns the solution into a knowledge-base article, and reads
the SLA report with its charts; no console error, no WCAG violation on the ticket and the report."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def test_from_intake_to_resolution_and_the_sla_report(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.locator("#esa-nav").get_by_role("button", name="Relazione").click()  # the menu's dropdown
    page.locator("#esa-nav").get_by_role("link", name="Assistenza", exact=True).click()
    page.get_by_test_id("new-ticket").click()
    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    page.locator("#channel").select_option(value="telefono")
    page.locator("#category").select_option(value="pagamenti")
    page.locator("#urgency").select_option(value="alta")
    page.get_by_label("Oggetto").fill("Avviso pagato ma posizione aperta")
    page.get_by_label("Descrizione").fill("Il contribuente ha pagato con pagoPA il 2 dicembre.")
    page.locator("#requester_kind").select_option(value="contribuente")
    page.get_by_label("Nome del richiedente").fill("Mario Rossi")
    page.get_by_role("button", name="Apri la segnalazione").click()

    reference = page.get_by_test_id("ticket-reference")
    expect(reference).to_have_text(re.compile(r"^TT-\d{4}-\d{6}$"))
    expect(page.get_by_test_id("ticket-status")).to_have_text("Nuovo")
    expect(page.get_by_test_id("clock-response")).to_contain_text("60 min lavorativi")
    assert violations(page) == []

    status = page.get_by_test_id("status-form")
    status.locator("#to").select_option(value="in_carico")
    status.get_by_role("button", name="Cambia stato").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("In carico")

    comment = page.get_by_test_id("comment-form")
    comment.get_by_label("Commento").fill("Verifichiamo il flusso di rendicontazione del PSP.")
    comment.locator("label[for=internal]").click()  # Bootstrap Italia: the label covers the checkbox
    expect(comment.get_by_label("Nota interna (non visibile al richiedente)")).to_be_checked()
    comment.get_by_role("button", name="Aggiungi commento").click()
    expect(page.get_by_test_id("internal-note")).to_contain_text("flusso di rendicontazione")

    status = page.get_by_test_id("status-form")
    status.locator("#to").select_option(value="risolto")
    status.get_by_label("Soluzione adottata (obbligatoria per risolvere)").fill(
        "Pagamento riconciliato dal flusso FdR del 3 dicembre."
    )
    status.get_by_role("button", name="Cambia stato").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Risolto")
    expect(page.get_by_test_id("solution")).to_contain_text("riconciliato")
    expect(page.get_by_test_id("history")).to_contain_text("In carico → Risolto")

    # the solution becomes a knowledge-base article in one click, prefilled
    page.get_by_test_id("to-article").click()
    expect(page.get_by_label("Titolo")).to_have_value("Avviso pagato ma posizione aperta")
    page.get_by_role("button", name="Pubblica").click()
    expect(page.get_by_test_id("article-body")).to_contain_text("riconciliato")

    page.goto("/assistenza/report")
    expect(page.get_by_test_id("report-opened")).not_to_have_text("0")
    canvas = page.get_by_test_id("chart-month")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('[data-testid=chart-month]'))"
    )
    expect(page.get_by_test_id("report-class")).to_contain_text("Alta")
    assert violations(page) == []
    with page.expect_download() as download:
        page.get_by_test_id("export-links").get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert errors == []
