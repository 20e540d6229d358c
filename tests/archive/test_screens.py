"""The archive's screens: scoping (another ente's document is 404), events on the taxpayer card's
timeline, the download logged, links confirmed with CSRF, and the multi-file upload whose reading job links
the letter."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import sqlalchemy as sa

from tests.archive.support import debtor_of, grouped, typst_pdf
from tests.conftest import csrf_token

# No `session` fixture here: its request context would be shared by every client's request (and with it
# Flask-Login's cached user). Database work runs in app contexts of its own.


def _file(app, tmp_path: Path, ente: str = "R01"):  # type: ignore[no-untyped-def]
    """A letter naming a seeded debtor of `ente`, filed and committed through the intake service; returns
    the document's id, its links as (id, kind) and the debtor."""
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        session = db.session
        debtor = debtor_of(session, ente)
        pdf = typst_pdf(
            tmp_path / f"lettera-{ente}.pdf",
            f"Il contribuente {debtor.codice_fiscale} scrive "
            f"in merito all'avviso {grouped(debtor.notice_number)}: chiede una rateazione.",
        )
        ente_row = session.scalars(sa.select(Ente).where(Ente.code == ente)).one()
        (result,) = file_documents(
            session,
            [IncomingFile(pdf.name, pdf)],
            ente_row,
            "sportello",
            "istanza_rateazione",
            Actor.system("test"),
            file_store=app.config["FILE_STORE"],
            mode="sync",
        )
        session.commit()
        return Filed(app, result.document), debtor


class Filed:
    """A filed document, re-read from the database at each access."""

    def __init__(self, app, document_id: int) -> None:  # type: ignore[no-untyped-def]
        self.app, self.id = app, document_id

    def get(self, name: str):  # type: ignore[no-untyped-def]
        from app.archive.models import Document
        from app.extensions import db

        with self.app.app_context():
            document = db.session.get(Document, self.id)
            return getattr(document, name)

    def links(self) -> list[tuple[int, str, str]]:
        from app.archive.models import DocumentLink
        from app.extensions import db

        with self.app.app_context():
            return list(
                db.session.execute(
                    sa.select(DocumentLink.id, DocumentLink.kind, DocumentLink.state)
                    .where(DocumentLink.document_id == self.id)
                    .order_by(DocumentLink.id)
                ).tuples()
            )

    def link(self, link_id: int, name: str):  # type: ignore[no-untyped-def]
        from app.archive.models import DocumentLink
        from app.extensions import db

        with self.app.app_context():
            return getattr(db.session.get(DocumentLink, link_id), name)


