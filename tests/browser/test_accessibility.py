"""axe-core (WCAG 2.0/2.1 A and AA) on the main screens, in Debian's chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.test_card_flow import login_with_totp

pytestmark = pytest.mark.browser
AXE = Path(__file__).with_name("vendor") / "axe.min.js"  # axe-core 4.14.1, MPL-2.0


def violations(page: Page) -> list[tuple[str, str, int]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not injected: our CSP forbids inline scripts
    result = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})")
    return [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]]


def test_login_search_and_card_have_no_wcag_violations(page: Page) -> None:
    page.goto("/login")
    assert violations(page) == []
    login_with_totp(page, "backoffice")
    page.goto(f"/contribuenti/?q={MARIO_ROSSI_CF}")
    assert violations(page) == []
    page.get_by_test_id("search-results").get_by_role("link", name=re.compile(MARIO_ROSSI_CF)).click()
    page.get_by_test_id("card-positions").wait_for()
    page.locator("#quote-panel form").wait_for()
    assert violations(page) == []
    page.goto("/posizioni/")
    assert violations(page) == []
