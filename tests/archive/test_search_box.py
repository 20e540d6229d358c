"""The header search box finds documents by full text (point 6): through the archive's search backend, the
user's enti part of its query, grouped under "Documenti", each with its protocol, the backend's highlight
(escaped except <em>) and the linked taxpayer's card one click away."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.archive.support import debtor_of, typst_pdf

WORD = "zanzibarico"


def _file_and_index(app, tmp_path: Path, body: str, ente: str = "R01") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A letter filed for `ente` through the intake service (read at once), then the outbox drained into
    the search backend as the indexing job does; returns (document id, protocol)."""
    from app.archive.services import IncomingFile, file_documents
    from app.archive.tasks import drain_index
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        session = db.session
        pdf = typst_pdf(tmp_path / f"lettera-{ente}.pdf", body)
        ente_row = session.scalars(sa.select(Ente).where(Ente.code == ente)).one()
        (result,) = file_documents(
            session,
            [IncomingFile(pdf.name, pdf)],
            ente_row,
            "posta",
            "istanza_rateazione",
            Actor.system("test"),
            file_store=app.config["FILE_STORE"],
            mode="sync",
        )
        session.commit()
        drain_index()
        from app.archive.models import Document

        return result.document, db.session.get(Document, result.document).protocol


def test_the_header_search_finds_a_document_of_the_users_enti_only(app, personas, tmp_path, store) -> None:
    with app.app_context():
        from app.extensions import db

        debtor = debtor_of(db.session, "R01")
    document_id, protocol = _file_and_index(
        app,
        tmp_path,
        f"Il contribuente {debtor.codice_fiscale} scrive: la pratica {WORD} <b>urgente</b> & chiede "
        "una rateazione.",
    )
    regione = personas.client("regione")
    page = regione.get(f"/contribuenti/?q={WORD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Documenti" in html and "1 documento" in html
    assert f'href="/archivio/{document_id}"' in html and protocol in html
    assert f"<em>{WORD}</em>" in html  # the backend's mark kept
    assert "<b>" not in html and "&lt;b&gt;urgente&lt;/b&gt;" in html  # the letter's own text escaped
    assert f'href="/contribuenti/{debtor.taxpayer_id}"' in html  # the card one click away

    # the htmx fragment of the same search, as the header box asks it
    fragment = regione.get(f"/contribuenti/?q={WORD}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert protocol in fragment and f"<em>{WORD}</em>" in fragment

    # another ente's user: neither the hit nor its count
    other = personas.client("regione2")
    for headers in ({}, {"HX-Request": "true"}):
        seen = other.get(f"/contribuenti/?q={WORD}", headers=headers).get_data(as_text=True)
        assert protocol not in seen and "<em>" not in seen and 'data-testid="search-documents"' not in seen
    fragment = other.get(f"/contribuenti/?q={WORD}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "documento" not in fragment and "Nessun contribuente trovato" in fragment


def test_roles_without_archive_read_get_no_documents(app, tmp_path, store) -> None:
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.extensions import db
    from app.taxpayers.queries import search

    _file_and_index(app, tmp_path, f"Lettera {WORD} senza codici.")
    with app.app_context():
        ente_ids = frozenset(db.session.scalars(sa.select(Ente.id)))
        staff = search(db.session, Principal(role="callcenter", ente_ids=ente_ids), WORD)
        assert staff.documents_total == 1 and staff.documents[0].highlight.count("<em>") >= 1
        # a taxpayer's own login never reaches this search; a principal without archive.read finds no text
        taxpayer = Principal(role="contribuente", ente_ids=ente_ids)
        assert search(db.session, taxpayer, WORD).documents_total == 0


def test_em_only_escapes_everything_but_em() -> None:
    from app.archive.routes import em_only

    assert str(em_only("a &lt;b&gt; <em>x</em> <script>y</script>")) == (
        "a &lt;b&gt; <em>x</em> &lt;script&gt;y&lt;/script&gt;"
    )
    assert str(em_only("<em>open")) == "<em>open</em>"
    assert str(em_only("</em>stray <em>ok</em></em>")) == "stray <em>ok</em>"
