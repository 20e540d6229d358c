"""A rateazione from request to decadenza in a real browser (admin): the desk's request on a position, the
approval (the plan with one notice per installment), the daily check run for two days (the sollecito the rule
of L. 160/2019 c. 800 requires, then the decadenza), the plan's page and the card. No console errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.demo.seed import MARIO_ROSSI_CF
from tests.browser.support import login

pytestmark = pytest.mark.browser


def _position(live_app, first_due: dt.date, low: int = 10_001, high: int = 50_000) -> int:
    """A notified R01 position of someone else than the demo taxpayer, owing 100.01-500.00 euro then (or
    between `low` and `high` cents)."""
    from app.enti.models import Ente
    from app.extensions import db
    from app.payments.models import Payment
    from app.positions.amounts import amounts_due
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    with live_app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(Position)
                .join(Ente, Ente.id == Position.ente_id)
                .join(Taxpayer, Taxpayer.id == Position.taxpayer_id)
                .where(
                    Ente.code == "R01",
                    Position.state == "notificata",
                    Taxpayer.codice_fiscale != MARIO_ROSSI_CF,
                    ~sa.exists().where(Payment.position_id == Position.id),
                )
                .order_by(Position.id.desc())
                .limit(200)
            )
        )
        dues = amounts_due(db.session, rows, first_due)
        found = next(p.id for p in rows if low <= dues[p.id].total_cents <= high)
        db.session.remove()
    return found


def _daily_check(live_app, day: dt.date) -> dict:
    from app.extensions import db
    from app.plans.tasks import daily_decadenza_check

    with live_app.app_context():
        result = daily_decadenza_check(on=day.isoformat())
        db.session.remove()
    return result


def test_a_rateazione_from_the_desk_request_to_decadenza(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    today = dt.date.today()
    first_due = today - dt.timedelta(days=70)  # two installments already past due
    position_id = _position(live_app, first_due)
    login(page, live_app, "admin")

    page.goto(f"/posizioni/{position_id}")
    page.get_by_test_id("desk-plan-request").click()
    page.get_by_label("Numero di rate").fill("60")
    page.get_by_label("Scadenza della prima rata").fill(first_due.isoformat())
    page.get_by_role("button", name="Registra la richiesta").click()
    allowed = re.search(r"rate ammesse: da (\d+)", page.locator("main").inner_text())
    assert allowed, page.locator("main").inner_text()[:500]
    page.get_by_label("Numero di rate").fill(allowed.group(1))
    page.get_by_role("button", name="Registra la richiesta").click()

    expect(page.get_by_test_id("plan-schedule")).to_be_visible()
    page.get_by_role("button", name="Approva").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Attivo")
    expect(page.get_by_test_id("installment-1")).to_contain_text(first_due.strftime("%d/%m/%Y"))
    expect(page.get_by_test_id("installment-2-status")).to_contain_text("scaduta")
    plan_url = page.url

    sollecito = _daily_check(live_app, today)
    assert len(sollecito["solleciti"]) == 1 and sollecito["decadenze"] == [], sollecito
    page.goto(plan_url)
    expect(page.get_by_test_id("plan-sollecito")).to_contain_text(today.strftime("%d/%m/%Y"))
    expect(page.get_by_test_id("plan-status")).to_have_text("Attivo")

    decadenza = _daily_check(live_app, today + dt.timedelta(days=1))
    assert decadenza["decadenze"] == sollecito["solleciti"], decadenza
    page.goto(plan_url)
    expect(page.get_by_test_id("plan-status")).to_have_text("Decaduto")
    expect(page.get_by_test_id("plan-decadenza")).to_contain_text("c. 800")

    page.goto(f"/posizioni/{position_id}")
    expect(page.locator("h1")).to_contain_text("Scaduta")
    page.goto(page.locator("nav[aria-label='Percorso'] a").first.get_attribute("href"))
    expect(page.get_by_test_id("card-plans")).to_contain_text("decaduto")
    assert errors == []


def test_the_proroga_from_the_plan_page(page: Page, live_app) -> None:
    """The proroga (L. 160/2019 c. 797) on the plan's page: the residual over more installments, the replaced
    ones shown as such; the form is gone once granted (only once)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    first_due = dt.date.today() + dt.timedelta(days=20)
    position_id = _position(live_app, first_due, 50_001, 300_000)  # the band admits 5 to 12 installments
    login(page, live_app, "admin")

    page.goto(f"/rateazioni/posizioni/{position_id}/richiesta")
    page.get_by_label("Numero di rate").fill("5")
    page.get_by_label("Scadenza della prima rata").fill(first_due.isoformat())
    page.get_by_role("button", name="Registra la richiesta").click()
    page.get_by_role("button", name="Approva").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Attivo")

    page.get_by_label("Nuovo numero di rate del residuo").fill("8")
    page.get_by_label("Peggioramento comprovato della situazione del debitore").fill("perdita del lavoro")
    page.get_by_test_id("proroga-submit").click()
    expect(page.get_by_test_id("plan-proroga")).to_contain_text("c. 797")
    expect(page.get_by_test_id("installment-1-status")).to_contain_text("Sostituita dalla proroga")
    expect(page.get_by_test_id("installment-13")).to_be_visible()
    expect(page.get_by_test_id("proroga-form")).to_have_count(0)
    assert errors == []
