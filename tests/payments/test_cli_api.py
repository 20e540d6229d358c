"""`esattoria pagamenti import|riversamento|avvisi` (formats.md §5) and POST /api/v1/payment-flows."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa
from lxml import etree

from app.extensions import db
from app.payments.models import Payment, Riversamento
from tests.conftest import new_api_token
from tests.payments.support import SAMPLES, csv_file, euro, fdr, open_positions, row


def test_cli_import_prints_exactly_the_summary_and_exits_0(app, tmp_path) -> None:
    path = tmp_path / "flusso.xml"
    path.write_bytes((SAMPLES / "fdr_1_0_5.xml").read_bytes())
    result = app.test_cli_runner().invoke(args=["pagamenti", "import", str(path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(summary) == ["flow", "payments", "matched", "unmatched", "duplicates", "total"]
    assert (summary["payments"], summary["matched"], summary["total"]) == (4, 4, "677.99")
    again = app.test_cli_runner().invoke(args=["pagamenti", "import", str(path), "--format", "fdr"])
    assert again.exit_code == 1 and "già importato" in again.stderr


def test_cli_import_csv_detected_and_refusals_exit_1(app, tmp_path) -> None:
    with app.app_context():
        (p,) = open_positions(db.session)
    good = tmp_path / "pagamenti.csv"
    good.write_bytes(csv_file(f"CLI-1;2026-11-18;;{euro(p.due)};{p.notice};;;bonifico"))
    result = app.test_cli_runner().invoke(args=["pagamenti", "import", str(good)])
    assert result.exit_code == 0 and json.loads(result.stdout)["matched"] == 1
    bad = tmp_path / "negativo.csv"
    bad.write_bytes(csv_file("CLI-2;2026-11-18;;-5,00;;;;"))
    result = app.test_cli_runner().invoke(
        args=["pagamenti", "import", str(bad), "--format", "csv", "--ente", "R01"]
    )
    assert result.exit_code == 1 and "negativo" in result.stderr
    mismatch = tmp_path / "totali.xml"
    mismatch.write_bytes(fdr([row(p.iuv, "CLI-IUR", 100)], declared_total_cents=200))
    result = app.test_cli_runner().invoke(args=["pagamenti", "import", str(mismatch)])
    assert result.exit_code == 1 and "totali dichiarati" in result.stderr


def test_cli_riversamento_writes_csv_and_xml(app, tmp_path, store) -> None:
    from app.payments.queries import today_rome
    from app.payments.riversamento import XSD_PATH

    with app.app_context():
        (p,) = open_positions(db.session)
    flow = tmp_path / "f.xml"
    flow.write_bytes(fdr([row(p.iuv, "CLI-RIV", p.due)]))
    assert app.test_cli_runner().invoke(args=["pagamenti", "import", str(flow)]).exit_code == 0
    today = today_rome().isoformat()
    out = tmp_path / "out"
    result = app.test_cli_runner().invoke(
        args=["pagamenti", "riversamento", "--ente", "R01", "--dal", today, "--al", today, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["totale"] == f"{p.due / 100:.2f}" and len(summary["files"]) == 2
    xml = etree.parse(summary["files"][1])
    assert etree.XMLSchema(etree.parse(str(XSD_PATH))).validate(xml)
    with open(summary["files"][0], encoding="utf-8") as handle:
        assert "CLI-RIV" in handle.read()
    with app.app_context():
        assert db.session.get(Riversamento, summary["riversamento"]).xml_validated
    result = app.test_cli_runner().invoke(args=["pagamenti", "riversamento", "--ente", "R01"])
    assert result.exit_code != 0


def test_scheduled_riversamento_job_covers_every_ente(app, store) -> None:
    from app.payments.tasks import daily_riversamento

    with app.app_context():
        done = daily_riversamento("2026-11-20")
        assert len(done) == 2 and all(d["riversamento"] for d in done)


def test_cli_avvisi_assigns_missing_notice_numbers(app) -> None:
    result = app.test_cli_runner().invoke(args=["pagamenti", "avvisi"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"created": 0}  # the seed gave them all


def _token(app, ente_code: str, scopes=("payments:write",)) -> str:
    return new_api_token(app, *scopes, ente=ente_code, name=f"PSP {ente_code}")


def _post(client, token: str, content: bytes, name: str = "flusso.xml", **fields):
    return client.post(
        "/api/v1/payment-flows",
        data={"file": (io.BytesIO(content), name), **fields},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def test_api_imports_a_flow_of_the_token_ente(app, client) -> None:
    token = _token(app, "R01")
    response = _post(client, token, (SAMPLES / "fdr_1_0_4.xml").read_bytes())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["payments"], body["matched"], body["unmatched"], body["total"]) == (5, 3, 2, "603.49")
    assert _post(client, token, (SAMPLES / "fdr_1_0_4.xml").read_bytes()).status_code == 409
    bad = _post(client, token, b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>")
    assert bad.status_code == 422 and "DOCTYPE" in bad.get_json()["error"]


def test_api_refuses_a_flow_of_another_ente_and_wrong_scopes(app, client) -> None:
    other = _token(app, "R02")
    response = _post(client, other, (SAMPLES / "fdr_1_0_5.xml").read_bytes())
    assert response.status_code == 403 and "R01" in response.get_json()["error"]
    with app.app_context():
        assert not db.session.scalars(sa.select(Payment).where(Payment.iur.like("UNCRITMM-%"))).all()
    reader = _token(app, "R01", scopes=("positions:read",))
    assert _post(client, reader, (SAMPLES / "fdr_1_0_5.xml").read_bytes()).status_code == 403
    assert client.post("/api/v1/payment-flows").status_code == 401


def test_api_csv_uses_the_token_ente(app, client) -> None:
    with app.app_context():
        (p,) = open_positions(db.session, ente="R02")
    token = _token(app, "R02")
    response = _post(
        client, token, csv_file(f"API-1;2026-11-18;;{euro(p.due)};{p.notice};;;bonifico"), "p.csv"
    )
    assert response.status_code == 201 and response.get_json()["matched"] == 1


def test_openapi_documents_the_endpoint(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/payment-flows" in spec["paths"] and "PaymentFlowSummary" in spec["components"]["schemas"]


def test_api_respond_async_queues_a_job_that_imports_the_flow(app, client, store) -> None:
    from rq import SimpleWorker

    from app.core.jobs import connection, queue

    imports = queue("imports", app)
    imports.empty()
    token = _token(app, "R01", scopes=("payments:write", "jobs:read"))
    response = client.post(
        "/api/v1/payment-flows",
        data={"file": (io.BytesIO((SAMPLES / "fdr_1_0_4.xml").read_bytes()), "flusso.xml")},
        headers={"Authorization": f"Bearer {token}", "Prefer": "respond-async, wait=10"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    assert response.headers["Preference-Applied"] == "respond-async"
    job_url = response.headers["Location"]
    assert job_url.endswith(f"/api/v1/jobs/{response.get_json()['job']}")
    with app.app_context():
        assert not db.session.scalars(sa.select(Payment).where(Payment.iur.like("UNCRITMM-%"))).all()
    assert imports.count == 1
    with app.app_context():
        SimpleWorker([imports], connection=connection(app)).work(burst=True)
    status = client.get(job_url, headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (status["kind"], status["status"]) == ("pagamenti", "done"), status
    assert (status["result"]["payments"], status["result"]["matched"]) == (5, 3)
    # the same file again, asynchronously: the job fails as a duplicate and nothing changes
    again = client.post(
        "/api/v1/payment-flows",
        data={"file": (io.BytesIO((SAMPLES / "fdr_1_0_4.xml").read_bytes()), "flusso.xml")},
        headers={"Authorization": f"Bearer {token}", "Prefer": "respond-async"},
        content_type="multipart/form-data",
    )
    with app.app_context():
        SimpleWorker([imports], connection=connection(app)).work(burst=True)
    failed = client.get(again.headers["Location"], headers={"Authorization": f"Bearer {token}"}).get_json()
    assert failed["status"] == "failed" and "già importato" in failed["error"]
    imports.empty()
