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
    entrata: str = "TASSA_AUTO",
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
    assert "CAP non valido: attese 5 cifre" in html and "1 riga su 3 ha errori" in html
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


def _selected(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option selected value="\d+">([^<]+)</option>', select).group(1)


def test_the_upload_form_starts_on_the_canonical_layout_and_the_entrate_of_the_chosen_ente(
    app, store, personas
) -> None:
    client = personas.client("backoffice")
    html = client.get("/carichi/nuovo").get_data(as_text=True)
    assert _selected(html, "layout_id").startswith("canonico – CSV")
    assert _selected(html, "ente_id").startswith("R01")
    nothing = "— nessuna (solo variazioni anagrafiche) —"
    assert set(_options(html, "entrata_id")) == {nothing, "CANONI", "SANZIONI", "TASSA_AUTO"}
    assert _selected(html, "entrata_id") == nothing  # three entrate: the operator picks one
    # the ente select swaps the entrata select (HTMX), no inline script
    ente = re.search(r'<select[^>]*name="ente_id"[^>]*>', html).group(0)
    assert 'hx-get="/carichi/nuovo/entrate"' in ente and 'hx-target="#entrata-field"' in ente
    r02 = _options(html, "ente_id")["R02"]
    fragment = client.get(f"/carichi/nuovo/entrate?ente_id={r02}").get_data(as_text=True)
    assert fragment.strip().startswith('<div id="entrata-field">') and "<script" not in fragment
    assert set(_options(fragment, "entrata_id")) == {nothing, "TASSA_AUTO"}
    assert _selected(fragment, "entrata_id") == "TASSA_AUTO – Tassa automobilistica"  # the only one
    # only importers, and only for their enti
    assert personas.client("regione").get(f"/carichi/nuovo/entrate?ente_id={r02}").status_code == 403
    assert client.get("/carichi/nuovo/entrate?ente_id=999999").status_code == 404


def test_a_canonical_file_sent_with_the_defaults_is_previewed(app, store, personas) -> None:
    """The form as it opens (canonical layout) plus the entrata: a canonical CSV is read, not refused."""
    client = personas.client("backoffice")
    html = client.get("/carichi/nuovo").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, "/carichi/nuovo"),
        "ente_id": _options(html, "ente_id")["R01"],
        "entrata_id": _options(html, "entrata_id")["TASSA_AUTO"],
        "layout_id": re.search(
            r'<select[^>]*name="layout_id"[^>]*>.*?<option selected value="(\d+)"', html, re.S
        ).group(1),
        "file": (io.BytesIO(csv_bytes([row(1), row(2)])), "lista.csv"),
    }
    response = client.post("/carichi/nuovo", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    run_previews(app)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="preview-rows"' in page and "TEST-000002" in page and "Conferma e avvia" in page


def test_an_entrata_of_another_ente_is_refused(app, store, personas) -> None:
    client = personas.client("backoffice")
    html = client.get("/carichi/nuovo").get_data(as_text=True)
    r02 = _options(html, "ente_id")["R02"]
    fragment = client.get(f"/carichi/nuovo/entrate?ente_id={r02}").get_data(as_text=True)
    r02_entrata = _options(fragment, "entrata_id")
    data = {
        "csrf_token": csrf_token(client, "/carichi/nuovo"),
        "ente_id": _options(html, "ente_id")["R01"],
        "entrata_id": r02_entrata["TASSA_AUTO"],
        "layout_id": _options(html, "layout_id")["canonico"],
        "file": (io.BytesIO(csv_bytes([row(1)])), "lista.csv"),
    }
    response = client.post("/carichi/nuovo", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-testid="preview-rows"' not in page
    assert "Non è una opzione valida" in page


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


def _rows(flow: str, mapping: dict) -> dict[str, str]:
    """The editor's mapping rows as posted: one per canonical field of the flow (empty = not in the file).
    `mapping`: field -> column name, or field -> (start, length) for a fixed-width layout."""
    from app.carichi.validation import FIELDS

    data = {}
    for i, name in enumerate(FIELDS[flow]):
        data[f"columns-{i}-field"] = name
        where = mapping.get(name)
        if isinstance(where, tuple):
            data[f"columns-{i}-start"], data[f"columns-{i}-length"] = str(where[0]), str(where[1])
        elif where:
            data[f"columns-{i}-source"] = where
    return data


def test_an_admin_edits_a_layout_and_the_previous_version_is_kept(app, store, personas) -> None:
    client = personas.client("admin")
    assert client.get("/carichi/tracciati").status_code == 200
    assert personas.client("backoffice").get("/carichi/tracciati").status_code == 403
    with app.app_context():
        layout = db.session.scalars(sa.select(ImportLayout).where(ImportLayout.name == "canonico")).one()
    page = client.get(f"/carichi/tracciati/{layout.id}").get_data(as_text=True)
    # the mapping is a row per field, with the column's name in an input (no JSON to write)
    assert 'name="columns-0-field" type="hidden" value="id_posizione"' in page
    assert re.search(r'name="columns-0-source" [^>]*value="id_posizione"', page)
    assert "Colonne (JSON)" not in page and "Opzioni (JSON)" not in page
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
        "default_entrata": "",
        "max_error_rate": "10",
        "active": "y",
        **_rows("carico", {"id_posizione": "id_posizione"}),
    }
    refused = client.post(f"/carichi/tracciati/{layout.id}", data=form)
    assert refused.status_code == 200
    assert "Campi obbligatori non mappati" in refused.get_data(as_text=True)
    from app.carichi.validation import CARICO_FIELDS

    form.update(_rows("carico", {f: f for f in CARICO_FIELDS}))
    saved = client.post(f"/carichi/tracciati/{layout.id}", data=form)
    assert saved.status_code == 302
    with app.app_context():
        layout = db.session.get(ImportLayout, layout.id)
        assert layout.max_error_rate_bp == 1000 and layout.ignore_unknown_columns is False
        assert layout.columns == {f: f for f in CARICO_FIELDS}
        version = db.session.scalars(
            sa.select(RowVersion).where(
                RowVersion.table_name == "import_layouts", RowVersion.row_id == layout.id
            )
        ).one()
        assert "max_error_rate_bp" in version.changed and version.before["max_error_rate_bp"] == 500
    assert "Versioni precedenti" in client.get(f"/carichi/tracciati/{layout.id}").get_data(as_text=True)


FIXED_COLUMNS = {
    "id_posizione": (1, 10),
    "codice_fiscale": (11, 16),
    "cognome": (27, 10),
    "nome": (37, 10),
    "indirizzo": (47, 20),
    "cap": (67, 5),
    "comune": (72, 10),
    "provincia": (82, 2),
    "anno_riferimento": (84, 4),
    "capitale": (88, 8),
    "data_scadenza": (96, 8),
}


def _fixed_record(n: int) -> str:
    from tests.carichi.support import make_cf

    record = (
        f"{f'X-{n}':<10}{make_cf(4 + n)}{'Bianchi':<10}{'Anna':<10}{'Via Roma 1':<20}00100{'Roma':<10}RM2022"
        f"{'00012345'}31012023"
    )
    assert len(record) == 103
    return record


def _fixed_form(client, url: str) -> dict:
    return {
        "csrf_token": csrf_token(client, url),
        "name": "regione-x",
        "description": "",
        "flow": "carico",
        "format": "fixed",
        "encoding": "auto",
        "separator": "auto",
        "decimal_separator": "cents",
        "date_formats": ["GGMMAAAA"],
        "record_length": "103",
        "default_entrata": "tassa_auto",
        "max_error_rate": "5",
        "active": "y",
        **_rows("carico", FIXED_COLUMNS),
    }


def test_a_new_fixed_width_layout_is_a_row_not_code(app, store, personas) -> None:
    from tests.carichi.support import run_file

    client = personas.client("admin")
    response = client.post("/carichi/tracciati/nuovo", data=_fixed_form(client, "/carichi/tracciati/nuovo"))
    assert response.status_code == 302, re.findall(r"<li>([^<]+)</li>", response.get_data(as_text=True))
    with app.app_context():
        layout = db.session.scalars(sa.select(ImportLayout).where(ImportLayout.name == "regione-x")).one()
        assert layout.columns[1] == {"field": "codice_fiscale", "start": 11, "length": 16}
        assert layout.options == {"record_length": 103}
        job = run_file(app, (_fixed_record(1) + "\n").encode(), layout="regione-x", entrata=None)
        assert job.status == "done" and job.result["accepted"] == 1, job.error_message


def test_the_layout_editor_previews_a_sample_file_with_the_mapping_being_edited(app, store, personas) -> None:
    """Nothing is saved: the preview reads the sample with the fields as they are in the form."""
    client = personas.client("admin")
    url = "/carichi/tracciati/nuovo"
    form = _fixed_form(client, url)
    sample = (_fixed_record(1) + "\n" + _fixed_record(2)[:90] + "\n").encode("ascii")
    page = client.get(url).get_data(as_text=True)
    form["preview_ente"] = _options(page, "preview_ente")["R01"]
    form["anteprima"] = "1"
    form["sample"] = (io.BytesIO(sample), "prova.txt")
    response = client.post(url, data=form, content_type="multipart/form-data", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<div id="layout-preview"'), html[:300]
    assert 'data-testid="layout-preview-rows"' in html
    assert "X-1" in html and "Bianchi" in html and "codice_fiscale<br>" in html
    assert "1 riga su 2 ha errori" in html and "campo obbligatorio mancante" in html  # the short record
    with app.app_context():
        assert (
            db.session.scalars(sa.select(ImportLayout).where(ImportLayout.name == "regione-x")).first()
            is None
        )
    # with another mapping (cognome read from the wrong positions) the same sample reads differently
    form.update(_rows("carico", {**FIXED_COLUMNS, "cognome": (29, 8)}))
    form["sample"] = (io.BytesIO(sample), "prova.txt")
    html = client.post(
        url, data=form, content_type="multipart/form-data", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "anchi" in html and "Bianchi" not in html
    # a layout that cannot be used says why instead of a preview
    form = {k: v for k, v in form.items() if not k.startswith("columns-")}
    form.update(_rows("carico", {"id_posizione": (1, 10)}))
    form["sample"] = (io.BytesIO(sample), "prova.txt")
    html = client.post(
        url, data=form, content_type="multipart/form-data", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "Anteprima non disponibile" in html and "Campi obbligatori non mappati" in html


def test_changing_flow_or_format_swaps_the_mapping_rows(app, store, personas) -> None:
    client = personas.client("admin")
    page = client.get("/carichi/tracciati/nuovo").get_data(as_text=True)
    flow = re.search(r'<select[^>]*name="flow"[^>]*>', page).group(0)
    assert 'hx-get="/carichi/tracciati/colonne"' in flow and 'hx-target="#layout-columns"' in flow
    fragment = client.get(
        "/carichi/tracciati/colonne",
        query_string={
            "flow": "anagrafica",
            "format": "csv",
            "columns-0-field": "codice_fiscale",
            "columns-0-source": "CF",
        },
    ).get_data(as_text=True)
    assert fragment.strip().startswith('<div id="layout-columns">')
    assert re.findall(r'data-field="([a-z_]+)"', fragment) == [
        "codice_fiscale",
        "indirizzo",
        "cap",
        "comune",
        "provincia",
        "pec",
        "data_decesso",
    ]
    assert re.search(r'name="columns-0-source" [^>]*value="CF"', fragment)  # what was typed is kept
    fixed = client.get(
        "/carichi/tracciati/colonne", query_string={"flow": "carico", "format": "fixed"}
    ).get_data(as_text=True)
    assert 'name="columns-0-start"' in fixed and 'name="record_length"' in fixed
    assert 'name="columns-0-source"' not in fixed


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
REPOSITORY_PATH = re.compile(r"docs/|schemas/|\b[\w-]+\.(?:md|xsd|py)\b|/work/|/tmp/|instance/")


def test_no_screen_shows_a_repository_path(app, store, personas) -> None:
    """Descriptions and help on screens name formats and acts, never files of the repository."""
    from pathlib import Path

    templates = Path(app.root_path).parent / "templates"
    for template in templates.rglob("*.html"):
        text = re.sub(r"{#.*?#}", "", template.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"{{.*?}}|{%.*?%}", "", text, flags=re.S)  # url_for(...), static file names
        assert not REPOSITORY_PATH.search(text), (template.name, REPOSITORY_PATH.search(text).group(0))
    with app.app_context():  # a default layout saved by an earlier version keeps the text it had then
        from app.carichi.layouts import ensure_default_layouts

        ensure_default_layouts(db.session)
        layout = db.session.scalars(sa.select(ImportLayout).where(ImportLayout.name == "canonico-xml")).one()
        layout.description = "XML conforme a schemas/lista_di_carico.xsd: radice <lista_di_carico>"
        db.session.commit()
    client = personas.client("admin")
    for url in ("/carichi/tracciati", "/carichi/nuovo", "/pagamenti/tracciati", "/pagamenti/riversamento"):
        html = client.get(url).get_data(as_text=True)
        body = re.sub(r'(?:href|src|action|hx-get|hx-post)="[^"]*"', "", html)
        assert not REPOSITORY_PATH.search(body), (url, REPOSITORY_PATH.search(body).group(0))
