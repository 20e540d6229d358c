"""The archive in a real browser: upload two letters at the desk (drag and drop), watch the reading progress
until the page refreshes itself, confirm the proposed link, find the letter from the header search and, one
click away, see it on the taxpayer's card. (tests/browser/test_archive_desk.py does the same with a scan read
by the OCR.)"""

from __future__ import annotations

import random
import re
import string
import threading

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.archive.support import debtor_of, grouped, typst_pdf
from tests.browser.support import login, open_card_section, open_from_nav
from tests.browser.test_accessibility import violations
from tests.browser.test_carichi_flow import ThreadWorker

pytestmark = pytest.mark.browser


def _run_workers(app) -> threading.Thread:
    from app.core.jobs import connection, queue

    def work() -> None:
        with app.app_context():
            ThreadWorker([queue("ocr"), queue("index")], connection=connection()).work(burst=True)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_upload_read_confirm_and_see_it_on_the_card(page: Page, live_app, tmp_path) -> None:
    from app.archive.models import Document
    from app.core.jobs import queue
    from app.extensions import db

    with live_app.app_context():
        for name in ("ocr", "index"):
            queue(name).empty()
        debtor = debtor_of(db.session, "R01")
    word = "pratica" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))  # noqa: S311
    letter = typst_pdf(
        tmp_path / "istanza.pdf",
        f"Il sottoscritto, codice fiscale {debtor.codice_fiscale}, "
        f"chiede la rateazione dell'avviso {grouped(debtor.notice_number)}. Riferimento {word}.",
    )
    other = typst_pdf(tmp_path / "altra.pdf", "Una lettera senza riferimenti a contribuenti.")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")  # sportello, callcenter, backoffice: their first login is test_card_flow's
    open_from_nav(page, "Archivio", re.compile(r"/archivio/$"))  # the login page here: the session ended
    page.locator("main").get_by_role("link", name="Protocolla documenti").click()
    expect(page).to_have_url(re.compile(r"/archivio/nuovo$"))
    page.wait_for_load_state()  # the drop zone's script set up
    assert violations(page) == []
    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    page.locator("#doc_type").select_option(label="Istanza di rateazione")
    dropped = page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["%PDF-"], "uno.pdf", {type: "application/pdf"}));
        data.items.add(new File(["%PDF-"], "due.pdf", {type: "application/pdf"}));
        const zone = document.querySelector("[data-dropzone-multiple]");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        return document.querySelector("#files").files.length;
    }""")
    assert dropped == 2
    expect(page.locator("[data-dropzone-name]")).to_contain_text("2 file scelti: uno.pdf, due.pdf")
    page.locator("#files").set_input_files([str(letter), str(other)])
    page.get_by_role("button", name="Protocolla").click()
    results = page.get_by_test_id("upload-results")
    expect(results).to_contain_text("istanza.pdf: protocollato")
    expect(results).to_contain_text("altra.pdf: protocollato")

    results.get_by_role("link").first.click()
    expect(page.get_by_test_id("reading-progress")).to_contain_text("Lettura del testo in corso")
    page.evaluate("window.__beforeRefresh = true")
    _run_workers(live_app).join(timeout=60)
    # the polling fragment sees the document read and has the page refresh itself
    expect(page.get_by_test_id("document-text")).to_contain_text(debtor.codice_fiscale, timeout=20_000)
    assert page.evaluate("window.__beforeRefresh") is None
    links = page.get_by_test_id("document-links")
    expect(links).to_contain_text(debtor.codice_fiscale)
    expect(links).to_contain_text(f"trovato nel testo: {debtor.notice_number}")
    assert violations(page) == []
    page.get_by_test_id("link-proposed").first.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("link-confirmed")).to_have_count(1)
    protocol = re.search(r"R01-\d{4}-\d{7}", page.get_by_role("heading", level=1).inner_text()).group(0)

    # the header search: the letter by a word of its text, the card one click away
    box = page.get_by_role("searchbox", name=re.compile("Cerca contribuente"))
    box.fill(word)
    box.press("Enter")
    found = page.get_by_test_id("search-documents")
    expect(found).to_contain_text(protocol)
    assert violations(page) == []
    found.get_by_test_id("search-document").filter(has_text=protocol).get_by_test_id(
        "search-document-card"
    ).first.click()
    expect(page).to_have_url(re.compile(rf"/contribuenti/{debtor.taxpayer_id}(\?.*)?$"))
    open_card_section(page, "documenti")
    section = page.get_by_test_id("card-documents")
    expect(section).to_contain_text(protocol)
    expect(page.locator(".esa-timeline")).to_contain_text("Documento collegato")
    with live_app.app_context():
        status = db.session.scalar(sa.select(Document.status).where(Document.protocol == protocol))
    assert status == "indexed"
    assert violations(page) == []  # the card with its Documenti section
    page.goto("/archivio/?lista=da_collegare")
    expect(page.get_by_test_id("documents")).to_contain_text(protocol)  # its position link is still proposed
    expect(page.get_by_test_id("documents")).not_to_contain_text("altra.pdf")  # nothing to link there
    assert violations(page) == []
    assert errors == []
