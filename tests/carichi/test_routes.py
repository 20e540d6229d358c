"""The upload page (preview, then confirm), the carichi list, the layouts admin, access and upload limits."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from app.carichi.models import ImportLayout
from app.core.history import RowVersion
from app.extensions import db
from app.jobs.models import BatchJob
from tests.carichi.support import csv_bytes, row
from tests.conftest import csrf_token


def _options(html: str, name: str) -> dict[str, str]:
    """label prefix (before " – ") -> value of the options of one <select>."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return {
        label.split(" – ")[0].strip(): value
        for value, label in re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]+)</option>', select)
    }


def _upload(
    client,
    content: bytes,
    *,
    layout: str = "canonico",
    entrata: str = "R01 · TASSA_AUTO",
    name: str = "lista.csv",
):
    html = client.get("/carichi/nuovo").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, "/carichi/nuovo"),
        "ente_id": _options(html, "ente_id")["R01"],
        "entrata_id": _options(html, "entrata_id")[entrata],
        "layout_id": _options(html, "layout_id")[layout],
        "file": (io.BytesIO(content), name),
    }
    return client.post("/carichi/nuovo", data=data, content_type="multipart/form-data")


def run_previews(app) -> None:
    """What `esattoria worker` does with the upload previews: run the queued ones (queue "default")."""
    from rq import SimpleWorker

    from app.carichi.services import PREVIEW_QUEUE
    from app.core.jobs import connection, queue

    with app.app_context():
        SimpleWorker([queue(PREVIEW_QUEUE)], connection=connection()).work(burst=True)


def _preview(app, client, content: bytes, **kw) -> str:
    """Upload, let the worker read the file, and return the preview page."""
    response = _upload(client, content, **kw)
    assert response.status_code == 303 and "/carichi/anteprima?t=" in response.headers["Location"]
    run_previews(app)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_upload_shows_a_preview_with_errors_then_confirm_queues_the_job(app, store, personas) -> None:
    client = personas.client("backoffice")
    page = client.get("/carichi/nuovo")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "data-dropzone" in html and "js/carichi.js" in html and 'type="file"' in html
    html = _preview(app, client, csv_bytes([row(1), row(2, cap="1"), row(3)]))
    assert 'data-testid="preview-rows"' in html and "TEST-000003" in html
    assert "CAP non valido: attese 5 cifre" in html and "1 righe su 3 hanno errori" in html
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(BatchJob))
    confirm = client.post(
        "/carichi/conferma", data={"csrf_token": csrf_token(client, "/carichi/nuovo"), "token": token}
    )
    assert confirm.status_code == 302 and "/elaborazioni/" in confirm.headers["Location"]
    with app.app_context():
        job = db.session.scalars(sa.select(BatchJob).order_by(BatchJob.id.desc())).first()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BatchJob)) == before + 1
        assert (job.status, job.kind, job.file_name, job.params["layout"], job.actor_label) == (
            "queued",
            "carico",
            "lista.csv",
            "canonico",
            "Bruno Back Office",
        )
        assert job.rq_job_id == f"batch-{job.id}"


def test_a_tampered_confirmation_is_refused(app, store, personas) -> None:
    client = personas.client("backoffice")
    response = client.post(
        "/carichi/conferma", data={"csrf_token": csrf_token(client, "/carichi/nuovo"), "token": "falso"}
    )
    assert response.status_code == 400


def test_a_refused_file_shows_why_and_offers_no_confirmation(app, store, personas) -> None:
    client = personas.client("backoffice")
    html = _preview(app, client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, name="foto.csv")
    assert 'data-testid="preview-refused"' in html and "immagine PNG" in html
    assert "Conferma e avvia" not in html


def test_a_file_already_loaded_is_flagged_in_the_preview(app, store, personas) -> None:
    from tests.carichi.support import run_file

    content = csv_bytes([row(1)])
    with app.app_context():
        run_file(app, content)
    client = personas.client("backoffice")
    html = _preview(app, client, content)
    assert 'data-testid="preview-duplicate"' in html and "File già caricato" in html
    assert "Conferma e avvia" not in html


