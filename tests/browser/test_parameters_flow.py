"""An administrator on /amministrazione/parametri in a real browser: rates as Italian percentages, a refused
new period (the focus on the field in error), a new period proposed, approved by a second administrator (four
eyes: the proposer has no approve button) so that it closes the open one, and its verification."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def _second_admin(app) -> None:
    import sqlalchemy as sa

    from app.auth.models import User
    from app.auth.services import hash_password
    from app.demo.seed import DEMO_PASSWORD
    from app.extensions import db

    with app.app_context():
        if db.session.scalar(sa.select(User.id).where(User.username == "admin2")) is None:
            admin = db.session.scalars(sa.select(User).where(User.username == "admin")).one()
            user = User(
                username="admin2",
                display_name="Seconda Amministratrice",
                role="admin",
                password_hash=hash_password(DEMO_PASSWORD),
            )
            user.enti = list(admin.enti)
            db.session.add(user)
            db.session.commit()


def test_admin_reads_adds_and_verifies_a_rate_period(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.goto("/amministrazione/parametri")
    expect(page.get_by_test_id("rate-legale-2022-01-01")).to_have_text("1,25%")
    expect(page.get_by_test_id("rate-mora_dpr602_art30-2019-07-01")).to_have_text("2,68%")
    expect(page.locator("main")).not_to_contain_text("domain.md")
    assert violations(page) == []

    table = page.locator("#tasso-dilazione_dpr602_art21")
    name = "Nuovo periodo del tasso Interessi di dilazione (art. 21 DPR 602/1973)"
    page.get_by_role("link", name=name).click()
    page.get_by_label("Tasso annuo (%)").fill("3,75")
    page.get_by_label("Valido dal").fill("2030-01-01")
    page.get_by_label("Fonte (atto normativo)").fill("https://www.gazzettaufficiale.it/atto/2029")
    page.get_by_role("button", name="Registra il nuovo periodo").click()
    expect(page.locator("#source-error")).to_contain_text("indirizzo web")
    expect(page.get_by_label("Fonte (atto normativo)")).to_be_focused()
    assert violations(page) == []

    page.get_by_label("Fonte (atto normativo)").fill("D.M. 1 dicembre 2029 (G.U. n. 280 del 5/12/2029)")
    page.get_by_role("button", name="Registra il nuovo periodo").click()
    expect(
        page.get_by_role("alert").or_(page.get_by_role("status")).filter(has_text="proposto")
    ).to_be_visible()
    proposal = page.get_by_test_id("proposals").locator("tr", has_text="dilazione_dpr602_art21")
    expect(proposal).to_contain_text("3,75%")
    expect(proposal).to_contain_text("Serve l'approvazione di un altro amministratore")
    expect(proposal.get_by_role("button", name=re.compile("^Approva"))).to_have_count(0)
    expect(page.get_by_test_id("rate-dilazione_dpr602_art21-2030-01-01")).to_have_count(0)
    assert violations(page) == []

    # the second pair of eyes
    _second_admin(live_app)
    page.context.clear_cookies()
    login(page, live_app, "admin2")
    page.goto("/amministrazione/parametri")
    proposal = page.get_by_test_id("proposals").locator("tr", has_text="dilazione_dpr602_art21")
    proposal.get_by_role("button", name=re.compile("^Approva")).click()
    expect(
        page.get_by_role("alert").or_(page.get_by_role("status")).filter(has_text="approvata")
    ).to_be_visible()
    expect(table).to_be_visible()
    expect(page.get_by_test_id("rate-dilazione_dpr602_art21-2030-01-01")).to_have_text("3,75%")
    row = page.locator("tr", has=page.get_by_test_id("rate-dilazione_dpr602_art21-2030-01-01"))
    expect(row).to_contain_text("da verificare")
    previous = page.locator("tr", has=page.get_by_test_id("rate-dilazione_dpr602_art21-2009-10-01"))
    expect(previous).to_contain_text("31/12/2029")

    row.get_by_role("link", name=re.compile("Verifica")).click()
    assert violations(page) == []
    page.get_by_label("Pubblicazione consultata").fill("G.U. n. 280 del 5/12/2029")
    page.get_by_role("button", name="Registra la verifica").click()
    row = page.locator("tr", has=page.get_by_test_id("rate-dilazione_dpr602_art21-2030-01-01"))
    today = dt.datetime.now(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y")
    expect(row).to_contain_text(re.compile(rf"verificato\s*il {today} da .+ su G\.U\. n\. 280 del 5/12/2029"))
    assert errors == []
