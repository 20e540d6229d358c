"""The main flow in a real browser: login (with TOTP enrolment) -> search a codice fiscale -> the card."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from app.demo.seed import DEMO_PASSWORD, MARIO_ROSSI_CF

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def login_with_totp(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("heading", name="Attiva la verifica in due passaggi")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("Codice di verifica (6 cifre)").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Attiva").click()


def test_login_search_codice_fiscale_and_open_the_card(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login_with_totp(page, "sportello")
    expect(page.get_by_role("heading", name=re.compile("Buongiorno"))).to_be_visible()

    # the search box in the header, on every page
    page.get_by_role("searchbox", name=re.compile("Cerca contribuente")).fill(MARIO_ROSSI_CF)
    page.keyboard.press("Enter")
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("Rossi Mario")
    results.get_by_role("link", name=MARIO_ROSSI_CF).click()

    expect(page.get_by_test_id("card-name")).to_have_text("Rossi Mario")
    positions = page.get_by_test_id("card-positions")
    expect(positions).to_be_visible()
    expect(positions).to_contain_text("R01-")
    expect(page.get_by_test_id("card-total-due")).to_contain_text("€")
    expect(page.get_by_role("heading", name="Cronologia")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "scheda-contribuente.png"), full_page=True)
    assert [e for e in errors if "Content Security Policy" in e] == []
    assert errors == []


def test_a_malformed_codice_fiscale_shows_an_italian_message(page: Page) -> None:
    login_with_totp(page, "callcenter")
    page.goto("/contribuenti/")
    page.locator("#q").fill("RSSMRA80A01H501X")
    page.locator("#main-content").get_by_role("button", name="Cerca", exact=True).click()
    expect(page.get_by_test_id("search-error")).to_contain_text("il carattere di controllo non corrisponde")
