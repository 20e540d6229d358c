"""Done when of issue 14 item 4 in a real browser: a back-office operator starts a fermo from the position's
page (the PRA is not configured here: the vehicle typed in, its source says so), records the notification of
the preavviso, is refused the iscrizione before the 30 days, registers it after them, takes the payment at
the desk, requests the cancellation and records it. Any console error fails the test; axe-core finds no
serious or critical violation on the procedure's page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login
from tests.browser.test_accessibility import violations
from tests.payments.support import euro

pytestmark = pytest.mark.browser


def _step(page: Page, operation: str, day: dt.date) -> None:
    form = page.get_by_test_id(f"op-{operation}")
    form.get_by_label("Data").fill(day.isoformat())
    form.get_by_role("button").click()


def test_fermo_from_preavviso_to_cancellation(page: Page, live_app) -> None:
    from app.extensions import db
    from app.positions.amounts import amount_due, today_rome
    from tests.procedures.support import make_position

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    today = today_rome()
    with live_app.app_context():
        position = make_position(db.session, capitale_cents=64_000, cf="RSSMRA80A01H501U")
        position_id, external_id = position.id, position.external_id
        db.session.commit()
    login(page, live_app, "admin")

    page.goto(f"/posizioni/{position_id}")
    page.get_by_test_id("start-procedure").click()
    page.get_by_test_id("procedure-kinds").get_by_role("link", name="Fermo amministrativo").click()
    form = page.get_by_test_id("procedure-start-form")
    form.get_by_label("Data dell'atto").fill((today - dt.timedelta(days=60)).isoformat())
    form.get_by_label("Targa (inserimento manuale)").fill("FE123RM")
    form.get_by_label("Descrizione del veicolo").fill("Autovettura Fiat Punto")
    form.get_by_test_id("procedure-start").click()

    expect(page.get_by_test_id("procedure-state")).to_have_text("Preavviso emesso")
    expect(page.get_by_test_id("procedure-vehicle")).to_contain_text("inserito dall'operatore")
    expect(page.get_by_test_id("procedure-steps")).to_contain_text("Preavviso di fermo amministrativo prot.")
    expect(page.get_by_test_id("procedure-costs")).to_have_text("6,00 €")
    detail_url = page.url
    assert [v for v in violations(page) if v[1] in ("serious", "critical")] == []

    _step(page, "notifica_preavviso", today - dt.timedelta(days=55))
    expect(page.get_by_test_id("procedure-state")).to_have_text("Preavviso notificato")
    _step(page, "iscrizione", today - dt.timedelta(days=30))  # the 30 days end tomorrow-minus-25
    expect(page.get_by_test_id("procedure-refused")).to_contain_text("art. 187")
    _step(page, "iscrizione", today - dt.timedelta(days=20))
    expect(page.get_by_test_id("procedure-state")).to_have_text("Fermo iscritto")

    with live_app.app_context():
        due = amount_due(db.session, db.session.get(type(position), position_id), today).total_cents
    page.goto(f"/pagamenti/sportello?posizione={position_id}")
    desk = page.get_by_test_id("desk-form")
    desk.locator("#ente").select_option("R01")
    desk.locator("#reference").fill(external_id)
    desk.locator("#amount").fill(euro(due))
    page.get_by_role("button", name=re.compile("Registra e stampa la quietanza")).click()
    expect(page.get_by_test_id("receipt-link")).to_be_visible()

    page.goto(detail_url)
    _step(page, "richiesta_cancellazione", today)
    expect(page.get_by_test_id("procedure-state")).to_have_text("Cancellazione richiesta")
    _step(page, "cancellazione", today)
    expect(page.get_by_test_id("procedure-state")).to_have_text("Fermo cancellato")
    page.goto(f"/contribuenti/{_taxpayer(live_app, position_id)}")
    expect(page.get_by_test_id("card-procedures")).to_contain_text("FE123RM")
    assert errors == []


def _taxpayer(app, position_id: int) -> int:
    from app.extensions import db
    from app.positions.models import Position

    with app.app_context():
        return db.session.get(Position, position_id).taxpayer_id
