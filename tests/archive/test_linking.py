"""What the archive finds in a document's text, and which of it becomes a link (issue 11 point 4)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from tests.archive.support import debtor_of, grouped, typst_pdf


def test_identifiers_are_found_only_with_valid_check_characters() -> None:
    from app.archive.linking import find_identifiers

    text = (
        "Codice fiscale RSSMRA80A01H501U, omocodia RSSMRA80A01H50MM, sbagliato RSSMRA80A01H501X; "
        "partita IVA 80000000010 (e 80000000011, non valida); avviso 3010 0000 0000 0012 55 e "
        "301000000000001300 (cifre di controllo errate); IUV 01000000000001255; "
        "nostro protocollo R01-2026-0000042."
    )
    found = find_identifiers(text, "R01")
    assert found.codici_fiscali == ("RSSMRA80A01H501U", "RSSMRA80A01H50MM", "80000000010")
    assert found.notice_numbers == ("301000000000001255",)
    assert found.iuvs == ("01000000000001255",)
    assert found.protocols == ("R01-2026-0000042",)
    assert find_identifiers("rssmra80a01h501u in minuscolo").codici_fiscali == ("RSSMRA80A01H501U",)


def _filed(app, session, tmp_path: Path, body: str, ente: str = "R01"):  # type: ignore[no-untyped-def]
    from app.archive.models import Document
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente

    pdf = typst_pdf(tmp_path / f"doc-{abs(hash(body))}.pdf", body)
    ente_row = session.scalars(sa.select(Ente).where(Ente.code == ente)).one()
    (result,) = file_documents(
        session,
        [IncomingFile(pdf.name, pdf)],
        ente_row,
        "posta",
        None,
        Actor.system("test"),
        file_store=app.config["FILE_STORE"],
        mode="sync",
    )
    return session.get(Document, result.document), result


def test_an_iuv_finds_the_position_and_a_cited_protocol_brings_its_confirmed_links(
    app, session, tmp_path, store
) -> None:
    from app.archive.services import decide_link
    from app.core.audit import Actor

    debtor = debtor_of(session, "R01")
    first, _ = _filed(app, session, tmp_path, f"Lettera di {debtor.codice_fiscale}.")
    decide_link(session, first.links[0], "confirm", Actor.system("test"))
    by_iuv, result = _filed(app, session, tmp_path, f"Pagamento con IUV {debtor.notice_number[1:]}.")
    assert [(lk.kind, lk.position_id) for lk in by_iuv.links] == [("position", debtor.position_id)]
    assert result.proposed_links == [{"kind": "position", "notice_number": debtor.notice_number}]
    reply, result = _filed(app, session, tmp_path, f"In risposta alla vostra nota {first.protocol}.")
    assert result.proposed_links == [{"kind": "taxpayer", "codice_fiscale": debtor.codice_fiscale}]
    assert reply.links[0].matched == first.protocol and reply.links[0].state == "proposed"


def test_the_entes_setting_links_an_unambiguous_taxpayer_automatically(app, session, tmp_path, store) -> None:
    from app.archive.services import AUTO_LINK
    from app.core.audit import Event
    from app.enti.models import Ente, Parameter

    r01 = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    session.add(
        Parameter(
            code=AUTO_LINK,
            ente_id=r01.id,
            valid_from=dt.date(2026, 1, 1),
            value={"enabled": True},
            source="Determinazione dell'ente",
        )
    )
    session.flush()
    debtor = debtor_of(session, "R01")
    document, result = _filed(app, session, tmp_path, f"Scrive {debtor.codice_fiscale}.")
    assert [(lk.kind, lk.state, lk.decided_by_label) for lk in document.links] == [
        ("taxpayer", "confirmed", "collegamento automatico")
    ]
    assert result.proposed_links == [{"kind": "taxpayer", "codice_fiscale": debtor.codice_fiscale}]
    kinds = set(session.scalars(sa.select(Event.kind).where(Event.taxpayer_id == debtor.taxpayer_id)))
    assert {"document.filed", "document.linked"} <= kinds
    # two taxpayers named: nothing is decided for the user
    other = session.execute(
        sa.text(
            "SELECT t.codice_fiscale FROM taxpayers t JOIN taxpayer_enti te ON te.taxpayer_id = t.id "
            "WHERE te.ente_id = :e AND t.id <> :t AND t.kind = 'PF' ORDER BY t.id LIMIT 1"
        ),
        {"e": r01.id, "t": debtor.taxpayer_id},
    ).scalar_one()
    both, _ = _filed(app, session, tmp_path, f"Scrivono {debtor.codice_fiscale} e {other}.")
    assert [lk.state for lk in both.links] == ["proposed", "proposed"]


def test_outside_the_ente_nothing_is_linked(app, session, tmp_path, store) -> None:
    other = debtor_of(session, "R02")
    document, result = _filed(
        app,
        session,
        tmp_path,
        f"Il contribuente {other.codice_fiscale}, avviso {grouped(other.notice_number)}.",
    )
    assert document.links == [] and result.proposed_links == []
