"""The desk form in a real browser (issue 10, point 6): once pressed, the button is disabled until the next
page, so a second click sends nothing; one payment, one quietanza (and the page says the button is busy)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, Route, expect

from tests.browser.support import login

pytestmark = pytest.mark.browser


def test_the_desk_button_is_disabled_while_the_payment_is_sent(page: Page, live_app) -> None:
    from app.extensions import db
    from app.payments.models import Payment
    from tests.payments.support import euro, open_positions

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    with live_app.app_context():
        (p,) = open_positions(db.session, skip=10)
    login(page, live_app, "sportello")
    page.goto("/pagamenti/sportello")
    form = page.get_by_test_id("desk-form")
    form.locator("#ente").select_option("R01")
    form.locator("#reference").fill(p.external_id)
    form.locator("#amount").fill(euro(150))

    held: list[Route] = []  # the POST waits here, as on a slow line, while the user clicks again

    def hold(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r".*/pagamenti/sportello$"), hold)
    button = page.get_by_role("button", name=re.compile("Registra e stampa la quietanza"))
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    assert len(held) == 1
    # (while a navigation is pending Playwright reads nothing of the page: the clicks and the requests they
    # send are what can be observed)
    page.mouse.click(x, y)  # the impatient second click: on a disabled button, it sends nothing
    page.wait_for_timeout(500)
    assert len(held) == 1
    held[0].continue_()

    expect(page.get_by_test_id("receipt-link")).to_be_visible()
    with live_app.app_context():
        payments = db.session.scalars(sa.select(Payment).where(Payment.position_id == p.id)).all()
        assert [x.amount_cents for x in payments] == [150]
    assert errors == []
