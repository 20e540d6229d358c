"""Issue 14 point 2 in a real browser: the back office abates part of a position from the position page (the
"Provvedimenti" section, loaded by HTMX), the amount due drops by exactly the abated amount and the sgravio is
listed with its provvedimento. Any console error fails the test."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.demo.seed import COMPANY_CF, MARIO_ROSSI_CF
from tests.browser.support import login
from tests.dynamics.conftest import new_position

pytestmark = pytest.mark.browser


def _euro_cents(text: str) -> int:
    digits = re.sub(r"[^0-9,]", "", text)
    whole, _, frac = digits.partition(",")
    return int(whole) * 100 + int(frac or 0)


def test_backoffice_abates_part_of_a_position_from_its_page(page: Page, live_app) -> None:
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with (
        live_app.app_context()
    ):  # a position of its own, on a demo taxpayer the other browser tests leave alone
        cf = db.session.scalars(
            sa.select(Taxpayer.codice_fiscale)
            .where(Taxpayer.codice_fiscale.not_in((MARIO_ROSSI_CF, COMPANY_CF)), Taxpayer.kind == "PF")
            .order_by(Taxpayer.id.desc())
            .limit(1)
        ).one()
        position_id = new_position(db.session, codice_fiscale=cf).id
        db.session.commit()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_app, "backoffice")

    page.goto(f"/posizioni/{position_id}")
    before = _euro_cents(page.get_by_test_id("position-due").inner_text())
    section = page.get_by_test_id("position-measures")
    section.get_by_role("link", name="Sgravio").click()
    form = page.get_by_test_id("measure-form")
    form.get_by_label("Parziale").check()
    form.get_by_label("Sanzioni").fill("120,50")
    form.get_by_label("Disposto da").select_option("regione")
    form.get_by_label("Provvedimento n.").fill("44/2026")
    form.get_by_label("Motivazione").fill("Sanzione ridotta dal provvedimento della Regione")
    form.get_by_role("button", name="Registra").click()

    expect(page).to_have_url(re.compile(rf"/posizioni/{position_id}#provvedimenti$"))
    measures = page.get_by_test_id("measures")
    expect(measures).to_contain_text("provv. n. 44/2026")
    expect(measures).to_contain_text("120,50")
    after = _euro_cents(page.get_by_test_id("position-due").inner_text())
    assert before - after == 12_050
    assert errors == []
