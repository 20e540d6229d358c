"""`esattoria archivio import` and `search`, exactly as formats.md §6 says (keys, values, exit codes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from tests.archive.support import debtor_of, grouped, typst_pdf

IMPORT_KEYS = {
    "file",
    "document",
    "protocol",
    "sha256",
    "pages",
    "text_source",
    "ocr_confidence",
    "proposed_links",
    "status",
}


def _letter(tmp_path: Path, session, name: str = "lettera.pdf", extra: str = "") -> tuple[Path, object]:  # type: ignore[no-untyped-def]
    debtor = debtor_of(session, "R01")
    body = (
        f"Il sottoscritto, codice fiscale {debtor.codice_fiscale}, chiede la rateazione dell'avviso "
        f"numero {grouped(debtor.notice_number)} relativo alle tasse automobilistiche. {extra}"
    )
    return typst_pdf(tmp_path / name, body), debtor


def test_import_of_a_born_digital_pdf_proposes_the_taxpayer_and_the_position(
    app, session, cli, tmp_path, store
) -> None:
    from app.archive.models import Document

    pdf, debtor = _letter(tmp_path, session)
    code, out = cli(
        "archivio", "import", str(pdf), "--ente", "R01", "--tipo", "istanza_rateazione", "--canale", "posta"
    )
    assert code == 0, out
    (item,) = out
    assert set(item) == IMPORT_KEYS  # no "error" unless refused
    assert item["file"] == "lettera.pdf"
    assert item["status"] == "indexed"
    assert item["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert item["pages"] == 1
    assert item["text_source"] == "text_layer"
    assert item["ocr_confidence"] is None
    assert item["protocol"].startswith("R01-") and len(item["protocol"].split("-")[2]) == 7
    assert item["proposed_links"] == [
        {"kind": "taxpayer", "codice_fiscale": debtor.codice_fiscale},
        {"kind": "position", "notice_number": debtor.notice_number},
    ]
    document = session.get(Document, item["document"])
    assert document.protocol == item["protocol"] and document.channel == "posta"
    assert document.doc_type.code == "istanza_rateazione"
    # the original, untouched, in the content-addressed store
    stored = store / document.file_path
    assert stored.read_bytes() == pdf.read_bytes()


def test_the_same_content_again_is_a_duplicate_with_the_same_id(app, session, cli, tmp_path) -> None:
    from app.archive.models import Document

    pdf, _ = _letter(tmp_path, session)
    _, (first,) = cli("archivio", "import", str(pdf), "--ente", "R01")
    copy = tmp_path / "copia.pdf"
    copy.write_bytes(pdf.read_bytes())
    code, (again,) = cli("archivio", "import", str(copy), "--ente", "R01")
    assert code == 0
    assert again["status"] == "duplicate"
    assert again["document"] == first["document"] and again["protocol"] == first["protocol"]
    assert again["file"] == "copia.pdf" and "error" not in again
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(Document).where(Document.sha256 == first["sha256"])
        )
        == 1
    )


def test_a_zip_renamed_pdf_is_refused_and_the_other_files_are_kept(
    app, session, cli, tmp_path, store
) -> None:
    import zipfile

    from app.archive.models import Document

    pdf, _ = _letter(tmp_path, session)
    fake = tmp_path / "ricevuta.pdf"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("dentro.txt", "non sono un PDF")
    fake_sha = hashlib.sha256(fake.read_bytes()).hexdigest()
    code, out = cli("archivio", "import", str(fake), str(pdf), "--ente", "R01")
    assert code == 1
    refused, kept = out
    assert refused["status"] == "refused" and refused["file"] == "ricevuta.pdf"
    assert refused["document"] is None and refused["protocol"] is None
    assert "ZIP" in refused["error"]  # the Italian reason names what the content is
    assert kept["status"] == "indexed" and "error" not in kept
    assert session.get(Document, kept["document"]) is not None
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Document).where(Document.sha256 == fake_sha))
        == 0
    )
    assert not [p for p in store.rglob("*") if p.is_file() and p.name == fake_sha]  # nothing stored


def test_a_taxpayer_of_another_ente_is_never_proposed(app, session, cli, tmp_path) -> None:
    other = debtor_of(session, "R02")
    pdf = typst_pdf(
        tmp_path / "altro.pdf",
        f"Scrive il contribuente {other.codice_fiscale}, avviso {other.notice_number}.",
    )
    code, (item,) = cli("archivio", "import", str(pdf), "--ente", "R01")
    assert code == 0 and item["proposed_links"] == []


def test_search_prints_formats_json_and_counts_only_that_ente(app, session, cli, tmp_path) -> None:
    pdf, debtor = _letter(tmp_path, session, extra="Allego le ricevute dei bollettini.")
    _, (mine,) = cli("archivio", "import", str(pdf), "--ente", "R01")
    theirs = typst_pdf(
        tmp_path / "r02.pdf",
        "Chiedo la rateazione delle tasse automobilistiche arretrate.",
        ente="Regione Seconda",
    )
    _, (other,) = cli("archivio", "import", str(theirs), "--ente", "R02")
    assert other["status"] == "indexed"

    code, found = cli("archivio", "search", "automobilistica", "--ente", "R01")  # stemming: -iche/-ica
    assert code == 0
    assert set(found) == {"total", "hits"}
    assert found["total"] == 1
    (hit,) = found["hits"]
    assert set(hit) == {"document", "protocol", "score", "highlight", "taxpayers"}
    assert hit["document"] == mine["document"] and hit["protocol"] == mine["protocol"]
    assert isinstance(hit["score"], float)
    assert "<em>automobilistiche</em>" in hit["highlight"]
    assert hit["taxpayers"] == [debtor.codice_fiscale]

    _, by_cf = cli("archivio", "search", "rateazione", "--ente", "R01", "--cf", debtor.codice_fiscale)
    assert [h["document"] for h in by_cf["hits"]] == [mine["document"]]
    _, r02 = cli("archivio", "search", "rateazione", "--ente", "R02", "--limit", "5")
    assert r02["total"] == 1 and [h["document"] for h in r02["hits"]] == [other["document"]]
    _, none = cli("archivio", "search", "ricevute", "--ente", "R02")
    assert none == {"total": 0, "hits": []}


def test_an_encrypted_pdf_is_stored_and_flagged_not_read(app, session, cli, tmp_path, store) -> None:
    import pikepdf

    from app.archive.models import Document

    locked = tmp_path / "cifrato.pdf"
    document = pikepdf.Pdf.new()
    document.add_blank_page()
    document.save(locked, encryption=pikepdf.Encryption(owner="proprietario", user="segreta", R=6))
    code, (item,) = cli("archivio", "import", str(locked), "--ente", "R01")
    assert code == 0
    assert (item["status"], item["text_source"], item["proposed_links"]) == ("indexed", "none", [])
    filed = session.get(Document, item["document"])
    assert filed.encrypted is True and filed.text == ""
    assert (store / filed.file_path).read_bytes() == locked.read_bytes()


def test_hostile_pdfs_are_refused_with_nothing_kept(app, session, cli, tmp_path, store) -> None:
    from app.archive.models import Document
    from tests.ocr import hostile

    pages = hostile.pages_pdf(tmp_path / "centomila.pdf", 100_000)
    loop = hostile.recursive_pdf(tmp_path / "ricorsivo.pdf")
    before = session.scalar(sa.select(sa.func.count()).select_from(Document))
    code, out = cli("archivio", "import", str(pages), str(loop), "--ente", "R01")
    assert code == 1
    assert [o["status"] for o in out] == ["refused", "refused"]
    assert all(o["error"] and o["document"] is None for o in out)
    assert "100000" in out[0]["error"].replace(".", "") or "100.000" in out[0]["error"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == before
    assert not [p for p in store.rglob("*") if p.is_file() and "tmp" not in p.parts]