def test_an_upload_beyond_the_limit_answers_413_in_italian(app, store, personas, monkeypatch) -> None:
    client = personas.client("backoffice")
    token = csrf_token(client, "/carichi/nuovo")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = client.post(
        "/carichi/nuovo",
        data={"csrf_token": token, "file": (io.BytesIO(b"x" * 8192), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Il file supera il limite di caricamento di 4 KB" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("backoffice", 200),
        ("sportello", 403),
        ("callcenter", 403),
        ("regione", 403),
        ("contribuente", 403),
    ],
)
def test_only_admin_and_backoffice_import(app, store, personas, persona, status) -> None:
    assert personas.client(persona).get("/carichi/nuovo").status_code == status
    assert personas.client(persona).get("/carichi/").status_code == status


def test_the_carichi_list_shows_loaded_rolls(app, store, personas) -> None:
    from tests.carichi.support import run_file

    with app.app_context():
        job = run_file(app, csv_bytes([row(1), row(2)]), name="ruolo-2024.csv")
    html = personas.client("backoffice").get("/carichi/").get_data(as_text=True)
    assert "ruolo-2024.csv" in html and f"<td>{job.result['carico']}</td>" in html


def test_an_admin_edits_a_layout_and_the_previous_version_is_kept(app, store, personas) -> None:
    client = personas.client("admin")
    assert client.get("/carichi/tracciati").status_code == 200
    assert personas.client("backoffice").get("/carichi/tracciati").status_code == 403
    with app.app_context():
        layout = db.session.scalars(sa.select(ImportLayout).where(ImportLayout.name == "canonico")).one()
    page = client.get(f"/carichi/tracciati/{layout.id}").get_data(as_text=True)
    assert "id_posizione" in page
    form = {
        "csrf_token": csrf_token(client, f"/carichi/tracciati/{layout.id}"),
        "name": "canonico",
        "description": "CSV canonico",
        "flow": "carico",
        "format": "csv",
        "encoding": "auto",
        "separator": "auto",
        "decimal_separator": "auto",
        "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
        "columns": '{"id_posizione": "id_posizione"}',
        "options": "{}",
        "default_entrata": "",
        "max_error_rate": "10",
        "active": "y",
    }
    refused = client.post(f"/carichi/tracciati/{layout.id}", data=form)
    assert refused.status_code == 200
    assert "Campi obbligatori non mappati" in refused.get_data(as_text=True)
    import json

    from app.carichi.validation import CARICO_FIELDS

    form["columns"] = json.dumps({f: f for f in CARICO_FIELDS})
    saved = client.post(f"/carichi/tracciati/{layout.id}", data=form)
    assert saved.status_code == 302
    with app.app_context():
        layout = db.session.get(ImportLayout, layout.id)
        assert layout.max_error_rate_bp == 1000 and layout.ignore_unknown_columns is False
        version = db.session.scalars(
            sa.select(RowVersion).where(
                RowVersion.table_name == "import_layouts", RowVersion.row_id == layout.id
            )
        ).one()
        assert "max_error_rate_bp" in version.changed and version.before["max_error_rate_bp"] == 500
    assert "Versioni precedenti" in client.get(f"/carichi/tracciati/{layout.id}").get_data(as_text=True)


def test_a_new_fixed_width_layout_is_a_row_not_code(app, store, personas) -> None:
    import json

    from tests.carichi.support import run_file

    client = personas.client("admin")
    columns = [
        {"field": "id_posizione", "start": 1, "length": 10},
        {"field": "codice_fiscale", "start": 11, "length": 16},
        {"field": "cognome", "start": 27, "length": 10},
        {"field": "nome", "start": 37, "length": 10},
        {"field": "indirizzo", "start": 47, "length": 20},
        {"field": "cap", "start": 67, "length": 5},
        {"field": "comune", "start": 72, "length": 10},
        {"field": "provincia", "start": 82, "length": 2},
        {"field": "anno_riferimento", "start": 84, "length": 4},
        {"field": "capitale", "start": 88, "length": 8},
        {"field": "data_scadenza", "start": 96, "length": 8},
    ]
    form = {
        "csrf_token": csrf_token(client, "/carichi/tracciati/nuovo"),
        "name": "regione-x",
        "description": "",
        "flow": "carico",
        "format": "fixed",
        "encoding": "auto",
        "separator": "auto",
        "decimal_separator": "cents",
        "date_formats": ["GGMMAAAA"],
        "columns": json.dumps(columns),
        "options": '{"record_length": 103}',
        "default_entrata": "tassa_auto",
        "max_error_rate": "5",
        "active": "y",
    }
    response = client.post("/carichi/tracciati/nuovo", data=form)
    assert response.status_code == 302, re.findall(
        r"invalid-feedback[^>]*>([^<]+)", response.get_data(as_text=True)
    )
    from tests.carichi.support import make_cf

    record = (
        f"{'X-1':<10}{make_cf(5)}{'Bianchi':<10}{'Anna':<10}{'Via Roma 1':<20}00100{'Roma':<10}RM2022"
        f"{'00012345'}31012023"
    )
    assert len(record) == 103
    with app.app_context():
        job = run_file(app, (record + "\n").encode(), layout="regione-x", entrata=None)
        assert job.status == "done" and job.result["accepted"] == 1, job.error_message


@pytest.mark.parametrize("layout", ["canonico-xlsx", "canonico-xml"])
def test_xlsx_and_xml_uploads_are_previewed(app, store, personas, layout) -> None:
    from tests.carichi.support import xlsx_bytes, xml_bytes

    content = xlsx_bytes([row(1), row(2)]) if layout == "canonico-xlsx" else xml_bytes([row(1), row(2)])
    html = _preview(app, personas.client("backoffice"), content, layout=layout, name=f"lista.{layout[-4:]}")
    assert 'data-testid="preview-rows"' in html and "TEST-000002" in html and "Conferma e avvia" in html


def test_the_preview_is_read_by_the_worker_while_the_page_polls(app, store, personas, monkeypatch) -> None:
    """Issue 10 point 8: the web request stores the file and queues the preview; it never reads the file."""
    from app.carichi import pipeline

    real = pipeline.preview

    def not_here(*args, **kwargs):
        raise AssertionError("the upload request read the file")

    client = personas.client("backoffice")
    monkeypatch.setattr(pipeline, "preview", not_here)
    response = _upload(client, csv_bytes([row(1), row(2)]))
    assert response.status_code == 303
    location = response.headers["Location"]
    pending = client.get(location).get_data(as_text=True)
    assert 'data-status="pending"' in pending and 'hx-trigger="every 1s"' in pending
    assert "Anteprima: lista.csv" in pending and "Conferma e avvia" not in pending
    fragment = client.get(location, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="preview-result"') and "<html" not in fragment
    monkeypatch.setattr(pipeline, "preview", real)
    run_previews(app)
    done = client.get(location, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="done"' in done and "hx-get" not in done
    assert "TEST-000002" in done and "Conferma e avvia" in done
    # the preview belongs to who uploaded it
    assert personas.client("admin").get(location).status_code == 403
    assert client.get("/carichi/anteprima?t=falso").status_code == 400


def test_a_preview_gone_from_redis_says_so(app, store, personas) -> None:
    from rq.job import Job

    from app.core.jobs import connection

    client = personas.client("backoffice")
    location = _upload(client, csv_bytes([row(1)])).headers["Location"]
    with app.app_context():
        from app.carichi.routes import _serializer

        token = location.split("t=", 1)[1]
        with app.test_request_context():
            data = _serializer().loads(token)
        Job.fetch(data["preview"], connection=connection()).delete()
    html = client.get(location).get_data(as_text=True)
    assert "Anteprima scaduta o non più disponibile" in html and "Conferma e avvia" not in html
