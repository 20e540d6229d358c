"""The taxpayer portal's pages, the rateazione request and its decision, uploads, contacts."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from flask import Flask

from app.archive.models import Document, DocumentLink
from app.core.audit import Event
from app.demo.seed import MARIO_ROSSI_CF
from app.extensions import db
from app.plans.models import PlanRequest
from app.positions.models import Position
from app.taxpayers.models import Taxpayer, TaxpayerContact
from tests.archive.support import typst_pdf
from tests.conftest import csrf_token

PAGES = (
    "/self-service/",
    "/self-service/documenti",
    "/self-service/documenti/invia",
    "/self-service/pagamenti",
    "/self-service/rateazione",
    "/self-service/recapiti",
)


def _mario(app: Flask) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF))
        db.session.remove()
        return found


def _open_positions(app: Flask) -> list[int]:
    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.select(Position.id)
                .where(Position.taxpayer_id == _mario(app), Position.state.not_in(("pagata", "sgravata")))
                .order_by(Position.id)
            )
        )
        db.session.remove()
        return ids


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_for_the_taxpayer_and_for_no_one_else(personas, path: str) -> None:
    assert personas.client("contribuente").get(path).status_code == 200
    assert personas.client("backoffice").get(path).status_code == 403
    response = personas.client(None).get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_old_address_redirects_to_the_portal(personas) -> None:
    response = personas.client("contribuente").get("/la-mia-posizione")
    assert response.status_code == 301 and response.headers["Location"].endswith("/self-service/")


def test_home_shows_own_positions_amounts_and_notices(personas) -> None:
    html = personas.client("contribuente").get("/self-service/").get_data(as_text=True)
    assert MARIO_ROSSI_CF in html and "Verdi" not in html
    assert 'data-testid="self-total"' in html


def test_a_plan_is_simulated_requested_and_approved_by_the_back_office(app: Flask, personas) -> None:
    taxpayer = personas.client("contribuente")
    (position, *_) = _open_positions(app)
    first = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    page = taxpayer.get(f"/self-service/rateazione?posizioni={position}&rate=6&prima={first}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="plan-simulation"' in html, html[html.find("<main") :][:2000]
    token = csrf_token(taxpayer, "/self-service/rateazione")
    data = {"posizioni": str(position), "rate": "6", "prima": first, "note": "grazie", "csrf_token": token}
    response = taxpayer.post("/self-service/rateazione", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    request_id = int(re.search(r"/richieste/(\d+)$", response.headers["Location"]).group(1))
    again = taxpayer.post("/self-service/rateazione", data=data)  # a re-sent form makes no second request
    assert again.status_code == 422 and "già in una richiesta" in again.get_data(as_text=True)
    with app.app_context():
        request = db.session.get(PlanRequest, request_id)
        assert request.status == "richiesta" and request.installments == 6
        assert [link.position_id for link in request.positions] == [position]
        assert len(request.schedule["installments"]) == 6
        kinds = db.session.scalars(sa.select(Event.kind).where(Event.position_id == position)).all()
        assert "plan.requested" in kinds
        db.session.remove()
    assert "Richiesta" in taxpayer.get(f"/self-service/rateazione/richieste/{request_id}").get_data(
        as_text=True
    )

    office = personas.client("backoffice")
    listing = office.get("/rateazioni/richieste").get_data(as_text=True)
    assert f'data-testid="plan-request-{request_id}"' in listing
    path = f"/rateazioni/richieste/{request_id}"
    refused = office.post(
        path, data={"refuse": "Respingi", "note": "", "csrf_token": csrf_token(office, path)}
    )
    assert refused.status_code == 200 and "motivo del rifiuto" in refused.get_data(as_text=True)
    approved = office.post(
        path, data={"approve": "Approva", "note": "ok", "csrf_token": csrf_token(office, path)}
    )
    assert approved.status_code == 303
    with app.app_context():
        request = db.session.get(PlanRequest, request_id)
        assert request.status == "approvata" and request.decided_by_label
        db.session.remove()
    assert "Approvata" in taxpayer.get(f"/self-service/rateazione/richieste/{request_id}").get_data(
        as_text=True
    )
    assert personas.client("sportello").get("/rateazioni/richieste").status_code == 403


def test_installments_outside_the_band_are_refused_with_the_allowed_range(app: Flask, personas) -> None:
    (position, *_) = _open_positions(app)
    first = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    html = (
        personas.client("contribuente")
        .get(f"/self-service/rateazione?posizioni={position}&rate=120&prima={first}")
        .get_data(as_text=True)
    )
    assert 'data-testid="plan-error"' in html and re.search(r"Rate ammesse: da \d+ a \d+", html)


def test_an_upload_is_filed_in_the_archive_linked_to_the_taxpayer(app: Flask, personas, tmp_path) -> None:
    taxpayer = personas.client("contribuente")
    pdf = typst_pdf(tmp_path / "istanza.pdf", f"Istanza del contribuente {MARIO_ROSSI_CF}").read_bytes()
    token = csrf_token(taxpayer, "/self-service/documenti/invia")
    with app.app_context():
        ente_id = db.session.scalar(
            sa.text("SELECT ente_id FROM taxpayer_enti WHERE taxpayer_id = :t LIMIT 1"), {"t": _mario(app)}
        )
        db.session.remove()
    response = taxpayer.post(
        "/self-service/documenti/invia",
        data={
            "ente_id": str(ente_id),
            "subject": "Istanza",
            "file": (io.BytesIO(pdf), "istanza.pdf"),
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    with app.app_context():
        document = db.session.scalars(sa.select(Document).where(Document.file_name == "istanza.pdf")).one()
        assert document.channel == "web" and document.mime_type == "application/pdf"
        link = db.session.scalars(
            sa.select(DocumentLink).where(DocumentLink.document_id == document.id)
        ).one()
        assert link.taxpayer_id == _mario(app) and link.state == "confirmed"
        document_id = document.id
        db.session.remove()
    listing = taxpayer.get("/self-service/documenti").get_data(as_text=True)
    assert f'data-testid="self-document-{document_id}"' in listing
    download = taxpayer.get(f"/self-service/documenti/{document_id}/scarica")
    assert download.status_code == 200 and download.data == pdf
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.kind == "document.downloaded", Event.taxpayer_id == _mario(app))
        )
        db.session.remove()


def test_a_refused_upload_says_why_and_keeps_nothing(app: Flask, personas) -> None:
    taxpayer = personas.client("contribuente")
    token = csrf_token(taxpayer, "/self-service/documenti/invia")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Document))
        ente_id = db.session.scalar(
            sa.text("SELECT ente_id FROM taxpayer_enti WHERE taxpayer_id = :t LIMIT 1"), {"t": _mario(app)}
        )
        db.session.remove()
    response = taxpayer.post(
        "/self-service/documenti/invia",
        data={"ente_id": str(ente_id), "file": (io.BytesIO(b"PK\x03\x04zip"), "a.zip"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "non accettato" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == before
        db.session.remove()


def test_contacts_are_a_new_version_with_source_contribuente(app: Flask, personas) -> None:
    taxpayer = personas.client("contribuente")
    token = csrf_token(taxpayer, "/self-service/recapiti")
    response = taxpayer.post(
        "/self-service/recapiti",
        data={
            "email": "mario.nuovo@example.org",
            "cellulare": "+39 333 1234567",
            "pec": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    bad = taxpayer.post("/self-service/recapiti", data={"email": "non-una-mail", "csrf_token": token})
    assert bad.status_code == 400 and "non valido" in bad.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(
            sa.select(TaxpayerContact)
            .where(TaxpayerContact.taxpayer_id == _mario(app), TaxpayerContact.kind == "email")
            .order_by(TaxpayerContact.valid_from_dt)
        ).all()
        current = [c for c in rows if c.valid_to_dt is None]
        assert len(current) == 1 and current[0].value == "mario.nuovo@example.org"
        assert current[0].source == "contribuente"
        db.session.remove()
    assert "mario.nuovo@example.org" in taxpayer.get("/self-service/recapiti").get_data(as_text=True)
