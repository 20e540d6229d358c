"""Upload a lista di carico in a real browser, see the preview, confirm, and watch the jobs page follow the
import live (HTMX polling every second, no page reload) until it is done; then download the report."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from tests.browser.support import login
from tests.browser.test_accessibility import violations
from tests.carichi.support import csv_bytes, row

pytestmark = pytest.mark.browser
ROWS = 12_000


class ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a thread (no signal handlers, timer-based job timeout)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def _run_worker(app, name: str = "imports") -> threading.Thread:
    from app.core.jobs import connection, queue

    def work() -> None:
        with app.app_context():
            ThreadWorker([queue(name)], connection=connection()).work(burst=True)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_upload_preview_confirm_and_follow_the_progress_live(page: Page, live_app, tmp_path) -> None:
    from app.core.jobs import queue

    with live_app.app_context():
        queue("imports").empty()
        queue("default").empty()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.get_by_role("link", name="Carichi", exact=True).first.click()
    page.get_by_role("link", name="Nuova importazione").click()
    expect(page.get_by_role("heading", name=re.compile("Importa una lista di carico"))).to_be_visible()
    assert violations(page) == []
    # the form opens on the canonical layout; the entrate follow the ente (an HTMX swap of the select)
    expect(page.locator("#layout_id option:checked")).to_have_text(
        "canonico – CSV (testo delimitato), Lista di carico"
    )
    page.locator("#ente_id").select_option(label="R02 – Regione Seconda")
    expect(page.locator("#entrata_id option")).to_have_count(2)
    expect(page.locator("#entrata_id option:checked")).to_have_text("TASSA_AUTO – Tassa automobilistica")
    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    expect(page.locator("#entrata_id option")).to_have_count(4)
    page.locator("#entrata_id").select_option(label="TASSA_AUTO – Tassa automobilistica")
    dropped = page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["id_posizione;codice_fiscale\\n"], "trascinato.csv", {type: "text/csv"}));
        const zone = document.querySelector("[data-dropzone]");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        return document.querySelector("#file").files[0].name;
    }""")
    assert dropped == "trascinato.csv"
    expect(page.locator("[data-dropzone-name]")).to_contain_text("File scelto: trascinato.csv")
    content = csv_bytes([row(n + 50_000) for n in range(1, ROWS)] + [row(99_999, cap="ABC")])
    page.locator("#file").set_input_files(
        files=[{"name": "ruolo_2024.csv", "mimeType": "text/csv", "buffer": content}]
    )
    expect(page.locator("[data-dropzone-name]")).to_contain_text("File scelto: ruolo_2024.csv")
    page.get_by_role("button", name="Carica e mostra l'anteprima").click()

    expect(page.get_by_role("heading", name="Anteprima: ruolo_2024.csv")).to_be_visible()
    # the worker reads the file (queue "default"); the page polls until the rows are there
    expect(page.get_by_test_id("preview-result")).to_have_attribute("data-status", "pending")
    _run_worker(live_app, "default").join(timeout=60)
    preview = page.get_by_test_id("preview-rows")
    expect(preview).to_contain_text("TEST-050002", timeout=30_000)
    expect(preview.locator("tbody tr")).to_have_count(10)
    assert violations(page) == []
    page.get_by_role("button", name="Conferma e avvia l'importazione").click()

    expect(page).to_have_url(re.compile(r"/elaborazioni/"))
    rows = page.get_by_test_id("job-rows")
    expect(rows).to_have_attribute("data-polling", "on")
    job = rows.locator("tr[data-status]").first
    expect(job).to_have_attribute("data-status", "queued")
    page.evaluate("window.__stayedOnPage = true")  # gone if the page reloads instead of swapping rows
    worker = _run_worker(live_app)
    expect(job).to_have_attribute("data-status", re.compile("running|done"), timeout=60_000)
    expect(job).to_have_attribute("data-status", "done", timeout=180_000)
    worker.join(timeout=60)
    assert page.evaluate("window.__stayedOnPage") is True
    expect(rows).to_have_attribute("data-polling", "off")
    progress = job.get_by_test_id("job-progress")
    expect(progress).to_have_attribute("max", str(ROWS))
    expect(progress).to_have_attribute("value", str(ROWS))
    expect(job.get_by_test_id("job-status")).to_have_text("Completato")
    expect(job.get_by_test_id("job-result")).to_contain_text(f"{ROWS - 1:,}".replace(",", ".") + " accettate")
    expect(job.get_by_test_id("job-result")).to_contain_text("1 scartata")
    page.screenshot(path=str(tmp_path / "elaborazioni.png"), full_page=True)
    assert violations(page) == []
    with page.expect_download() as download:
        job.get_by_role("link", name="CSV").click()
    report = download.value.path().read_bytes().decode("utf-8-sig")
    assert f"{ROWS + 1};cap;CAP non valido: attese 5 cifre;ABC;Scartata" in report
    assert errors == []


def test_a_layout_is_edited_as_fields_and_previewed_on_a_sample(page: Page, live_app) -> None:
    """Format change swaps the mapping rows (HTMX), the sample preview lands under the form; no console
    error (CSP included) along the way."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.goto("/carichi/tracciati/nuovo")
    expect(page.get_by_role("heading", name="Nuovo tracciato")).to_be_visible()
    expect(page.get_by_label("id_posizione: nome nel file")).to_be_visible()
    assert violations(page) == []
    page.locator("#format").select_option("fixed")
    expect(page.get_by_label("id_posizione: inizio")).to_be_visible()
    expect(page.get_by_label("id_posizione: nome nel file")).to_have_count(0)
    page.locator("#format").select_option("csv")
    page.locator("#name").fill("prova-browser")
    page.locator("#separator").select_option(";")
    header = ("id_posizione", "codice_fiscale", "cognome", "indirizzo", "cap", "comune", "provincia")
    header += ("anno_riferimento", "capitale", "data_scadenza")
    for field in header:
        page.get_by_label(f"{field}: nome nel file").fill(field.upper())
    content = (
        ";".join(h.upper() for h in header) + "\n"
        "P-1;RSSMRA80A01H501U;Rossi;Via Roma 1;00100;Roma;RM;2024;100,00;2024-01-31\n"
    ).encode()
    page.locator("#sample").set_input_files(
        files=[{"name": "prova.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Mostra l'anteprima").click()
    rows = page.get_by_test_id("layout-preview-rows")
    expect(rows).to_contain_text("P-1")
    expect(rows).to_contain_text("Rossi")
    expect(page.get_by_role("heading", name="Nuovo tracciato")).to_be_visible()  # no page change
    assert violations(page) == []
    page.goto("/pagamenti/tracciati/nuovo")
    expect(page.get_by_label("importo: colonna nel file")).to_be_visible()
    assert violations(page) == []
    assert errors == []