def _events(app, taxpayer_id: int, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    from app.core.audit import Event
    from app.extensions import db

    with app.app_context():
        return [
            {"summary": e.summary, "actor": e.actor_label, "position_id": e.position_id, "payload": e.payload}
            for e in db.session.scalars(
                sa.select(Event)
                .where(Event.taxpayer_id == taxpayer_id, Event.kind == kind)
                .order_by(Event.id)
            )
        ]


def test_another_entes_user_gets_404_for_the_document_its_file_and_its_links(
    app, personas, tmp_path, store
) -> None:
    document, debtor = _file(app, tmp_path)
    protocol = document.get("protocol")
    link_id = document.links()[0][0]
    regione2 = personas.client("regione2")
    assert regione2.get(f"/archivio/{document.id}").status_code == 404
    assert regione2.get(f"/archivio/{document.id}/originale").status_code == 404
    assert protocol not in regione2.get("/archivio/").get_data(as_text=True)
    fragment = regione2.get(f"/archivio/contribuente/{debtor.taxpayer_id}").get_data(as_text=True)
    assert protocol not in fragment
    token = csrf_token(regione2, "/archivio/")
    answer = regione2.post(
        f"/archivio/{document.id}/collegamenti/{link_id}", data={"decision": "confirm", "csrf_token": token}
    )
    assert answer.status_code == 403  # the Regione reads, never writes
    assert not _events(app, debtor.taxpayer_id, "document.downloaded")
    # the Regione of the document's own ente sees it
    regione = personas.client("regione")
    page = regione.get(f"/archivio/{document.id}")
    assert page.status_code == 200 and protocol in page.get_data(as_text=True)
    assert protocol in regione.get("/archivio/").get_data(as_text=True)


def test_filing_and_the_links_are_events_on_the_cards_timeline(app, personas, tmp_path, store) -> None:
    document, debtor = _file(app, tmp_path)
    protocol = document.get("protocol")
    client = personas.client("backoffice")
    card = client.get(f"/contribuenti/{debtor.taxpayer_id}").get_data(as_text=True)
    assert "Documento protocollato" in card and protocol in card
    assert "Collegamento di un documento proposto" in card
    assert 'data-testid="card-documents-section"' in card
    fragment = client.get(f"/archivio/contribuente/{debtor.taxpayer_id}").get_data(as_text=True)
    assert protocol in fragment

    links = {kind: link_id for link_id, kind, _ in document.links()}
    token = csrf_token(client, f"/archivio/{document.id}")
    assert (
        client.post(
            f"/archivio/{document.id}/collegamenti/{links['taxpayer']}", data={"decision": "confirm"}
        ).status_code
        == 400
    )  # no CSRF token: refused
    assert document.link(links["taxpayer"], "state") == "proposed"
    answer = client.post(
        f"/archivio/{document.id}/collegamenti/{links['taxpayer']}",
        data={"decision": "confirm", "csrf_token": token},
    )
    assert answer.status_code == 302
    assert document.link(links["taxpayer"], "state") == "confirmed"
    assert document.link(links["taxpayer"], "decided_by_label") == "Bruno Back Office"
    (linked,) = _events(app, debtor.taxpayer_id, "document.linked")
    assert linked["actor"] == "Bruno Back Office" and protocol in linked["summary"]
    assert "Documento collegato" in client.get(f"/contribuenti/{debtor.taxpayer_id}").get_data(as_text=True)

    client.post(
        f"/archivio/{document.id}/collegamenti/{links['position']}",
        data={"decision": "reject", "csrf_token": token},
    )
    assert document.link(links["position"], "state") == "rejected"
    (removed,) = _events(app, debtor.taxpayer_id, "document.unlinked")
    assert removed["position_id"] == debtor.position_id
    assert document.get("version") == 3  # each change moves the version the index compares

    # the document's own page tells its history: filed, read, each link proposed and decided (newest first)
    page = client.get(f"/archivio/{document.id}").get_data(as_text=True)
    history = page.split('data-testid="document-history"', 1)[1].split("</section>", 1)[0]
    kinds = re.findall(r'<span class="esa-timeline-kind">([^<]+)</span>', history)
    assert kinds[:2] == ["Collegamento rifiutato", "Collegamento confermato"]
    assert sorted(kinds[2:]) == [
        "Collegamento proposto",
        "Collegamento proposto",
        "Protocollato",
        "Testo letto",
    ]
    assert "Bruno Back Office" in history and f"{protocol}, canale sportello" in history


def test_every_download_of_the_original_is_an_event(app, personas, tmp_path, store) -> None:
    document, debtor = _file(app, tmp_path)
    pdf_bytes = (store / document.get("file_path")).read_bytes()
    client = personas.client("callcenter")
    for _ in range(2):
        answer = client.get(f"/archivio/{document.id}/originale")
        assert answer.status_code == 200 and answer.data == pdf_bytes
        assert "attachment" in answer.headers["Content-Disposition"]
    downloads = _events(app, debtor.taxpayer_id, "document.downloaded")
    assert len(downloads) == 2
    assert {e["actor"] for e in downloads} == {"Carla Call Center"}
    assert all(e["payload"]["document"] == document.id for e in downloads)


def test_upload_at_the_desk_reads_in_a_job_then_links(app, personas, tmp_path, store) -> None:
    from app.archive.models import Document
    from app.archive.tasks import drain_index, read_document
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        debtor = debtor_of(db.session, "R01")
        r01 = db.session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
    one = typst_pdf(tmp_path / "uno.pdf", f"Delega del contribuente {debtor.codice_fiscale}.")
    two = typst_pdf(tmp_path / "due.pdf", "Una seconda lettera, senza riferimenti.")
    client = personas.client("sportello")
    token = csrf_token(client, "/archivio/nuovo")
    answer = client.post(
        "/archivio/nuovo",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "ente_id": str(r01),
            "channel": "sportello",
            "doc_type": "delega",
            "sender": "Mario Bianchi",
            "subject": "Delega",
            "files": [(io.BytesIO(one.read_bytes()), "uno.pdf"), (io.BytesIO(two.read_bytes()), "due.pdf")],
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Document.id, Document.file_name, Document.status, Document.channel)
            .where(Document.sender == "Mario Bianchi")
            .order_by(Document.id)
        ).all()
    assert [(r.file_name, r.status, r.channel) for r in rows] == [
        ("uno.pdf", "received", "sportello"),
        ("due.pdf", "received", "sportello"),
    ]
    first = rows[0].id
    page = client.get(f"/archivio/{first}").get_data(as_text=True)
    assert "Lettura del testo in corso" in page  # the page shows the progress, the web never waits

    with app.app_context():
        assert read_document(first) == "text_layer"
        assert read_document(first) is None  # claimed once: a second run does nothing
        drain_index()
    document = Filed(app, first)
    assert document.get("status") == "indexed" and document.get("text_source") == "text_layer"
    assert [(kind, state) for _, kind, state in document.links()] == [("taxpayer", "proposed")]
    assert _events(app, debtor.taxpayer_id, "document.link_proposed")


