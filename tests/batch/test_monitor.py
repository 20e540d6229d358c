"""The batch monitor screen: every periodic job of the registry with its schedule, next and last run, outcome
and duration; "Esegui ora" records and queues a run; the job's history; the runs exported."""

from __future__ import annotations

import re

from tests.batch.conftest import FAILING, OK, work
from tests.conftest import csrf_token

PAGE = "/amministrazione/batch/"


def test_every_job_is_listed_with_its_next_run(personas, sample_jobs_registered) -> None:
    from app.core import periodic

    html = personas.client("admin").get(PAGE).get_data(as_text=True)
    for job in periodic.registry().values():
        assert f'data-testid="job-{job.slug}"' in html
    row = re.search(r'data-testid="job-tests-batch-sample-jobs-ok-job">(.*?)</tr>', html, re.S).group(1)
    assert "0 6 * * *" in row and "04/12/2026 06:00" in row  # the clock says 03/12/2026 10:00 in Rome
    assert "5 min" in row


def test_run_now_then_the_outcome_and_duration_on_the_page(
    app, personas, periodic_queue, sample_jobs_registered
) -> None:
    client = personas.client("admin")
    token = csrf_token(client, PAGE)
    for name in (OK, FAILING):
        assert (
            client.post("/amministrazione/batch/esegui", data={"job": name, "csrf_token": token}).status_code
            == 302
        )
    assert periodic_queue.count == 2
    work(app, periodic_queue)
    html = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'data-testid="outcome-tests-batch-sample-jobs-ok-job">Riuscita<', html)
    assert re.search(r'data-testid="outcome-tests-batch-sample-jobs-failing-job">Non riuscita<', html)
    assert "2,5 s" in html
    detail = client.get(f"/amministrazione/batch/lavoro/{FAILING}").get_data(as_text=True)
    assert "RuntimeError: Servizio FdR non raggiungibile" in detail and "Esegui ora" in detail
    csv = client.get("/amministrazione/batch/esecuzioni.csv")
    assert csv.status_code == 200
    text = csv.get_data(as_text=True)
    assert "lavoro di prova che fallisce" in text and "Non riuscita" in text and "Esegui ora" in text
    with app.app_context():
        import sqlalchemy as sa

        from app.core.audit import Event
        from app.extensions import db

        assert db.session.scalar(sa.select(sa.func.count()).where(Event.kind == "batch.run_requested")) == 2


def test_run_now_refuses_an_unknown_job_and_a_missing_token(personas, sample_jobs_registered) -> None:
    client = personas.client("admin")
    assert client.post("/amministrazione/batch/esegui", data={"job": OK}).status_code == 400
    token = csrf_token(client, PAGE)
    assert (
        client.post(
            "/amministrazione/batch/esegui", data={"job": "os.system", "csrf_token": token}
        ).status_code
        == 400
    )
    assert client.get("/amministrazione/batch/lavoro/os.system").status_code == 404
