"""A taxpayer cannot reach another taxpayer's data by changing ids: every self-service route (found in the URL
map, not listed by hand), every method, with the ids of another taxpayer's position, document, plan request
and payment; the ids in query strings and forms; the API. Each answer is a refusal that names nothing of
the other taxpayer, and nothing is written."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from flask import Flask

from app.archive.models import Document
from app.archive.services import IncomingFile, file_documents
from app.core.audit import Actor
from app.demo.seed import MARIO_ROSSI_CF
from app.enti.models import Ente
from app.extensions import db
from app.plans.models import PlanRequest
from app.positions.models import Position
from app.taxpayers.models import Taxpayer, TaxpayerEnte
from tests.conftest import csrf_token
from tests.selfservice.support import plan_request_of_someone

ACTOR = Actor.system("test isolamento")
SELF_SERVICE = ("selfservice.", "main.self_service", "payments.own_receipt_pdf", "plans.")


@pytest.fixture
def other(app: Flask, tmp_path) -> dict:
    """Another taxpayer of Mario's ente, with a document linked to them and a plan request of theirs."""
    with app.app_context():
        mario = db.session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF))
        request = plan_request_of_someone(db.session, not_taxpayer=mario)
        (link,) = request.positions
        ids: dict = {
            "position_id": link.position_id,
            "taxpayer_id": request.taxpayer_id,
            "ente_id": request.ente_id,
            "request_id": request.id,
        }
        from tests.plans.support import plan_of_ente

        ids["plan_id"] = plan_of_ente(db.session, request.ente_id, not_taxpayer=mario).id  # a stored plan
        taxpayer = db.session.get(Taxpayer, ids["taxpayer_id"])
        letter = tmp_path / "lettera.txt"
        letter.write_text(f"Lettera riservata di {taxpayer.codice_fiscale}.", encoding="utf-8")
        (filed,) = file_documents(
            db.session,
            [IncomingFile("lettera-riservata.txt", letter)],
            db.session.get(Ente, ids["ente_id"]),
            "posta",
            None,
            ACTOR,
            file_store=app.config["FILE_STORE"],
            mode="sync",
            taxpayer_id=taxpayer.id,
        )
        db.session.commit()
        ids.update(
            document_id=filed.document,
            cf=taxpayer.codice_fiscale,
            name=taxpayer.display_name,
            payment_id=db.session.scalar(sa.text("SELECT coalesce(max(id), 1) FROM payments")),
        )
        db.session.remove()
    return ids


def _routes(app: Flask) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith(SELF_SERVICE) and rule.arguments
        ),
        key=lambda r: r.rule,
    )


def _fingerprint(app: Flask) -> tuple:
    with app.app_context():
        counts = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (PlanRequest, Document, Position, Taxpayer, TaxpayerEnte)
        )
        statuses = tuple(db.session.scalars(sa.select(PlanRequest.status).order_by(PlanRequest.id)))
        db.session.remove()
    return counts, statuses


def test_every_self_service_route_with_another_taxpayers_ids_is_refused(app: Flask, personas, other) -> None:
    routes = _routes(app)
    assert {r.endpoint for r in routes} >= {
        "selfservice.document_download",
        "selfservice.plan_request",
        "payments.own_receipt_pdf",
    }
    client = personas.client("contribuente")
    token = csrf_token(client, "/self-service/")
    before = _fingerprint(app)
    probed = 0
    for rule in routes:
        values = {arg: other[arg] for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(
                url, method=method, data={"csrf_token": token, "note": "sonda", "approve": "Approva"}
            )
            body = response.get_data(as_text=True)
            assert response.status_code in (403, 404), (method, url, response.status_code)
            assert other["cf"] not in body and other["name"] not in body, (method, url)
            probed += 1
    assert probed >= 4
    assert _fingerprint(app) == before


def test_another_taxpayers_position_in_a_query_or_a_form_is_not_found(app: Flask, personas, other) -> None:
    client = personas.client("contribuente")
    first = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    before = _fingerprint(app)
    response = client.get(f"/self-service/rateazione?posizioni={other['position_id']}&rate=6&prima={first}")
    assert response.status_code == 404 and other["cf"] not in response.get_data(as_text=True)
    token = csrf_token(client, "/self-service/rateazione")
    response = client.post(
        "/self-service/rateazione",
        data={"posizioni": str(other["position_id"]), "rate": "6", "prima": first, "csrf_token": token},
    )
    assert response.status_code == 404
    assert _fingerprint(app) == before


def test_an_upload_into_an_ente_the_taxpayer_does_not_belong_to_is_refused(app: Flask, personas) -> None:
    with app.app_context():
        mario = db.session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF))
        foreign = db.session.scalar(
            sa.select(Ente.id).where(
                ~sa.exists().where(TaxpayerEnte.ente_id == Ente.id, TaxpayerEnte.taxpayer_id == mario)
            )
        )
        db.session.remove()
    assert foreign is not None
    client = personas.client("contribuente")
    before = _fingerprint(app)
    response = client.post(
        "/self-service/documenti/invia",
        data={
            "ente_id": str(foreign),
            "file": (io.BytesIO(b"una lettera"), "a.txt"),
            "csrf_token": csrf_token(client, "/self-service/documenti/invia"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert _fingerprint(app) == before


def test_the_taxpayers_lists_show_nothing_of_the_other_taxpayer(personas, other) -> None:
    client = personas.client("contribuente")
    for path in (
        "/self-service/",
        "/self-service/documenti",
        "/self-service/pagamenti",
        "/self-service/rateazione",
        "/self-service/recapiti",
    ):
        body = client.get(path).get_data(as_text=True)
        assert other["cf"] not in body and "lettera-riservata" not in body, path
        assert f'value="{other["position_id"]}"' not in body, path


def test_the_api_answers_a_taxpayer_session_with_401(personas, other) -> None:
    client = personas.client("contribuente")
    for path in (
        f"/api/v1/positions/{other['position_id']}/quote",
        f"/api/v1/positions/{other['position_id']}",
    ):
        assert client.get(path).status_code in (401, 404), path
