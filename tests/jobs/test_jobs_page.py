"""The jobs page: live progress with HTMX polling, the rejected-rows report, cancel and run again."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.auth.models import User
from app.carichi import services
from app.core.audit import Actor
from app.enti.models import Ente
from app.extensions import db
from app.jobs.files import store_stream
from app.jobs.models import BatchJob
from tests.carichi.support import csv_bytes, row, run_file
from tests.conftest import csrf_token


def _queued_job(app, content: bytes | None = None, ente: str = "R01") -> int:
    with app.app_context():
        target = services.resolve_target(db.session, ente_code=ente, entrata_code="TASSA_AUTO")
        stored = store_stream(app.config["FILE_STORE"], io.BytesIO(content or csv_bytes([row(1)])))
        job = services.create_import_job(
            db.session, Actor.system("test"), target, stored, "coda.csv", enqueue=False
        )
        db.session.commit()
        return job.id


def _job(app, job_id: int) -> BatchJob:
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        db.session.expunge(job)
        return job


def test_the_rows_poll_every_second_while_a_job_is_active_and_stop_when_done(app, store, personas) -> None:
    job_id = _queued_job(app)
    client = personas.client("backoffice")
    page = client.get("/elaborazioni/").get_data(as_text=True)
    assert 'hx-get="/elaborazioni/righe" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert f'data-testid="job-{job_id}" data-status="queued"' in page
    assert 'data-testid="job-progress"' in page and "<progress" in page
    fragment = client.get("/elaborazioni/righe", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<div id="job-rows"') and "<html" not in fragment
    with app.app_context():
        from app.carichi.tasks import run_import

        run_import(job_id)
    fragment = client.get("/elaborazioni/righe").get_data(as_text=True)
    assert f'data-testid="job-{job_id}" data-status="done"' in fragment
    assert 'data-polling="off"' in fragment and "hx-trigger" not in fragment
    assert re.search(r'<progress[^>]*max="1" value="1"', fragment)


def test_a_queued_job_can_be_cancelled_with_a_csrf_protected_post(app, store, personas) -> None:
    job_id = _queued_job(app)
    client = personas.client("backoffice")
    assert client.post(f"/elaborazioni/{job_id}/annulla").status_code == 400  # no CSRF token
    response = client.post(
        f"/elaborazioni/{job_id}/annulla", data={"csrf_token": csrf_token(client, "/elaborazioni/")}
    )
    assert response.status_code == 302
    assert _job(app, job_id).status == "cancelled"
    with app.app_context():
        from app.carichi.tasks import run_import

        assert run_import(job_id) is None  # a cancelled job that still reaches a worker does nothing
    again = client.post(
        f"/elaborazioni/{job_id}/annulla",
        data={"csrf_token": csrf_token(client, "/elaborazioni/")},
        follow_redirects=True,
    )
    assert "Si può annullare solo un&#39;elaborazione in coda o in corso." in again.get_data(as_text=True)


def test_the_rejected_rows_report_downloads_as_csv_and_xlsx(app, store, personas) -> None:
    with app.app_context():
        job = run_file(app, csv_bytes([row(n) for n in range(1, 30)] + [row(30, cap="123")]))
        job_id = job.id
    client = personas.client("backoffice")
    csv_response = client.get(f"/elaborazioni/{job_id}/scarti.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    text = csv_response.get_data().decode("utf-8-sig")
    assert "Riga;Colonna;Motivo;Valore;Esito" in text
    assert "31;cap;CAP non valido: attese 5 cifre;123;Scartata" in text
    xlsx = client.get(f"/elaborazioni/{job_id}/scarti.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert ["Riga", "Colonna", "Motivo", "Valore", "Esito"] in values
    assert [31, "cap", "CAP non valido: attese 5 cifre", "123", "Scartata"] in values
    assert client.get(f"/elaborazioni/{job_id}/scarti.pdf").status_code == 404
    detail = client.get(f"/elaborazioni/{job_id}").get_data(as_text=True)
    assert "CAP non valido: attese 5 cifre" in detail and "scarti.xlsx" in detail


def test_a_refused_file_offers_no_retry_and_a_crashed_job_does(app, store, personas) -> None:
    """ "Riprova" only where a new attempt can change the outcome: not for a refused file."""
    from app.jobs import services as job_services

    with app.app_context():
        job = run_file(app, csv_bytes([row(1, cap="x"), row(2)]))  # over the error rate: refused
        refused_id = job.id
        assert job.status == "failed" and job.result["status"] == "rifiutato"
    client = personas.client("backoffice")
    rows = client.get("/elaborazioni/").get_data(as_text=True)
    assert f"/elaborazioni/{refused_id}/riprova" not in rows
    response = client.post(
        f"/elaborazioni/{refused_id}/riprova", data={"csrf_token": csrf_token(client, "/elaborazioni/")}
    )
    assert response.status_code == 302
    assert _job(app, refused_id).status == "failed"  # not queued again
    assert "rilanciarlo darebbe lo stesso esito" in client.get("/elaborazioni/").get_data(as_text=True)
    # a worker that crashed (an internal error, the database gone): the same file may well load next time
    crashed_id = _queued_job(app)
    with app.app_context():
        claim = job_services.claim_job(db.session, crashed_id)
        job_services.finish_job(
            db.session, claim, status="failed", result={"status": "errore"}, error_message="Errore interno"
        )
        db.session.commit()
    assert f"/elaborazioni/{crashed_id}/riprova" in client.get("/elaborazioni/").get_data(as_text=True)
    response = client.post(
        f"/elaborazioni/{crashed_id}/riprova", data={"csrf_token": csrf_token(client, "/elaborazioni/")}
    )
    assert response.status_code == 302
    job = _job(app, crashed_id)
    assert job.status == "queued" and job.rq_job_id == f"batch-{crashed_id}-2"


def test_jobs_of_an_ente_outside_the_users_scope_are_not_shown(app, store, personas) -> None:
    job_id = _queued_job(app, ente="R02")
    with app.app_context():
        from app.auth.services import hash_password

        user = User(
            username="bo-r01",
            display_name="Solo R01",
            role="backoffice",
            password_hash=hash_password("x-very-long-password"),
            email=None,
        )
        user.enti = [db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()]
        db.session.add(user)
        db.session.commit()
    only_r01 = personas.client("bo-r01")
    assert f"job-{job_id}" not in only_r01.get("/elaborazioni/").get_data(as_text=True)
    assert only_r01.get(f"/elaborazioni/{job_id}").status_code == 404
    assert only_r01.get(f"/elaborazioni/{job_id}/scarti.csv").status_code == 404
    assert f"job-{job_id}" in personas.client("backoffice").get("/elaborazioni/").get_data(as_text=True)


@pytest.mark.parametrize(("persona", "status"), [("backoffice", 200), ("sportello", 403), ("regione", 403)])
def test_the_jobs_page_needs_the_import_permission(app, store, personas, persona, status) -> None:
    assert personas.client(persona).get("/elaborazioni/").status_code == status


@pytest.mark.parametrize(
    ("kind", "result", "expected"),
    [
        (
            "carico",
            {"status": "caricato", "accepted": 1, "rejected": 1, "duplicates": 1},
            ["1 accettata", "1 scartata", "1 duplicata"],
        ),
        (
            "carico",
            {"status": "caricato", "accepted": 2, "rejected": 0, "duplicates": 3},
            ["2 accettate", "0 scartate", "3 duplicate"],
        ),
        (
            "pagamenti",
            {
                "status": "accettato",
                "flow": 1,
                "payments": 1,
                "matched": 1,
                "duplicates": 1,
                "total_cents": 100,
            },
            ["1 pagamento", "1 abbinato", "1 già noto"],
        ),
        (
            "fdr",
            {"status": "scaricato", "imported": 1, "duplicates": 1, "refused": 1, "errors": 0, "flows": []},
            ["1 flusso importato", "1 già presente", "1 rifiutato"],
        ),
    ],
)
def test_the_jobs_pages_count_in_the_singular_for_one(app, store, personas, kind, result, expected) -> None:
    """ "1 pagamento", not "1 pagamenti": the list and the detail page say each count with its noun."""
    job_id = _queued_job(app)
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        job.kind, job.status, job.result, job.rows_total, job.rows_done = kind, "done", result, 1, 1
        db.session.commit()
    client = personas.client("backoffice")
    rows = client.get("/elaborazioni/righe").get_data(as_text=True)
    row = re.search(rf'data-testid="job-{job_id}".*?</tr>', rows, flags=re.S)
    assert row, rows
    detail = " ".join(client.get(f"/elaborazioni/{job_id}").get_data(as_text=True).split())
    assert "1 / 1 riga (100%)" in row.group(0)
    for words in expected:
        assert words in row.group(0) and words in detail, (words, row.group(0))
