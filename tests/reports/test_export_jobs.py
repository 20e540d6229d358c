"""Large exports run as jobs (issue 15 point 6): above EXPORT_JOB_THRESHOLD rows the positions export becomes
a batch job on the "reports" queue, its page shows the progress, and the file it writes is byte for byte the
one the direct export gives for the same request; only the user who asked may download it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest


def _work(app: Any, q: Any) -> None:
    from rq import SimpleWorker

    from app.core.jobs import connection

    with app.app_context():
        SimpleWorker([q], connection=connection(app)).work(burst=True)


def _job(app: Any, job_id: int) -> Any:
    from app.extensions import db
    from app.jobs.models import BatchJob

    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        db.session.expunge(job)
        return job


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_large_export_runs_as_a_job_and_gives_the_same_bytes(
    app, monkeypatch, personas, reports_queue, fmt: str
) -> None:
    client = personas.client("backoffice")
    direct = client.get(f"/posizioni/esporta.{fmt}?stato=")
    assert direct.status_code == 200
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 1)
    response = client.get(f"/posizioni/esporta.{fmt}?stato=")
    assert response.status_code == 302
    job_id = int(re.search(r"/esportazioni/(\d+)$", response.headers["Location"]).group(1))
    queued = _job(app, job_id)
    assert (queued.kind, queued.status, queued.task) == (
        "export",
        "queued",
        "app.reports.tasks.run_export_job",
    )
    assert queued.rows_total > 1 and reports_queue.count == 1
    page = client.get(f"/esportazioni/{job_id}").get_data(as_text=True)
    assert 'data-status="queued"' in page and 'hx-trigger="every 1s"' in page
    _work(app, reports_queue)
    done = _job(app, job_id)
    assert done.status == "done" and done.rows_done == done.rows_total == queued.rows_total
    page = client.get(f"/esportazioni/{job_id}").get_data(as_text=True)
    assert 'data-testid="export-download"' in page and "hx-trigger" not in page
    file = client.get(f"/esportazioni/{job_id}/file")
    assert file.status_code == 200
    assert file.headers["Content-Disposition"].startswith("attachment; filename=posizioni_")
    if fmt == "csv":  # no timestamp in a CSV: the same bytes as the direct download
        assert file.data == direct.data
    # the same request exported directly at the job's generation time: the same bytes
    from app.auth.models import User
    from app.core.access import principal_of
    from app.extensions import db
    from app.positions.exports import positions_export

    with app.test_request_context():
        params = done.params["params"]
        user = db.session.get(User, done.created_by_id)
        again = positions_export(
            db.session,
            principal_of(user),
            fmt,
            title=params["title"],
            as_of=dt.date.fromisoformat(params["as_of"]),
            generated_at=dt.datetime.fromisoformat(done.params["generated_at"]),
            ente_code=params.get("ente_code"),
            state=params.get("state"),
        )
        assert b"".join(again.response) == file.data
    # the jobs page lists it with its download
    jobs_page = client.get("/elaborazioni/").get_data(as_text=True)
    assert f"/esportazioni/{job_id}/file" in jobs_page and "Esportazione" in jobs_page


def test_only_who_asked_downloads_an_export(app, monkeypatch, personas, reports_queue) -> None:
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 1)
    response = personas.client("backoffice").get("/posizioni/esporta.csv")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    _work(app, reports_queue)
    for other in ("sportello", "admin", "regione"):
        client = personas.client(other)
        assert client.get(f"/esportazioni/{job_id}").status_code == 404
        assert client.get(f"/esportazioni/{job_id}/file").status_code == 404


def test_a_small_export_and_a_pdf_stay_in_the_request(app, monkeypatch, personas, reports_queue) -> None:
    client = personas.client("backoffice")
    assert client.get("/posizioni/esporta.csv").status_code == 200  # under the default threshold
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 1)
    assert client.get("/posizioni/esporta.pdf?stato=sospesa").status_code in (200, 413, 422)
    assert reports_queue.count == 0
