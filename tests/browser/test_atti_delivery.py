"""The delivery screens in a real browser (admin): print pre-check, a print batch prepared and its page, an
outcome file uploaded, the work list of failed notifications worked. No console errors, no WCAG violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def _issue_two(live_app) -> list[tuple[int, str]]:
    from app.atti.services import ActRefused, act_type_by_code, issue_act
    from app.core.audit import Actor
    from app.extensions import db
    from app.positions.amounts import today_rome
    from tests.atti.delivery.conftest import candidate_positions

    issued: list[tuple[int, str]] = []
    with live_app.app_context():
        act_type = act_type_by_code(db.session, "ingiunzione")
        for position in candidate_positions(db.session, pec=False, limit=2):
            if len(issued) == 2:
                break
            try:
                act = issue_act(
                    db.session,
                    position,
                    act_type,
                    today_rome(),
                    Actor.system("test"),
                    file_store=live_app.config["FILE_STORE"],
                ).act
            except ActRefused:
                continue
            issued.append((act.id, act.protocol))
        db.session.commit()
    assert len(issued) == 2
    return issued


def test_print_batch_outcomes_and_work_list(page: Page, live_app) -> None:
    from app.positions.amounts import today_rome

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    acts = _issue_two(live_app)
    login(page, live_app, "admin")
    # Recapito is a tab of the acts' pages
    page.locator("#esa-nav").get_by_role("link", name="Atti", exact=True).click()
    page.get_by_test_id("atti-subnav").get_by_role("link", name="Recapito").click()
    expect(page.get_by_role("heading", name="Recapito degli atti")).to_be_visible()
    assert violations(page) == []
    page.get_by_test_id("batch-form").get_by_role("button").click()
    expect(page.get_by_role("heading", name=re.compile("Lotto di stampa R01-"))).to_be_visible()
    expect(page.get_by_test_id("batch-acts")).to_contain_text(acts[0][1].split("-")[0])
    expect(page.get_by_test_id("batch-download")).to_be_visible()
    assert violations(page) == []

    today = today_rome().isoformat()
    page.get_by_role("link", name="Importa esiti").click()
    assert violations(page) == []
    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    page.locator("#file").set_input_files(
        {
            "name": "esiti.csv",
            "mimeType": "text/csv",
            "buffer": (
                f"id_atto;esito;data_esito\n{acts[0][0]};notificato;{today}\n"
                f"{acts[1][0]};irreperibile;{today}\n"
            ).encode(),
        }
    )
    page.get_by_role("button", name="Importa").click()
    expect(page.get_by_test_id("outcome-summary")).to_contain_text("1 atti notificati")
    assert violations(page) == []

    page.get_by_role("link", name="Notifiche non riuscite").click()
    row = page.get_by_test_id("worklist").locator("tr", has_text=acts[1][1])
    expect(row).to_contain_text("Destinatario irreperibile")
    assert violations(page) == []
    row.get_by_label("Nota").fill("Nuovo indirizzo chiesto ad ANPR")
    row.get_by_role("button", name="Segna lavorato").click()
    expect(page.get_by_text("Esito segnato come lavorato.")).to_be_visible()
    page.goto(f"/atti/recapito/atti/{acts[0][0]}")
    expect(page.get_by_test_id("act-status")).to_have_text("Notificato")
    assert violations(page) == []
    assert errors == []