def test_only_an_administrator_deletes_and_only_at_the_end_of_retention(
    app, personas, tmp_path, store
) -> None:
    from app.archive.services import IncomingFile, file_documents
    from app.archive.tasks import drain_index
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.extensions import db

    recent, debtor = _file(app, tmp_path)
    with app.app_context():
        debtor_cf = db.session.scalar(
            sa.text("SELECT codice_fiscale FROM taxpayers WHERE id = :i"), {"i": debtor.taxpayer_id}
        )
        old = typst_pdf(tmp_path / "vecchia.pdf", f"Una lettera del 2012 di {debtor_cf}.")
        r01 = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        (filed,) = file_documents(
            db.session,
            [IncomingFile(old.name, old)],
            r01,
            "posta",
            "corrispondenza",
            Actor.system("test"),
            file_store=app.config["FILE_STORE"],
            mode="sync",
            received_date=dt.date(2012, 3, 1),
        )
        db.session.commit()
    aged = Filed(app, filed.document)
    admin, backoffice = personas.client("admin"), personas.client("backoffice")
    token = csrf_token(backoffice, f"/archivio/{aged.id}")
    assert backoffice.post(f"/archivio/{aged.id}/elimina", data={"csrf_token": token}).status_code == 403
    token = csrf_token(admin, f"/archivio/{recent.id}")
    admin.post(f"/archivio/{recent.id}/elimina", data={"csrf_token": token})
    assert recent.get("status") == "indexed"  # ten years of retention (art. 2220 c.c.) are not over
    assert "Elimina (fine conservazione)" in admin.get(f"/archivio/{aged.id}").get_data(as_text=True)
    assert admin.get(f"/archivio/{aged.id}/anteprima.png").status_code == 200  # its thumbnail, cached
    original = store / aged.get("file_path")
    thumbnails = list((store / "thumbs").rglob(f"{aged.get('sha256')}-*.png"))
    assert original.is_file() and len(thumbnails) == 1
    assert admin.post(f"/archivio/{aged.id}/elimina", data={"csrf_token": token}).status_code == 302
    assert aged.get("status") == "deleted" and aged.get("text") == ""
    # the original and its thumbnail have left the file store; the row (the register's trace) names no file
    assert not original.exists() and not any(t.exists() for t in thumbnails)
    assert aged.get("file_path") is None
    assert admin.get(f"/archivio/{aged.id}/originale").status_code == 404
    assert admin.get(f"/archivio/{aged.id}/anteprima.png").status_code == 404
    assert (store / recent.get("file_path")).is_file()  # the other document's original stays
    assert admin.get(f"/archivio/{aged.id}").status_code == 404
    (deleted,) = _events(app, debtor.taxpayer_id, "document.deleted")
    assert deleted["payload"]["document"] == aged.id
    with app.app_context():
        from app.archive.indexing import backend

        drain_index()
        assert aged.id not in backend().versions(["R01"])


def test_the_work_list_da_collegare_and_a_confirmation_from_the_card(app, personas, tmp_path, store) -> None:
    document, debtor = _file(app, tmp_path)
    protocol = document.get("protocol")
    client = personas.client("sportello")
    assert protocol in client.get("/archivio/?lista=da_collegare").get_data(as_text=True)
    fragment = client.get(f"/archivio/contribuente/{debtor.taxpayer_id}").get_data(as_text=True)
    assert 'data-testid="card-confirm-link"' in fragment
    links = {kind: link_id for link_id, kind, _ in document.links()}
    token = csrf_token(client, f"/contribuenti/{debtor.taxpayer_id}")
    for kind in ("taxpayer", "position"):
        answer = client.post(
            f"/archivio/{document.id}/collegamenti/{links[kind]}",
            data={"decision": "confirm", "ritorno": "scheda", "csrf_token": token},
        )
        assert answer.headers["Location"].endswith(f"/contribuenti/{debtor.taxpayer_id}")
    assert [state for _, _, state in document.links()] == ["confirmed", "confirmed"]
    assert protocol not in client.get("/archivio/?lista=da_collegare").get_data(as_text=True)
    assert 'data-testid="card-confirm-link"' not in client.get(
        f"/archivio/contribuente/{debtor.taxpayer_id}"
    ).get_data(as_text=True)


