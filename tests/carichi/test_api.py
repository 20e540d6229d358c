"""POST /api/v1/carichi (202 + job id) and GET /api/v1/jobs/<id>, scoped to the token's ente."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rq import SimpleWorker

from tests.carichi.support import csv_bytes, row
from tests.conftest import new_api_token


@pytest.fixture
def imports_queue(ctx) -> Iterator:
    from app.core.jobs import queue

    q = queue("imports")
    q.empty()
    yield q
    q.empty()


def _token(app, ente_code: str, scopes=("carichi:write", "jobs:read")) -> str:
    return new_api_token(app, *scopes, ente=ente_code, name=f"Sistema {ente_code}")


def _post(client, token: str, content: bytes, **fields: str):
    data = {"file": (io.BytesIO(content), "lista.csv"), "ente": "R01", "entrata": "TASSA_AUTO", **fields}
    return client.post(
        "/api/v1/carichi",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def _work(app, queue) -> None:
    from app.core.jobs import connection

    with app.app_context():
        SimpleWorker([queue], connection=connection()).work(burst=True)


def test_upload_answers_202_and_the_job_reports_progress_and_result(ctx, imports_queue, client) -> None:
    token = _token(ctx, "R01")
    response = _post(
        client, token, csv_bytes([row(1), row(2), row(3, cap="x")] + [row(n) for n in range(4, 41)])
    )
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body == {"job": body["job"], "status": "queued"}
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{body['job']}")
    status = client.get(
        f"/api/v1/jobs/{body['job']}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert status["status"] == "queued" and status["rows_done"] == 0
    assert imports_queue.count == 1
    _work(ctx, imports_queue)
    status = client.get(
        f"/api/v1/jobs/{body['job']}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert status["status"] == "done"
    assert status["rows_done"] == status["rows_total"] == 40
    assert status["eta_seconds"] is None
    result = status["result"]
    assert (result["accepted"], result["rejected"], result["duplicates"], result["status"]) == (
        39,
        1,
        0,
        "caricato",
    )


def test_the_token_may_only_send_files_of_its_own_ente(ctx, imports_queue, client) -> None:
    token = _token(ctx, "R02")
    response = _post(client, token, csv_bytes([row(1)]))
    assert response.status_code == 403
    assert response.get_json()["error"] == "Il token non è abilitato per l'ente R01."


def test_a_job_of_another_ente_is_not_found(ctx, imports_queue, client) -> None:
    token = _token(ctx, "R01")
    job = _post(client, token, csv_bytes([row(1)])).get_json()["job"]
    other = _token(ctx, "R02")
    response = client.get(f"/api/v1/jobs/{job}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404 and response.get_json()["error"] == "Elaborazione non trovata."


def test_scopes_are_required(ctx, imports_queue, client) -> None:
    token = _token(ctx, "R01", scopes=("positions:read",))
    assert _post(client, token, csv_bytes([row(1)])).status_code == 403
    assert client.get("/api/v1/jobs/1", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert client.post("/api/v1/carichi").status_code == 401


def test_the_same_file_twice_is_a_409(ctx, imports_queue, client) -> None:
    token = _token(ctx, "R01")
    content = csv_bytes([row(1)])
    assert _post(client, token, content).status_code == 202
    _work(ctx, imports_queue)
    response = _post(client, token, content)
    assert response.status_code == 409 and response.get_json()["error"].startswith("File già caricato")


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        pytest.param({"entrata": "BOLLO"}, 422, "Entrata BOLLO non prevista per l'ente R01.", id="entrata"),
        pytest.param(
            {"layout": "nessuno"}, 422, "Tracciato sconosciuto o disattivato: nessuno.", id="layout"
        ),
        pytest.param({"ente": "R99"}, 422, "Ente sconosciuto: R99.", id="ente"),
    ],
)
def test_unknown_entrata_layout_or_ente_are_422(ctx, imports_queue, client, fields, status, message) -> None:
    response = _post(client, _token(ctx, "R01"), csv_bytes([row(1)]), **fields)
    assert response.status_code == status and response.get_json()["error"] == message


def test_a_missing_file_is_a_400(ctx, imports_queue, client) -> None:
    response = client.post(
        "/api/v1/carichi",
        data={"ente": "R01"},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {_token(ctx, 'R01')}"},
    )
    assert response.status_code == 400 and "file" in response.get_json()["error"]


def test_a_file_beyond_the_upload_limit_is_a_413_with_an_italian_message(
    ctx, imports_queue, client, monkeypatch
) -> None:
    token = _token(ctx, "R01")
    monkeypatch.setitem(ctx.config, "MAX_CONTENT_LENGTH", 2048)
    response = _post(client, token, b"x" * 4096)
    assert response.status_code == 413
    assert response.get_json() == {
        "error": "Il file supera il limite di caricamento di 2 KB.",
        "details": {"max_bytes": 2048},
    }
