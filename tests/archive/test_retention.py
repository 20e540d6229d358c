"""Retention and conservazione: the ZIP package (originals + an index of AgID metadata valid against
schemas/conservazione.xsd), selections by type and date, and the discard of a document by an administrator
only at the end of its retention, its original removed only when no other document names it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from tests.conftest import csrf_token

NS = {"c": "urn:esattoria:conservazione:1"}
XSD = Path(__file__).resolve().parents[2] / "schemas" / "conservazione.xsd"


def _file(app, tmp_path: Path, ente: str, text: str, doc_type: str | None, received: dt.date) -> int:  # type: ignore[no-untyped-def]
    """A text document filed and committed for `ente`; returns its id."""
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.extensions import db

    path = tmp_path / f"{hashlib.sha256(text.encode()).hexdigest()[:12]}.txt"
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        ente_row = db.session.scalars(sa.select(Ente).where(Ente.code == ente)).one()
        (result,) = file_documents(
            db.session,
            [IncomingFile("lettera.txt", path)],
            ente_row,
            "posta",
            doc_type,
            Actor.system("test"),
            file_store=app.config["FILE_STORE"],
            mode="sync",
            received_date=received,
            sender="Mario Rossi",
            subject=f"Lettera {text[:20]}",
        )
        db.session.commit()
        assert result.document is not None, result
        return result.document


def _doc(app, document_id: int, name: str):  # type: ignore[no-untyped-def]
    from app.archive.models import Document
    from app.extensions import db

    with app.app_context():
        return getattr(db.session.get(Document, document_id), name)


def _index(package: zipfile.ZipFile) -> etree._ElementTree:
    tree = etree.parse(io.BytesIO(package.read("indice.xml")))
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(tree), schema.error_log
    return tree


def _years_ago(years: int, days: int = 0) -> dt.date:
    today = dt.date.today()
    return today.replace(year=today.year - years) - dt.timedelta(days=days)


def test_the_package_holds_the_originals_and_an_index_valid_against_the_xsd(
    app, cli, store, tmp_path
) -> None:
    from app.core.audit import Event
    from app.extensions import db

    a = _file(
        app,
        tmp_path,
        "R01",
        "Istanza di rateazione del contribuente.",
        "istanza_rateazione",
        dt.date(2026, 1, 10),
    )
    b = _file(app, tmp_path, "R01", "Delega al figlio per la pratica.", "delega", dt.date(2026, 3, 5))
    c = _file(app, tmp_path, "R01", "Ricorso contro l'avviso.", "ricorso", dt.date(2025, 12, 1))
    other = _file(app, tmp_path, "R02", "Lettera per un altro ente.", None, dt.date(2026, 1, 15))
    out = tmp_path / "pacchetto.zip"

    # over the period of these documents (the seeded demo has documents of its own later in 2026)
    period = ("--dal", "2025-01-01", "--al", "2026-06-30")
    code, summary = cli("archivio", "conserva", "--ente", "R01", *period, "--out", str(out))
    assert code == 0, summary
    with zipfile.ZipFile(out) as package:
        tree = _index(package)
        documents = tree.findall("c:Documento", NS)
        ids = [d.findtext("c:IdDoc/c:Identificativo", namespaces=NS) for d in documents]
        protocols = {n: _doc(app, n, "protocol") for n in (a, b, c, other)}
        # oldest first; another ente's document is never in it
        assert ids[-3:] == [protocols[c], protocols[a], protocols[b]] and protocols[other] not in ids
        assert summary["documents"] == len(ids) and summary["file"] == str(out)
        for node in documents:
            member = node.findtext("c:File", namespaces=NS)
            content = package.read(member)
            assert node.findtext("c:IdDoc/c:ImprontaCrittograficaDelDocumento/c:Impronta", namespaces=NS) == (
                hashlib.sha256(content).hexdigest()
            )
            assert int(node.find("c:File", NS).get("dimensione")) == len(content)
        first = documents[ids.index(protocols[a])]
        assert first.findtext("c:TipologiaDocumentale", namespaces=NS) == "Istanza di rateazione"
        assert first.findtext("c:DatiDiRegistrazione/c:DataRegistrazione", namespaces=NS) == "2026-01-10"
        assert first.findtext("c:DatiDiRegistrazione/c:NumeroDocumento", namespaces=NS) == protocols[a]
        assert first.findtext("c:DatiDiRegistrazione/c:TipologiaDiFlusso", namespaces=NS) == "E"
        assert (
            first.findtext("c:Soggetti/c:Ruolo[@tipo='Mittente']/c:Denominazione", namespaces=NS)
            == "Mario Rossi"
        )
        assert first.findtext("c:ChiaveDescrittiva/c:Oggetto", namespaces=NS).startswith("Lettera Istanza")
        assert (
            first.findtext("c:Classificazione/c:IndiceDiClassificazione", namespaces=NS)
            == "istanza_rateazione"
        )
        assert first.findtext("c:IdentificativoDelFormato/c:Formato", namespaces=NS) == "text/plain"
        assert first.findtext("c:TempoDiConservazione", namespaces=NS) == "10"
        assert first.findtext("c:Riservato", namespaces=NS) == "true"
        assert (
            package.read(first.findtext("c:File", namespaces=NS))
            == b"Istanza di rateazione del contribuente."
        )
    with app.app_context():
        event = db.session.scalars(sa.select(Event).where(Event.kind == "archive.exported")).one()
        assert (
            event.payload["documents"] == len(ids)
            and event.payload["index_sha256"] == summary["index_sha256"]
        )


def test_a_selection_by_dates_and_types(app, cli, store, tmp_path) -> None:
    a = _file(app, tmp_path, "R01", "Prima lettera di gennaio.", "istanza_rateazione", dt.date(2026, 1, 10))
    b = _file(app, tmp_path, "R01", "Seconda lettera di marzo.", "ricorso", dt.date(2026, 3, 5))
    out = tmp_path / "gennaio.zip"
    code, summary = cli(
        "archivio",
        "conserva",
        "--ente",
        "R01",
        "--dal",
        "2026-01-01",
        "--al",
        "31/01/2026",
        "--out",
        str(out),
    )
    assert code == 0, summary
    with zipfile.ZipFile(out) as package:
        tree = _index(package)
        ids = [n.text for n in tree.findall("c:Documento/c:IdDoc/c:Identificativo", NS)]
        assert _doc(app, a, "protocol") in ids and _doc(app, b, "protocol") not in ids
        assert tree.findtext("c:Selezione/c:Dal", namespaces=NS) == "2026-01-01"
    code, summary = cli("archivio", "conserva", "--ente", "R01", "--tipo", "ricorso", "--out", str(out))
    with zipfile.ZipFile(out) as package:
        ids = [n.text for n in _index(package).findall("c:Documento/c:IdDoc/c:Identificativo", NS)]
    assert _doc(app, b, "protocol") in ids and _doc(app, a, "protocol") not in ids
    assert summary["documents"] == len(ids)


def test_an_inverted_date_range_is_refused_and_no_file_is_left(app, store, tmp_path) -> None:
    out = tmp_path / "x.zip"
    result = app.test_cli_runner().invoke(
        args=[
            "archivio",
            "conserva",
            "--ente",
            "R01",
            "--dal",
            "2026-03-01",
            "--al",
            "2026-01-31",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 2
    assert "Intervallo di date non valido: dal 01/03/2026 al 31/01/2026." in result.stderr
    assert not out.exists() and not list(tmp_path.glob("x.zip*"))


def test_a_document_is_discarded_only_at_the_end_of_its_retention(app, cli, store, tmp_path) -> None:
    from app.archive.models import Document, SearchOutbox
    from app.core.audit import Event
    from app.extensions import db

    old = _file(app, tmp_path, "R01", "Lettera di undici anni fa.", "corrispondenza", _years_ago(11))
    recent = _file(app, tmp_path, "R01", "Lettera di nove anni fa.", "corrispondenza", _years_ago(9))
    old_file = store / _doc(app, old, "file_path")

    code = app.test_cli_runner().invoke(args=["archivio", "scarta", str(recent)])
    assert code.exit_code == 1
    end = _years_ago(9).replace(year=_years_ago(9).year + 10)
    assert f"è in conservazione: eliminabile dal {end:%d/%m/%Y}." in code.stderr
    assert _doc(app, recent, "status") == "indexed" and (store / _doc(app, recent, "file_path")).exists()

    exit_code, out = cli("archivio", "scarta", str(old))
    assert exit_code == 0, out
    assert out == {
        "document": old,
        "protocol": _doc(app, old, "protocol"),
        "status": "deleted",
        "original_removed": True,
    }
    assert _doc(app, old, "status") == "deleted" and _doc(app, old, "text") == ""
    assert not old_file.exists()
    with app.app_context():
        event = db.session.scalars(sa.select(Event).where(Event.kind == "document.deleted")).one()
        assert event.payload["document"] == old and "eliminato a fine conservazione" in event.summary
        assert (
            db.session.scalars(
                sa.select(SearchOutbox.op)
                .where(SearchOutbox.document_id == old)
                .order_by(SearchOutbox.id.desc())
            ).first()
            == "delete"
        )
        assert db.session.get(Document, old) is not None  # the protocol register keeps its trace
    # twice: refused, nothing new
    again = app.test_cli_runner().invoke(args=["archivio", "scarta", str(old)])
    assert again.exit_code == 1 and "già stato eliminato" in again.stderr


def test_an_original_another_document_names_stays_in_the_store(app, cli, store, tmp_path) -> None:
    text = "La stessa lettera inviata a due enti."
    mine = _file(app, tmp_path, "R01", text, None, _years_ago(12))
    theirs = _file(app, tmp_path, "R02", text, None, _years_ago(1))
    assert _doc(app, mine, "file_path") == _doc(app, theirs, "file_path")  # one content, one stored file
    code, out = cli("archivio", "scarta", str(mine))
    assert code == 0 and out["original_removed"] is False
    assert (store / _doc(app, theirs, "file_path")).read_text(encoding="utf-8") == text


def test_a_type_kept_without_limit_is_never_discarded(app, store, tmp_path) -> None:
    from app.archive.models import DocumentType
    from app.extensions import db

    with app.app_context():
        db.session.add(
            DocumentType(code="delibera", label="Delibera", retention_years=None, source="art. 2220 c.c.")
        )
        db.session.commit()
    document = _file(app, tmp_path, "R01", "Delibera di trent'anni fa.", "delibera", _years_ago(30))
    result = app.test_cli_runner().invoke(args=["archivio", "scarta", str(document)])
    assert result.exit_code == 1 and "eliminabile mai (conservazione illimitata)" in result.stderr


@pytest.mark.parametrize("username", ["backoffice", "regione"])
def test_only_an_administrator_reaches_conservazione(app, personas, store, tmp_path, username) -> None:
    old = _file(app, tmp_path, "R01", "Vecchia lettera.", None, _years_ago(11))
    client = personas.client(username)
    assert 'data-testid="retention-link"' not in client.get("/archivio/").get_data(as_text=True)
    assert client.get("/archivio/conservazione").status_code == 403
    token = csrf_token(client, "/archivio/")
    assert client.post(f"/archivio/{old}/scarta", data={"csrf_token": token}).status_code == 403
    assert _doc(app, old, "status") == "indexed"


def test_an_administrator_exports_and_discards_from_the_screen(app, personas, store, tmp_path) -> None:
    old = _file(app, tmp_path, "R01", "Lettera da scartare.", None, _years_ago(11))
    recent = _file(app, tmp_path, "R01", "Lettera da tenere.", None, _years_ago(2))
    admin = personas.client("admin")
    assert 'data-testid="retention-link"' in admin.get("/archivio/").get_data(as_text=True)
    page = admin.get("/archivio/conservazione").get_data(as_text=True)
    assert f'data-testid="discard-{old}"' in page and f'data-testid="discard-{recent}"' not in page
    token = csrf_token(admin, "/archivio/conservazione")
    assert admin.post(f"/archivio/{old}/scarta").status_code == 400  # no CSRF token
    answer = admin.post(f"/archivio/{recent}/scarta", data={"csrf_token": token}, follow_redirects=True)
    assert "è in conservazione: eliminabile dal" in answer.get_data(as_text=True)
    answer = admin.post(f"/archivio/{old}/scarta", data={"csrf_token": token}, follow_redirects=True)
    assert f"Documento {_doc(app, old, 'protocol')} eliminato." in answer.get_data(as_text=True)
    assert _doc(app, old, "status") == "deleted"

    with app.app_context():
        from app.enti.models import Ente
        from app.extensions import db

        r01 = db.session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
    response = admin.post(
        "/archivio/conservazione/pacchetto",
        data={"csrf_token": token, "ente_id": r01, "types": ["altro"], "date_from": "", "date_to": ""},
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as package:
        ids = [n.text for n in _index(package).findall("c:Documento/c:IdDoc/c:Identificativo", NS)]
    assert _doc(app, recent, "protocol") in ids and _doc(app, old, "protocol") not in ids  # discarded: gone
