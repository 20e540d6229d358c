"""The review queue in a real browser: payments matched by codice fiscale and causale wait for an operator,
who confirms one and rejects the other; the confirmed one then shows on the taxpayer card (HTMX fragment)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.support import login, open_card_section
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def _queue_two_payments(app) -> tuple[object, object, int]:
    from app.core.audit import Actor
    from app.extensions import db
    from app.payments.services import import_flow
    from app.taxpayers.models import Taxpayer
    from tests.payments.support import csv_file, euro, open_positions

    with app.app_context():
        a, b = open_positions(db.session, 2, on=dt.date(2026, 11, 18))
        lines = [
            f"PW-1;2026-11-18;2026-11-19;{euro(a.due)};;{a.codice_fiscale};"
            f"Pagamento {a.external_id};bonifico",
            f"PW-2;2026-11-18;2026-11-19;12,34;;{b.codice_fiscale};versamento non dovuto;bonifico",
        ]
        summary = import_flow(
            db.session,
            csv_file(*lines),
            Actor.system("test browser"),
            fmt="csv",
            ente_code="R01",
            file_name="bonifici.csv",
        )
        assert summary.review == 2
        taxpayer_id = db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == a.codice_fiscale)
        ).one()
        db.session.commit()
        return a, b, taxpayer_id


def test_review_queue_confirm_and_reject(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    a, _b, taxpayer_id = _queue_two_payments(live_app)
    login(page, live_app, "backoffice")
    page.get_by_role("link", name="Pagamenti", exact=True).first.click()
    expect(page.get_by_test_id("payments-counters")).to_contain_text("Da esaminare")
    page.get_by_role("link", name="Coda di revisione").first.click()
    rows = page.get_by_test_id("review-rows")
    expect(rows).to_contain_text("PW-1")
    expect(rows).to_contain_text("PW-2")
    assert violations(page) == []

    rows.get_by_role("link", name="Esamina il pagamento PW-1").click()
    expect(page.get_by_role("heading", name=re.compile("Pagamento PW-1"))).to_be_visible()
    candidates = page.get_by_test_id("review-candidates")
    expect(candidates).to_contain_text(a.external_id)
    expect(candidates.get_by_label(f"Imputa a {a.external_id}")).to_be_checked()
    assert violations(page) == []
    page.get_by_role("button", name="Conferma l'imputazione").click()
    expect(page.get_by_role("status").filter(has_text="imputato alla posizione")).to_be_visible()
    expect(page.get_by_test_id("review-rows")).not_to_contain_text("PW-1")

    page.get_by_test_id("review-rows").get_by_role("link", name="Esamina il pagamento PW-2").click()
    page.get_by_role("button", name=re.compile("^Respingi")).click()  # no reason: refused, still in the queue
    expect(page.get_by_role("alert").filter(has_text="scrivi il motivo")).to_be_visible()
    page.get_by_label("Motivo (obbligatorio)").fill("Versamento non dovuto: da restituire")
    page.get_by_role("button", name=re.compile("^Respingi")).click()
    expect(page.get_by_role("status").filter(has_text="rimborsi da eseguire")).to_be_visible()
    expect(page.get_by_text("Nessun pagamento da esaminare.")).to_be_visible()

    page.goto("/pagamenti/rimborsi")
    expect(page.get_by_test_id("refund-rows")).to_contain_text("PW-2")

    page.goto(f"/contribuenti/{taxpayer_id}")
    open_card_section(page, "pagamenti")
    card_payments = page.get_by_test_id("card-payments")
    expect(card_payments).to_contain_text("PW-1")
    expect(card_payments).to_contain_text(a.external_id)
    assert errors == []
