"""Messages in a real browser: on the card, a send to a channel without consent is not sent and says why
(no page reload), the preview shows the text; the messages list and the templates page; axe-core finds no
WCAG violation on any of them, and the console stays clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.support import login, open_card_section
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def test_refused_send_preview_list_and_templates(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.goto(f"/contribuenti/?q={MARIO_ROSSI_CF}")
    page.get_by_test_id("search-results").get_by_role("link", name=MARIO_ROSSI_CF).click()
    open_card_section(page, "messaggi")
    section = page.locator("#messaggi")
    form = section.get_by_test_id("message-send-form")
    form.wait_for()
    channels = section.get_by_test_id("card-channels")
    expect(channels).to_contain_text("Il contribuente non ha dato il consenso agli SMS")
    assert violations(page) == []
    page.evaluate("window.__sameDocument = true")

    form.get_by_label("Canale").select_option(label="PEC")
    form.get_by_label("Modello").select_option(label="Risposta a una richiesta")
    answer = form.get_by_label("Testo della risposta (per «Risposta a una richiesta»)")
    answer.fill("La sua istanza è accolta.")
    form.get_by_role("button", name="Anteprima").click()
    preview = section.get_by_test_id("message-preview")
    expect(preview).to_contain_text("Anteprima via PEC")
    expect(preview).to_contain_text("La sua istanza è accolta.")

    form.get_by_label("Canale").select_option(label="SMS")
    form.get_by_role("button", name="Invia messaggio").click()
    expect(section.get_by_test_id("message-outcome")).to_have_text(
        "Messaggio non inviato: Il contribuente non ha dato il consenso agli SMS."
    )
    expect(section.get_by_test_id("card-messages")).to_contain_text("Non inviato")
    assert page.evaluate("window.__sameDocument") is True  # HTMX: no page reload

    page.locator("#esa-nav").get_by_role("button", name="Relazione").click()  # the menu's dropdown
    page.locator("#esa-nav").get_by_role("link", name="Messaggi", exact=True).click()
    expect(page.get_by_test_id("message-rows")).to_contain_text(MARIO_ROSSI_CF)
    assert violations(page) == []
    page.get_by_role("link", name="Modelli e regole di invio").click()
    page.get_by_role("button", name="Crea i modelli predefiniti").click()
    expect(page.get_by_test_id("template-rows")).to_contain_text("Promemoria di scadenza")
    assert violations(page) == []
    page.get_by_role("link", name="v1 · modifica").first.click()
    expect(page).to_have_url(re.compile(r"/messaggi/modelli/\d+$"))
    page.wait_for_load_state()  # htmx set up (scripts at the end of the page): a click before does nothing
    page.get_by_role("button", name="Anteprima").click()
    expect(page.locator("#modello-anteprima")).to_contain_text("Mario Rossi")
    assert violations(page) == []
    assert errors == []