def test_pages_read_below_the_confidence_threshold_are_listed_for_review(
    app, personas, tmp_path, store
) -> None:
    from decimal import Decimal

    from app.archive.models import DocumentPage
    from app.extensions import db

    document, _ = _file(app, tmp_path)
    protocol = document.get("protocol")
    client = personas.client("backoffice")
    assert protocol not in client.get("/archivio/?lista=da_rivedere").get_data(as_text=True)
    with app.app_context():
        page = db.session.scalars(
            sa.select(DocumentPage).where(DocumentPage.document_id == document.id)
        ).one()
        page.source, page.confidence = "ocr", Decimal("41.5")  # as Tesseract would score a poor scan
        page.document.text_source, page.document.ocr_confidence = "ocr", Decimal("41.5")
        db.session.commit()
    assert protocol in client.get("/archivio/?lista=da_rivedere").get_data(as_text=True)
    detail = client.get(f"/archivio/{document.id}").get_data(as_text=True)
    assert "Pagine da rivedere" in detail and "pagina 1 (41,50%)" in detail
    assert "affidabilità media 41,50%" in detail
    assert "(41,50%)" in client.get("/archivio/").get_data(as_text=True)
    app.config["OCR_CONFIDENCE_REVIEW"] = 40
    try:
        assert protocol not in client.get("/archivio/?lista=da_rivedere").get_data(as_text=True)
    finally:
        app.config["OCR_CONFIDENCE_REVIEW"] = 60


def test_reading_a_document_or_the_cards_documents_is_logged(app, personas, tmp_path, store) -> None:
    from app.core.audit import AccessLog
    from app.extensions import db

    document, debtor = _file(app, tmp_path)
    client = personas.client("callcenter")
    client.get(f"/archivio/{document.id}")
    client.get(f"/archivio/contribuente/{debtor.taxpayer_id}")
    with app.app_context():
        rows = db.session.execute(
            sa.select(AccessLog.action, AccessLog.taxpayer_id, AccessLog.detail)
            .where(AccessLog.taxpayer_id == debtor.taxpayer_id)
            .order_by(AccessLog.id)
        ).all()
    assert [(r.action, r.taxpayer_id) for r in rows] == [
        ("archive_document", debtor.taxpayer_id),
        ("card_documents", debtor.taxpayer_id),
    ]
    assert rows[0].detail == {"document": document.id}


def test_documents_filed_from_the_card_are_linked_to_that_taxpayer(app, personas, tmp_path, store) -> None:
    from app.archive.models import Document
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        debtor, other = debtor_of(db.session, "R01"), debtor_of(db.session, "R02")
        r01 = db.session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
    client = personas.client("sportello")
    fragment = client.get(f"/archivio/contribuente/{debtor.taxpayer_id}").get_data(as_text=True)
    assert f"/archivio/nuovo?contribuente={debtor.taxpayer_id}" in fragment
    url = f"/archivio/nuovo?contribuente={debtor.taxpayer_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="upload-taxpayer"' in page
    token = csrf_token(client, url)
    letter = typst_pdf(tmp_path / "consegnata.pdf", "Lettera consegnata allo sportello, senza codici.")

    def post(taxpayer_id: int):  # type: ignore[no-untyped-def]
        return client.post(
            url,
            content_type="multipart/form-data",
            data={
                "csrf_token": token,
                "ente_id": str(r01),
                "channel": "sportello",
                "doc_type": "altro",
                "taxpayer_id": str(taxpayer_id),
                "files": [(io.BytesIO(letter.read_bytes()), "consegnata.pdf")],
            },
        )

    refused = post(other.taxpayer_id).get_data(as_text=True)  # a taxpayer of R02 for an R01 document
    assert "non risulta tra quelli dell&#39;ente R01" in refused
    assert post(debtor.taxpayer_id).status_code == 200
    with app.app_context():
        document_id = db.session.scalar(sa.select(Document.id).where(Document.file_name == "consegnata.pdf"))
    filed = Filed(app, document_id)
    assert [(kind, state) for _, kind, state in filed.links()] == [("taxpayer", "confirmed")]
    (linked,) = _events(app, debtor.taxpayer_id, "document.linked")
    assert linked["actor"] == "Silvia Sportello"
    fragment = client.get(f"/archivio/contribuente/{debtor.taxpayer_id}").get_data(as_text=True)
    assert filed.get("protocol") in fragment
