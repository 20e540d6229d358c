"""Issue 15 point 4 in a real browser: the Regione builds an ad-hoc query (dataset, group-by, measures), sees
the Chart.js chart drawn beside its table, and downloads the XLSX. The dashboard draws its charts too. Any
console error (CSP included) fails the test."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import login

pytestmark = pytest.mark.browser


def test_regione_builds_a_query_sees_the_chart_and_downloads_the_xlsx(page: Page, live_app) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_app, "regione")

    page.get_by_role("link", name="Analisi").first.click()
    expect(page.get_by_test_id("chart-carico_riscosso")).to_have_attribute("data-drawn", "true")
    page.get_by_role("link", name="Interrogazioni").click()

    form = page.get_by_test_id("builder-form")
    form.get_by_label("Dati").select_option("posizioni")
    form.get_by_label("Raggruppa per").select_option(["entrata"])
    form.get_by_label("Misure").select_option(["count", "sum:residuo"])
    form.get_by_test_id("builder-run").click()

    expect(page.get_by_test_id("builder-chart")).to_have_attribute("data-drawn", "true")
    rows = page.get_by_test_id("builder-rows")
    expect(rows).to_contain_text("TASSA_AUTO")
    with page.expect_download() as download:
        page.locator("[data-export-format='xlsx']").click()
    path = download.value.path()
    import openpyxl

    with open(path, "rb") as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True).active
        cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "Entrata" in cells and "TASSA_AUTO" in cells
    assert errors == []
