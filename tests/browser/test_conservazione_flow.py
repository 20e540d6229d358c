"""Conservazione in a real browser: an administrator reaches it from the archive list, discards a document
past its retention and downloads the package (the rest of retention is in tests/archive/test_retention.py)."""

from __future__ import annotations

import uuid
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.archive.test_retention import NS, _doc, _file, _index, _years_ago
from tests.browser.support import login
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def test_an_administrator_discards_and_exports(page: Page, live_app, tmp_path) -> None:
    old = _file(live_app, tmp_path, "R01", f"Lettera da scartare {uuid.uuid4()}.", None, _years_ago(11))
    protocol = _doc(live_app, old, "protocol")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_app, "admin")
    page.goto("/archivio/")
    page.get_by_test_id("retention-link").click()
    expect(page.get_by_role("heading", name="Conservazione e scarto")).to_be_visible()
    assert violations(page) == []
    row = page.get_by_test_id("discardable").get_by_role("row").filter(has_text=protocol)
    expect(row).to_contain_text(_years_ago(11).replace(year=_years_ago(11).year + 10).strftime("%d/%m/%Y"))
    page.get_by_test_id(f"discard-{old}").click()
    expect(page.get_by_text(f"Documento {protocol} eliminato.")).to_be_visible()
    expect(page.get_by_test_id(f"discard-{old}")).to_have_count(0)
    assert _doc(live_app, old, "status") == "deleted"

    page.locator("#ente_id").select_option(label="R01 – Regione Demo")
    with page.expect_download() as download:
        page.get_by_role("button", name="Esporta pacchetto").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("conservazione-R01-") and saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as package:
        ids = [n.text for n in _index(package).findall("c:Documento/c:IdDoc/c:Identificativo", NS)]
    assert protocol not in ids
    assert errors == []
