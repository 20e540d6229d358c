"""Every persona walks every link of its navigation (and of the sub-navigations those pages show) in a real
browser at 1280 px: no console error (CSP violations included), no link answering 403 or 404, no page that
scrolls sideways. Staff roles also open a taxpayer card, whose panels are HTMX swaps."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from app.demo.seed import MARIO_ROSSI_CF, USERS
from tests.browser.support import login

pytestmark = pytest.mark.browser

PERSONAS = [username for username, *_ in USERS]
NAV_LINKS = "#esa-nav a.nav-link[href]"
MENU_LINKS = "#esa-nav a.nav-link[href], #esa-nav a.dropdown-item[href]"  # the dropdowns' entries too
SUBNAV_LINKS = "main nav a.nav-link[href]"  # the tab bars (payments, administration)
FOOTER_LINKS = "#footer a[href^='/']"  # privacy notice, accessibility statement
HORIZONTAL_SCROLL = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def _path(page: Page, href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _hrefs(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(a => a.href)")


def _visit(page: Page, path: str, problems: list[str]) -> None:
    response = page.goto(path)
    page.wait_for_load_state("networkidle")  # the HTMX panels loaded on "load"
    page.evaluate("() => document.fonts.ready.then(() => true)")  # measure with the final fonts
    status = response.status if response else 0
    if status in (403, 404) or status >= 500:
        problems.append(f"{path}: HTTP {status}")
    if page.evaluate(HORIZONTAL_SCROLL):
        width = page.evaluate("() => document.documentElement.scrollWidth")
        problems.append(f"{path}: scorre in orizzontale a 1280 px (larghezza {width})")


@pytest.mark.parametrize("username", PERSONAS)
def test_each_persona_walks_its_navigation_without_errors(
    browser: Browser, browser_context_args: dict, live_app, username: str
) -> None:
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": 1280, "height": 900}})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(f"{page.url}: console {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    try:
        login(page, live_app, username)
        page.wait_for_load_state("networkidle")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        if page.evaluate(HORIZONTAL_SCROLL):
            problems.append("home: scorre in orizzontale a 1280 px")
        nav = [_path(page, h) for h in _hrefs(page, MENU_LINKS)]
        assert nav, "no navigation links"
        nav += [_path(page, h) for h in _hrefs(page, FOOTER_LINKS)]
        seen: set[str] = set()
        queue = list(nav)
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            _visit(page, path, problems)
            queue.extend(p for p in (_path(page, h) for h in _hrefs(page, SUBNAV_LINKS)) if p not in seen)
        # the menu must not be cut: every top-level link is inside the viewport
        page.goto("/")
        for link in page.locator(NAV_LINKS).all():
            box = link.bounding_box()
            if box is None or box["x"] + box["width"] > 1280:
                problems.append(f"voce di menu fuori schermo: {link.inner_text().strip()}")
        if username not in ("contribuente",):
            page.goto(f"/contribuenti/?q={MARIO_ROSSI_CF}")
            card = page.get_by_test_id("search-results").get_by_role("link", name=MARIO_ROSSI_CF)
            if card.count():
                _visit(page, _path(page, card.first.get_attribute("href") or ""), problems)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
