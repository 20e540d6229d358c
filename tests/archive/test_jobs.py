"""The archive's jobs: a scan read one page per job (then linked and indexed), the outbox drained into the
search backend, the consistency check repairing drift, the rebuild, and the bulk intake folder."""

from __future__ import annotations

import sqlalchemy as sa

from tests.archive.support import typst_pdf
from tests.ocr.pages import Letter, write_scan


def _mario(session):  # type: ignore[no-untyped-def]
    from app.demo.seed import MARIO_ROSSI_CF
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    return session.execute(
        sa.select(Taxpayer.id, Position.id, NoticeNumber.notice_number)
        .join(Position, Position.taxpayer_id == Taxpayer.id)
        .join(Ente, Ente.id == Position.ente_id)
        .join(
            NoticeNumber, (NoticeNumber.position_id == Position.id) & (NoticeNumber.item_kind == "posizione")
        )
        .where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF, Ente.code == "R01")
        .order_by(Position.id)
    ).first(), MARIO_ROSSI_CF


def test_a_scan_is_read_one_page_per_job_then_linked_and_indexed(app, session, tmp_path, store) -> None:
    from app.archive.indexing import backend, search_documents
    from app.archive.models import Document
    from app.archive.services import IncomingFile, file_documents
    from app.archive.tasks import drain_index, ocr_document_page, read_document
    from app.core.audit import Actor
    from app.enti.models import Ente

    (taxpayer_id, position_id, notice), cf = _mario(session)
    _, pdf = write_scan(tmp_path, letter=Letter(codice_fiscale=cf, notice=notice))
    r01 = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    (result,) = file_documents(
        session,
        [IncomingFile("scansione.pdf", pdf)],
        r01,
        "scansione",
        None,
        Actor.system("test"),
        file_store=app.config["FILE_STORE"],
        mode="jobs",
    )
    session.commit()
    assert result.status == "received" and result.pages == 1
    assert read_document(result.document) == "ocr"  # no text layer: one OCR job per page
    document = session.get(Document, result.document)
    assert document.status == "reading" and [p.text for p in document.page_rows] == [None]
    assert ocr_document_page(result.document, 1) is True
    assert ocr_document_page(result.document, 1) is False  # run again: the document is done, nothing moves
    drain_index()
    session.expire_all()
    assert document.status == "indexed" and document.text_source == "ocr"
    assert document.ocr_confidence is not None and 50 < document.ocr_confidence <= 100
    assert cf in document.text and "1.234,56" in document.text
    assert {(lk.kind, lk.target_id) for lk in document.links} == {
        ("taxpayer", taxpayer_id),
        ("position", position_id),
    }
    found = search_documents(backend(), "rateazione", ente_codes=["R01"], taxpayer=cf)
    assert document.id in [h.document for h in found.hits]


def test_the_outbox_is_written_with_the_filing_and_the_check_repairs_drift(
    app, session, cli, tmp_path
) -> None:
    from app.archive.indexing import backend
    from app.archive.models import Document, SearchOutbox

    pdf = typst_pdf(tmp_path / "a.pdf", "Prima lettera sulle cartelle esattoriali.")
    code, (item,) = cli("archivio", "import", str(pdf), "--ente", "R01")
    assert code == 0 and item["status"] == "indexed"
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(SearchOutbox)) == 0
    )  # drained before returning
    engine = backend()
    assert engine.versions(["R01"])[item["document"]] == 1

    engine.delete([item["document"]])  # the index lost it
    document = session.get(Document, item["document"])
    document.version += 1  # ... and another document changed without the index hearing of it
    session.flush()
    code, report = cli("archivio", "verifica", "--solo-controllo")
    assert report["missing"] == 1 and report["repaired"] is False
    code, report = cli("archivio", "verifica")
    assert code == 0 and report["missing"] == 1 and report["repaired"] is True
    assert backend().versions(["R01"])[item["document"]] == 2
    code, report = cli("archivio", "verifica")
    assert (report["missing"], report["stale"], report["extra"]) == (0, 0, 0)

    code, out = cli("archivio", "reindex")
    assert code == 0 and out["indexed"] >= 1


