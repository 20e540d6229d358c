"""Every list export with potentially many rows goes through the one mechanism (issue 15 point 6): above
EXPORT_JOB_THRESHOLD the route answers with the job's page, the job is registered with its list's source, and
the file the job writes is the one the direct export gives; a PDF never becomes a job and is refused above its
cap before any row is read."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.reports.test_export_jobs import _job, _work


@pytest.fixture
def where(app: Any) -> dict[str, int]:
    """Ids with data behind them: a position with movements, its taxpayer."""
    from app.extensions import db
    from app.positions.models import Movement, Position

    with app.app_context():
        position_id = db.session.scalar(sa.select(Movement.position_id).order_by(Movement.id).limit(1))
        taxpayer_id = db.session.get(Position, position_id).taxpayer_id
    return {"position_id": position_id, "taxpayer_id": taxpayer_id}


QUERY = {"dataset": "posizioni", "raggruppa": ["entrata"], "misure": ["count", "sum:carico", "sum:residuo"]}

# (persona, path, query string, the source the job is registered with)
SOURCES = [
    ("backoffice", "/posizioni/{position_id}/movimenti", {}, "app.positions.exports.ledger_source"),
    ("backoffice", "/contribuenti/{taxpayer_id}/cronologia", {}, "app.taxpayers.card_exports.timeline"),
    ("backoffice", "/carichi/esporta", {}, "app.carichi.exports.carichi"),
    ("backoffice", "/elaborazioni/esporta", {}, "app.jobs.exports.jobs"),
    ("backoffice", "/pagamenti/revisione/esporta", {}, "app.payments.export_sources.review_queue"),
    ("backoffice", "/pagamenti/anomalie/esporta", {}, "app.payments.export_sources.anomalies"),
    ("backoffice", "/pagamenti/rimborsi/esporta", {"stato": "tutti"}, "app.payments.export_sources.refunds"),
    ("backoffice", "/pagamenti/rendicontazione/esporta", {}, "app.payments.export_sources.collected"),
    (
        "backoffice",
        "/pagamenti/rendicontazione/dettaglio",
        {},
        "app.payments.export_sources.collected_detail",
    ),
    (
        "backoffice",
        "/pagamenti/rendicontazione/non-attribuiti",
        {},
        "app.payments.export_sources.unallocated",
    ),
    ("backoffice", "/monitor/posizioni", {"ente": "R01"}, "app.monitor.export_sources.position_search"),
    ("backoffice", "/monitor/carichi", {}, "app.monitor.export_sources.carico_totals"),
    ("backoffice", "/monitor/comunicazioni", {}, "app.monitor.export_sources.communications"),
    ("backoffice", "/monitor/comunicazioni/atti", {}, "app.monitor.export_sources.communication_acts"),
    ("backoffice", "/monitor/incassi", {}, "app.monitor.export_sources.collections"),
    ("backoffice", "/monitor/incassi/totali", {}, "app.monitor.export_sources.collection_totals"),
    ("backoffice", "/messaggi/esporta", {}, "app.crm.messages.exports.messages"),
    ("backoffice", "/crm/statistiche", {"dimensione": "canale"}, "app.crm.contacts.stats.statistics_source"),
    ("admin", "/registro/eventi/export", {}, "app.accountability.exports.events"),
    ("admin", "/registro/accessi/export", {}, "app.accountability.exports.accesses"),
    ("backoffice", "/analisi/interrogazioni/export", QUERY, "app.analytics.exports.query_results"),
]


def _job_id(response: Any) -> int:
    assert response.status_code == 302, response.status_code
    found = re.search(r"/esportazioni/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


@pytest.mark.parametrize(("username", "path", "query", "source"), SOURCES, ids=[s[1] for s in SOURCES])
def test_each_large_list_export_queues_a_job_of_its_source(
    app, monkeypatch, personas, reports_queue, where, username: str, path: str, query: dict, source: str
) -> None:
    client = personas.client(username)
    url = path.format(**where)
    assert client.get(f"{url}.csv", query_string=query).status_code == 200  # under the default threshold
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", -1)  # every export is "large", even an empty one
    job = _job(app, _job_id(client.get(f"{url}.xlsx", query_string=query)))
    assert (job.kind, job.status, job.params["source"], job.params["fmt"]) == (
        "export",
        "queued",
        source,
        "xlsx",
    )
    assert reports_queue.count == 1
    # a PDF stays in the request (or is refused above its cap): never a job
    assert client.get(f"{url}.pdf", query_string=query).status_code in (200, 422)
    assert reports_queue.count == 1


@pytest.mark.parametrize(
    ("username", "path", "query"),
    [
        ("backoffice", "/posizioni/{position_id}/movimenti", {}),
        ("backoffice", "/analisi/interrogazioni/export", QUERY),
        ("backoffice", "/monitor/posizioni", {"ente": "R01"}),
    ],
)
def test_the_job_writes_the_direct_exports_bytes(
    app, monkeypatch, personas, reports_queue, where, username: str, path: str, query: dict
) -> None:
    client = personas.client(username)
    url = f"{path.format(**where)}.csv"
    direct = client.get(url, query_string=query)
    assert direct.status_code == 200 and direct.data.count(b"\r\n") > 2
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 1)
    job_id = _job_id(client.get(url, query_string=query))
    _work(app, reports_queue)
    done = _job(app, job_id)
    assert done.status == "done" and done.rows_done == done.rows_total > 1
    file = client.get(f"/esportazioni/{job_id}/file")
    assert file.status_code == 200 and file.data == direct.data  # a CSV has no timestamp: same bytes


def test_a_pdf_over_its_cap_is_refused_before_reading(app, monkeypatch, personas, where) -> None:
    import app.reports.routes as export_routes

    monkeypatch.setattr(export_routes, "PDF_MAX_ROWS", 1)
    client = personas.client("backoffice")
    response = client.get(f"/posizioni/{where['position_id']}/movimenti.pdf")
    assert response.status_code == 422
    assert "Troppe righe per il PDF" in response.get_data(as_text=True)
    assert "usare CSV o XLSX" in response.get_data(as_text=True)


def test_a_source_rechecks_the_scope(app, personas, where) -> None:
    """A job runs outside the request: its source checks the user's scope again (another ente's position is
    not found, not exported)."""
    from app.core.access import Principal
    from app.core.errors import NotFound
    from app.extensions import db
    from app.positions.exports import ledger_source

    nobody = Principal(role="backoffice", ente_ids=frozenset({-1}), taxpayer_id=None, user_id=None)
    with app.app_context(), pytest.raises(NotFound):
        ledger_source(db.session, nobody, {"position_id": where["position_id"]})
