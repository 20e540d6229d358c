"""Point 8 of issue 9, in a real browser: after an HTMX submission answered with a validation error the focus
is on the first invalid field; Escape closes the menu and gives the focus back to the button that opened it;
the HTMX panels of the card log no console error (CSP violations included)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.support import login

pytestmark = pytest.mark.browser


def _open_card(page: Page) -> None:
    page.goto(f"/contribuenti/?q={MARIO_ROSSI_CF}")
    page.get_by_test_id("search-results").get_by_role("link", name=MARIO_ROSSI_CF).click()
    page.wait_for_load_state("networkidle")


def _focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_focus_goes_to_the_first_invalid_field_after_an_htmx_validation_error(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "sportello")
    _open_card(page)
    page.locator("#quote-al").fill("")
    page.locator("#quote-panel").get_by_role("button", name="Calcola").click()
    expect(page.locator("#quote-al")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#quote-al")).to_be_focused()
    # a valid submission swaps the panel again: no focus jump, no console error
    page.locator("#quote-al").fill("2026-12-03")
    page.locator("#quote-panel").get_by_role("button", name="Calcola").click()
    expect(page.get_by_test_id("quote-result")).to_be_visible()
    # the interest periods fit the panel's column (no table wider than the card body)
    overflow = page.evaluate(
        """() => {
            const body = document.querySelector('#quote-panel .card-body');
            const table = document.querySelector('[data-testid="quote-segments"]');
            return table.getBoundingClientRect().right - body.getBoundingClientRect().right;
        }"""
    )
    assert overflow <= 0, f"the quote table sticks out of its column by {overflow} px"
    page.locator("#plan-rate").fill("6")
    page.locator("#plan-prima").fill("2027-01-31")
    page.locator("#plan-panel").get_by_role("button", name="Simula").click()
    expect(page.get_by_test_id("plan-result")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert errors == []


def test_escape_closes_the_mobile_menu_and_focus_returns_to_its_button(
    browser: Browser, browser_context_args: dict, live_app
) -> None:
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 800, "height": 900}})
    page = context.new_page()
    try:
        login(page, live_app, "backoffice")
        toggler = page.locator(".custom-navbar-toggler")
        toggler.click()
        expect(toggler).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#esa-nav")).to_have_class(re.compile("expanded"))
        page.wait_for_timeout(600)  # the opening transition
        page.locator("#esa-nav a.nav-link").first.focus()
        page.keyboard.press("Escape")
        expect(toggler).to_have_attribute("aria-expanded", "false")
        expect(toggler).to_be_focused()
    finally:
        context.close()


def test_escape_closes_the_user_menu_and_focus_returns_to_its_button(page: Page, live_app) -> None:
    login(page, live_app, "callcenter")
    button = page.locator("#esa-user-menu-button")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name="Esci").focus()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
