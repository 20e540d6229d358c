"""The taxpayer portal in Debian's chromium: Mario Rossi logs in with SPID through a real local OpenID
provider (oidc-provider-mock), sees only his own positions, requests a rateazione, uploads a document,
downloads a letter the office filed for him; axe-core finds no serious or critical violation on any
self-service page. Any console error fails the test."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import oidc_provider_mock
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.demo.seed import MARIO_ROSSI_CF

pytestmark = pytest.mark.browser
AXE = Path(__file__).with_name("vendor") / "axe.min.js"  # axe-core 4.14.1, MPL-2.0


def serious_violations(page: Page) -> list[tuple[str, str, int]]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not injected: our CSP forbids inline scripts
    result = page.evaluate("() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})")
    return [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def provider(live_app) -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        root = f"http://localhost:{server.server_port}"
        saved = {
            k: live_app.config.get(k) for k in ("OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")
        }
        live_app.config.update(
            OIDC_DISCOVERY_URL=f"{root}/.well-known/openid-configuration",
            OIDC_CLIENT_ID="esattoria-browser",
            OIDC_CLIENT_SECRET="segreto-browser",  # noqa: S106 (a local test provider)
        )
        response = httpx.put(f"{root}/users/spid-mario", json={"fiscalNumber": f"TINIT-{MARIO_ROSSI_CF}"})
        assert response.status_code == 204
        try:
            yield root
        finally:
            live_app.config.update(saved)


@pytest.fixture(scope="module")
def office_letter(live_app, tmp_path_factory) -> tuple[int, str]:
    """A letter the office filed in the archive and linked to Mario Rossi (what an act will be)."""
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.extensions import db
    from app.taxpayers.models import Taxpayer, TaxpayerEnte
    from tests.archive.support import typst_pdf

    path = typst_pdf(
        tmp_path_factory.mktemp("atto") / "comunicazione.pdf",
        "Comunicazione a Mario Rossi",
        subject="comunicazione",
    )
    with live_app.app_context():
        mario = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()
        ente_id = db.session.scalar(
            sa.select(TaxpayerEnte.ente_id)
            .where(TaxpayerEnte.taxpayer_id == mario.id)
            .order_by(TaxpayerEnte.ente_id)
        )
        ente = db.session.get(Ente, ente_id)
        (filed,) = file_documents(
            db.session,
            [IncomingFile("comunicazione.pdf", path)],
            ente,
            "posta",
            "corrispondenza",
            Actor.system("ufficio"),
            file_store=live_app.config["FILE_STORE"],
            mode="sync",
            taxpayer_id=mario.id,
            subject="Comunicazione dell'ufficio",
        )
        db.session.commit()
        db.session.remove()
    return filed.document, filed.protocol


def own_position_ids(live_app) -> set[int]:
    from app.extensions import db
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    with live_app.app_context():
        mario = db.session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF))
        ids = set(db.session.scalars(sa.select(Position.id).where(Position.taxpayer_id == mario)))
        db.session.remove()
    return ids


@pytest.fixture(scope="module")
def open_position_of_mario(live_app) -> int:
    """A position of Mario Rossi open for a rateazione, whatever the browser tests before this one did to his
    demo positions (the desk flow pays them): 1.500,00 euro of capitale, notified a year ago."""
    from app.carichi.models import Carico
    from app.enti.models import Ente, Entrata
    from app.extensions import db
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer

    with live_app.app_context():
        mario = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()
        ente = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        entrata = db.session.scalars(
            sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == "TASSA_AUTO")
        ).one()
        carico = db.session.scalars(sa.select(Carico).where(Carico.ente_id == ente.id).limit(1)).one()
        today = dt.date.today()
        position = Position(
            ente_id=ente.id,
            entrata_id=entrata.id,
            carico_id=carico.id,
            taxpayer_id=mario.id,
            external_id="SELFSERVICE-RATEAZIONE",
            year=today.year - 2,
            description="Tassa automobilistica",
            due_date=today - dt.timedelta(days=700),
            notified_date=today - dt.timedelta(days=365),
            state="notificata",
        )
        db.session.add(position)
        db.session.flush()
        db.session.add(
            Movement(
                position_id=position.id,
                component="capitale",
                kind="carico",
                amount_cents=150_000,
                value_date=carico.received_date,
                source="test",
            )
        )
        db.session.commit()
        return position.id


def test_taxpayer_logs_in_with_spid_requests_a_plan_uploads_and_downloads(
    page: Page,
    live_app,
    provider: str,
    office_letter: tuple[int, str],
    open_position_of_mario: int,
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    # the provider's own page (on localhost, ours is on 127.0.0.1) loads its stylesheet from a CDN: not ours
    page.on(
        "console",
        lambda msg: (
            errors.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and not page.url.startswith(provider)
            else None
        ),
    )

    # 1. the login page, then the broker's form (the local provider), back to the portal
    page.goto("/self-service/accesso")
    assert serious_violations(page) == []
    page.get_by_test_id("spid-cie-login").click()
    page.wait_for_url(re.compile(r"localhost:\d+/oauth2/authorize"))
    page.locator("input[name=sub]").fill("spid-mario")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/self-service/$"))
    expect(page.get_by_role("heading", level=1, name="La mia posizione")).to_be_visible()
    assert serious_violations(page) == []

    # 2. only his own positions
    rows = page.locator("[data-testid^=self-position-]")
    shown = {
        int(t.removeprefix("self-position-"))
        for t in rows.evaluate_all("rs => rs.map(r => r.dataset.testid)")
    }
    assert shown and shown <= own_position_ids(live_app)

    # 3. a rateazione: simulate, read the allowed range if needed, send the request
    page.get_by_role("link", name="Rateazione").first.click()
    page.get_by_test_id("plan-simulate-form").locator(".form-check-label").first.click()  # Bootstrap Italia
    expect(page.locator("input[name=posizioni]").first).to_be_checked()
    page.locator("#rate-get").fill("6")
    page.locator("#prima-get").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Simula il piano").click()
    error = page.get_by_test_id("plan-error")
    simulation = page.get_by_test_id("plan-simulation")
    simulation.or_(error).wait_for()
    if error.count():
        low = re.search(r"Rate ammesse: da (\d+)", error.inner_text()).group(1)
        page.locator("#rate-get").fill(low)
        page.get_by_role("button", name="Simula il piano").click()
    expect(simulation).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Invia la richiesta di rateazione").click()
    expect(page.get_by_test_id("self-plan-status")).to_have_text("Richiesta")
    assert serious_violations(page) == []

    # 4. upload a document
    upload = tmp_path / "istanza.pdf"
    from tests.archive.support import typst_pdf

    typst_pdf(upload, f"Istanza del contribuente {MARIO_ROSSI_CF}")
    page.goto("/self-service/documenti/invia")
    assert serious_violations(page) == []
    page.get_by_label("Oggetto").fill("Istanza dal portale")
    page.get_by_label("Documento (PDF o immagine)").set_input_files(str(upload))
    page.get_by_role("button", name="Invia", exact=True).click()
    expect(page.get_by_test_id("self-uploads")).to_contain_text("istanza.pdf")
    assert serious_violations(page) == []

    # 5. download the letter the office filed
    document_id, protocol = office_letter
    with page.expect_download() as download:
        page.get_by_test_id(f"self-document-{document_id}").get_by_role(
            "link", name=re.compile("Scarica")
        ).click()
    assert download.value.suggested_filename == "comunicazione.pdf"

    # 6. the other pages
    for path in ("/self-service/pagamenti", "/self-service/recapiti"):
        page.goto(path)
        assert serious_violations(page) == [], path
    assert errors == []