def test_the_intake_folder_is_swept_into_done_and_refused(app, session, cli, tmp_path) -> None:
    import zipfile

    from app.archive.models import Document

    intake = tmp_path / "intake"
    folder = intake / "R01"
    folder.mkdir(parents=True)
    typst_pdf(folder / "scansione-001.pdf", "Ricevuta di ritorno della raccomandata.")
    with zipfile.ZipFile(folder / "scansione-002.pdf", "w") as archive:
        archive.writestr("x.txt", "zip")
    (intake / "XXX").mkdir()  # an unknown ente's folder is left alone
    (intake / "XXX" / "a.pdf").write_bytes(b"%PDF-")
    app.config["ARCHIVE_INTAKE_DIR"] = str(intake)
    try:
        code, out = cli("archivio", "sweep")
    finally:
        app.config["ARCHIVE_INTAKE_DIR"] = None
    assert code == 1
    assert [(o["ente"], o["file"], o["status"]) for o in out] == [
        ("R01", "scansione-001.pdf", "indexed"),
        ("R01", "scansione-002.pdf", "refused"),
    ]
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == []
    assert (folder / "done" / "scansione-001.pdf").exists()
    assert (folder / "refused" / "scansione-002.pdf").exists()
    assert "ZIP" in (folder / "refused" / "scansione-002.pdf.motivo.txt").read_text(encoding="utf-8")
    assert (intake / "XXX" / "a.pdf").exists()
    document = session.get(Document, out[0]["document"])
    assert document.channel == "scansione" and document.created_by_label == "acquisizione massiva"


def _jobs_filing(app, session, path, name: str):  # type: ignore[no-untyped-def]
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente

    r01 = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    (result,) = file_documents(
        session,
        [IncomingFile(name, path)],
        r01,
        "email",
        None,
        Actor.system("test"),
        file_store=app.config["FILE_STORE"],
        mode="jobs",
    )
    session.commit()
    return result


def test_a_text_file_is_read_at_once_and_a_scan_bound_in_a_pdf_gets_ocr_for_its_page(
    app, session, tmp_path, store
) -> None:
    import pikepdf

    from app.archive.models import Document
    from app.archive.tasks import ocr_document_page, read_document

    (_, _, notice), cf = _mario(session)
    text = tmp_path / "messaggio.txt"
    text.write_text(f"Buongiorno, sono il contribuente {cf}.", encoding="utf-8")
    result = _jobs_filing(app, session, text, "messaggio.txt")
    assert read_document(result.document) == "text_layer"
    assert [lk.kind for lk in session.get(Document, result.document).links] == ["taxpayer"]

    first = typst_pdf(tmp_path / "prima.pdf", "Pagina nata digitale, senza riferimenti.")
    _, scan = write_scan(tmp_path, letter=Letter(codice_fiscale=cf, notice=notice))
    mixed = tmp_path / "misto.pdf"
    with pikepdf.open(first) as out, pikepdf.open(scan) as scanned_pdf:
        out.pages.extend(scanned_pdf.pages)
        out.save(mixed)
    result = _jobs_filing(app, session, mixed, "misto.pdf")
    assert result.pages == 2
    assert read_document(result.document) == "ocr"
    document = session.get(Document, result.document)
    assert [(p.number, p.source, p.text is None) for p in document.page_rows] == [
        (1, "text_layer", False),
        (2, "ocr", True),
    ]
    assert ocr_document_page(result.document, 2) is True
    session.expire_all()
    assert document.status == "indexed" and document.text_source == "ocr"
    own, scanned_text = document.text.split("\f")
    assert "Pagina nata digitale" in own and cf in scanned_text


def test_a_reading_that_stopped_is_started_again_by_the_nightly_check(app, session, tmp_path, store) -> None:
    import datetime as dt

    from app.archive.models import Document
    from app.archive.tasks import read_document, requeue_stuck, verify_index
    from app.core.jobs import queue

    result = _jobs_filing(
        app, session, typst_pdf(tmp_path / "persa.pdf", "Lettera rimasta a metà."), "persa.pdf"
    )
    document = session.get(Document, result.document)
    document.status = "reading"  # claimed by a worker that died before creating its pages
    document.created_dt = document.created_dt - dt.timedelta(hours=2)
    session.commit()
    ocr = queue("ocr")
    ocr.empty()
    report = verify_index()
    assert report["requeued"] == 1
    jobs = [j for j in ocr.get_jobs() if j.func_name == "app.archive.tasks.read_document"]
    assert [j.args for j in jobs] == [(document.id,)]
    ocr.empty()
    session.expire_all()
    assert document.status == "received"
    assert read_document(document.id) == "text_layer"
    assert requeue_stuck() == 0
