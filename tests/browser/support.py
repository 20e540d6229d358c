"""What every browser test does the same way: log a user in on a fresh session, and open a page from the main
navigation.

A login starts from no cookies: the page's context may hold an earlier login of the same test (another user's,
or one the server has ended since: a logout ends every session of that user, a change of role, enti, password
or status ends them too, app/auth/models.py). It is done when the header's user menu names the user, so a
test never goes on from the login page. The navigation clicks inside `#esa-nav` (never a link of the same name
in the page) and waits for the page's address, so a session that ended under the test shows as the login
page's address, not as a link missing 30 seconds later."""

from __future__ import annotations

import re
from re import Pattern

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.demo.seed import DEMO_PASSWORD
from tests.conftest import unused_totp_code

TOTP_FIELD = "Codice di verifica (6 cifre)"


def login(page: Page, app, username: str) -> None:
    """Password; then, for staff, the TOTP: the enrolment on a first login, otherwise a code of the enrolled
    secret not accepted yet (another test may have logged this user in within the same 30 seconds)."""
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        display_name = db.session.scalars(sa.select(User.display_name).where(User.username == username)).one()
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    menu = page.locator("#esa-user-menu-button")
    code = page.get_by_label(TOTP_FIELD)
    code.or_(menu).wait_for()
    if code.count():
        enrol = page.get_by_test_id("totp-secret")
        if enrol.count():
            secret = enrol.inner_text().strip()
        else:
            with app.app_context():
                query = sa.select(User.totp_secret).where(User.username == username)
                secret = db.session.scalars(query).one()
        code.fill(unused_totp_code(app, username, secret))
        page.get_by_role("button", name=re.compile("^(Attiva|Verifica)$")).click()
    expect(menu).to_contain_text(display_name)


def open_from_nav(page: Page, label: str, url: str | Pattern[str]) -> None:
    """Click the main navigation's `label`, wait for the page at `url` (a pattern: its path) and for its
    scripts (htmx and app.js set up: a click or a drop before that does nothing)."""
    page.locator("#esa-nav").get_by_role("link", name=label, exact=True).click()
    expect(page).to_have_url(url)
    page.wait_for_load_state()


def open_card_section(page: Page, key: str) -> None:
    """Open one of the taxpayer card's lower sections (a closed accordion item whose fragment loads on the
    first click of its header: "pagamenti", "contatti", "messaggi", "documenti", "verifiche", "conoscenza"),
    once the card's scripts are set up (htmx binds the header's click when the page has loaded)."""
    page.wait_for_load_state()
    button = page.get_by_test_id(f"card-open-{key}")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
