"""An operator's first morning, in a real browser (issue 9, "Done when"): the sportello operator types a
codice avviso (in groups of four, as printed on the avviso) in the header search, reaches the taxpayer's card,
reads the amount due with the interest accrued (the engine's figure, `app.positions.amounts`), takes exactly
that amount at the desk from the card's "Incassa allo sportello", and prints the quietanza: nothing left to
pay. The taxpayer then sees the position paid and downloads the quietanza from "La mia posizione".

The morning runs on a demo instance of its own (its own database and server): paying Mario Rossi's position
would otherwise change what the other browser tests find on his card."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator

import pdfplumber
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from app.demo.seed import DEMO_PASSWORD, MARIO_ROSSI_CF
from app.reports.formatting import format_eur
from tests.conftest import _create_database, _drop_database, build_app, migrate_and_seed, unused_totp_code

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def morning(pg_server: str, redis_settings: dict) -> Iterator[tuple]:
    """A fresh demo instance (database seeded as `esattoria demo` does) served on its own port: (app, url)."""
    url = _create_database(pg_server, "esattoria_morning")
    app = build_app(url, **redis_settings)
    migrate_and_seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    _drop_database(url)


def login(page: Page, app, root: str, username: str, landing: str) -> None:
    """Password, then (staff) the TOTP enrolment on a first login or a code of the enrolled secret not used
    yet; a taxpayer has no second factor."""
    from app.auth.models import User
    from app.extensions import db

    page.goto(f"{root}/login")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    code = page.get_by_label("Codice di verifica (6 cifre)")
    code.or_(page.get_by_role("heading", level=1, name=landing)).wait_for()
    if not code.count():
        return
    enrol = page.get_by_test_id("totp-secret")
    if enrol.count():
        secret = enrol.inner_text().strip()
    else:
        with app.app_context():
            secret = db.session.scalars(sa.select(User.totp_secret).where(User.username == username)).one()
    code.fill(unused_totp_code(app, username, secret))
    page.get_by_role("button", name=re.compile("^(Attiva|Verifica)$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(landing)


def mario_rossi_position(app) -> tuple[int, int, str, str]:
    """Mario Rossi's open position with a codice avviso that accrues interest (due date in the past): its
    id, taxpayer id, external id and codice avviso."""
    from app.extensions import db
    from app.payments.models import NoticeNumber
    from app.positions.amounts import amounts_due, today_rome
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        rows = db.session.execute(
            sa.select(Position, NoticeNumber.notice_number)
            .join(NoticeNumber, NoticeNumber.position_id == Position.id)
            .join(Taxpayer, Taxpayer.id == Position.taxpayer_id)
            .where(
                Taxpayer.codice_fiscale == MARIO_ROSSI_CF,
                NoticeNumber.item_kind == "posizione",
                Position.state.in_(("caricata", "notificata", "scaduta", "parzialmente_pagata")),
                Position.due_date < today_rome(),
            )
            .order_by(Position.id)
        ).all()
        dues = amounts_due(db.session, [p for p, _ in rows], today_rome())
        found = [(p, n) for p, n in rows if dues[p.id].interest_cents > 0]
        assert found, "the demo data should give Mario Rossi an open position accruing interest"
        position, notice = found[0]
        result = (position.id, position.taxpayer_id, position.external_id, notice)
        db.session.remove()
    return result


def engine_due(app, position_id: int) -> tuple[int, int]:
    """The amount due today and its interest, by the one function every screen uses."""
    from app.extensions import db
    from app.positions.amounts import amount_due, today_rome
    from app.positions.models import Position

    with app.app_context():
        due = amount_due(db.session, db.session.get(Position, position_id), today_rome())
        assert due.error is None, due.error
        result = (due.total_cents, due.interest_cents)
        db.session.remove()
    return result


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF"), body[:40]
    with pdfplumber.open(io.BytesIO(body)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_first_morning_codice_avviso_to_payoff_to_the_taxpayers_quietanza(page: Page, morning) -> None:
    from app.positions.notice_view import grouped

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    live_app, root = morning
    position_id, taxpayer_id, external_id, notice = mario_rossi_position(live_app)
    due_cents, interest_cents = engine_due(live_app, position_id)
    assert interest_cents > 0 and due_cents > interest_cents
    amount = format_eur(due_cents)

    # 1. the header search finds the position by its codice avviso, typed in groups of four
    login(page, live_app, root, "sportello", "Buongiorno")
    page.get_by_role("searchbox", name=re.compile("Cerca contribuente")).fill(grouped(notice))
    page.keyboard.press("Enter")
    found = page.get_by_test_id("search-positions")
    expect(found).to_contain_text(external_id)
    found.get_by_role("link", name="Rossi Mario").click()
    expect(page).to_have_url(re.compile(rf"/contribuenti/{taxpayer_id}$"))
    expect(page.get_by_test_id("card-name")).to_have_text("Rossi Mario")

    # 2. the card shows the amount due with the interest accrued, and the notice asks for the same amount
    expect(page.get_by_test_id("card-positions")).to_contain_text(external_id)
    expect(page.get_by_test_id(f"card-position-due-{position_id}")).to_have_text(amount)
    expect(page.get_by_test_id(f"card-interest-{position_id}")).to_have_text(format_eur(interest_cents))
    figures = page.get_by_test_id("card-positions").locator(":scope > tbody > tr > td.text-end").all()
    assert len(figures) >= 4
    for figure in figures:  # "686,99 €" on one line, in a column too narrow or not
        lines = figure.evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
        )
        assert lines <= 1, figure.inner_text()
    card_notice = page.get_by_test_id(f"notice-{position_id}")
    expect(card_notice.get_by_test_id("notice-code")).to_have_text(grouped(notice))
    expect(card_notice.get_by_test_id("notice-amount")).to_have_text(amount)

    # 3. "Incassa allo sportello" opens the desk form filled for that position with the amount due
    card_notice.get_by_role("link", name="Incassa allo sportello").click()
    expect(page).to_have_url(re.compile(rf"/pagamenti/sportello\?posizione={position_id}$"))
    form = page.get_by_test_id("desk-form")
    expect(form.locator("#ente")).to_have_value("R01")
    expect(form.locator("#reference")).to_have_value(external_id)
    expect(form.locator("#amount")).to_have_value(amount.removesuffix(" €").replace(".", ""))
    form.locator("#payer_name").fill("Mario Rossi")
    page.get_by_role("button", name=re.compile("Registra e stampa la quietanza")).click()

    # 4. the quietanza: the amount paid and nothing left to pay
    receipt = page.get_by_test_id("receipt-link")
    expect(receipt).to_be_visible()
    header = page.get_by_test_id("payment-header")  # labels, not codes; the codice avviso as printed
    expect(header.get_by_test_id("payment-channel")).to_have_text("Contanti")
    expect(header).to_contain_text(grouped(notice))
    expect(page.locator("main")).to_contain_text("Pagamento registrato: quietanza n.")
    number = re.search(r"Pagamento registrato: quietanza n\. (\S+)\.", page.locator("main").inner_text())
    assert number
    response = page.context.request.get(root + (receipt.get_attribute("href") or ""))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert number.group(1) in text
    assert re.search(r"Residuo dovuto sulla posizione dopo il pagamento: 0,00 €", text), text
    assert amount in text
    assert engine_due(live_app, position_id)[0] == 0

    # 5. the taxpayer sees the position paid and downloads the quietanza
    page.context.clear_cookies()
    login(page, live_app, root, "contribuente", "La mia posizione")
    expect(page).to_have_url(re.compile(r"/self-service/$"))
    mine = page.get_by_test_id(f"self-position-{position_id}")
    expect(mine).to_contain_text("Pagata")
    expect(mine.locator("td").last).to_have_text("0,00 €")
    expect(page.get_by_test_id(f"notice-{position_id}")).to_have_count(0)  # nothing left to pay
    receipts = page.get_by_test_id("self-receipts")
    expect(receipts).to_contain_text(f"Quietanza n. {number.group(1)}")
    expect(receipts).to_contain_text(amount)
    with page.expect_download() as download:
        receipts.get_by_role("link", name=re.compile(f"quietanza n. {re.escape(number.group(1))}")).click()
    path = download.value.path()
    assert download.value.suggested_filename == f"quietanza_{number.group(1)}.pdf"
    with open(path, "rb") as fh:
        mine_text = pdf_text(fh.read())
    assert number.group(1) in mine_text and "dopo il pagamento: 0,00 €" in mine_text
    assert errors == []
