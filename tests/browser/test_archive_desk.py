"""Done when of issue 11 (points 6 and 7) in a real browser: the desk uploads a scanned-looking letter of
Mario Rossi (a PNG made like tests/ocr's) with a born-digital PDF, a worker reads them, the page shows the
progress then the text and the scan inline, the proposed link is confirmed, the header search finds the
letter by a word of it (highlighted) with the card one click away, the card's Documenti section shows it with
its thumbnail, and PDF.js draws the PDF. Any console error (CSP included) fails the test."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect

from tests.archive.support import typst_pdf
from tests.browser.support import login, open_card_section
from tests.browser.test_accessibility import violations
from tests.browser.test_carichi_flow import ThreadWorker
from tests.ocr.pages import CODICE_FISCALE, write_scan

pytestmark = pytest.mark.browser

WORD = "ventiquattro"  # in the scanned letter's text (tests/ocr/pages.py), in no other test's document


def _run_workers(app) -> threading.Thread:
    """An RQ burst on the ocr and index queues, in a thread of this process (the live server's database)."""
    from app.core.jobs import connection, queue

    def work() -> None:
        with app.app_context():
            ThreadWorker([queue("ocr"), queue("index")], connection=connection()).work(burst=True)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _wait_images(page: Page, selector: str) -> None:
    """Every image the selector names has loaded (a broken image never gets a natural width)."""
    page.wait_for_function(
        "(s) => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)", arg=selector
    )


def test_desk_upload_ocr_link_search_and_card(page: Page, live_app, tmp_path) -> None:
    from app.core.jobs import queue

    with live_app.app_context():
        for name in ("ocr", "index"):
            queue(name).empty()
    scan, _ = write_scan(tmp_path, "lettera-rossi")
    pdf = typst_pdf(tmp_path / "delega.pdf", "Delega per il ritiro degli atti, senza riferimenti.")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_app, "admin")
    page.goto("/archivio/nuovo")
    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    page.locator("#files").set_input_files([str(scan), str(pdf)])
    page.get_by_role("button", name="Protocolla").click()
    results = page.get_by_test_id("upload-results")
    expect(results).to_contain_text("lettera-rossi.png: protocollato")
    expect(results).to_contain_text("delega.pdf: protocollato")
    pdf_href = results.get_by_role("link").nth(1).get_attribute("href")

    results.get_by_role("link").first.click()
    protocol = re.search(r"R01-\d{4}-\d{7}", page.get_by_role("heading", level=1).inner_text()).group(0)
    expect(page.get_by_test_id("reading-progress")).to_contain_text("Lettura del testo in corso")
    expect(page.get_by_test_id("image-viewer")).to_be_visible()  # the scan is shown while it is read
    _wait_images(page, "[data-testid=image-viewer]")
    _run_workers(live_app).join(timeout=180)
    expect(page.get_by_test_id("document-text")).to_contain_text(CODICE_FISCALE, timeout=30_000)
    expect(page.get_by_test_id("document-text")).to_contain_text(WORD)
    links = page.get_by_test_id("document-links")
    expect(links).to_contain_text(CODICE_FISCALE)
    proposed = page.get_by_test_id("link-proposed").filter(has_text=CODICE_FISCALE)
    proposed.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("link-confirmed").filter(has_text=CODICE_FISCALE)).to_have_count(1)
    assert violations(page) == []

    # the header search box: the letter by a word of its text, under Documenti, the word highlighted
    page.get_by_role("searchbox", name=re.compile("Cerca contribuente")).fill(WORD)
    page.get_by_role("searchbox", name=re.compile("Cerca contribuente")).press("Enter")
    found = page.get_by_test_id("search-documents")
    expect(found).to_contain_text(protocol)
    expect(found.locator("em").first).to_have_text(re.compile(WORD, re.I))
    assert violations(page) == []
    found.get_by_test_id("search-document").filter(has_text=protocol).get_by_test_id(
        "search-document-card"
    ).first.click()

    # the card: the letter in its Documenti section, with the first page's thumbnail
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rossi")
    open_card_section(page, "documenti")
    section = page.get_by_test_id("card-documents")
    expect(section).to_contain_text(protocol)
    row = section.locator("tr").filter(has_text=protocol)
    expect(row.get_by_test_id("thumbnail")).to_be_visible()
    # the letter's own first-page thumbnail has loaded (thumbnails load lazily: scrolled to first)
    thumbnail = row.get_by_test_id("thumbnail")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=thumbnail.element_handle())
    expect(page.locator(".esa-timeline")).to_contain_text("Documento collegato")
    assert violations(page) == []  # the card with its Documenti section and thumbnails

    # the born-digital PDF in the viewer: PDF.js draws its page on a canvas (module + worker from 'self')
    page.goto(pdf_href)
    viewer = page.get_by_test_id("pdf-viewer")
    expect(viewer).to_have_attribute("data-pdf-rendered", "1", timeout=20_000)
    expect(viewer.locator("canvas")).to_have_count(1)
    expect(viewer).to_contain_text("1 pagina.")
    assert page.evaluate(
        "() => { const c = document.querySelector('canvas'); const d = c.getContext('2d')"
        ".getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) "
        "{ if (d[i] < 128) return true; } return false; }"
    ), "the PDF's text is drawn"
    assert violations(page) == []
    assert errors == []
