"""Hostile inputs (issue 11, "Done when"): a decompression-bomb image, a PDF with 100,000 pages (a real page
tree, and one whose /Count says so), a PDF with a recursive page tree, a ZIP renamed .pdf and an e-mail with
500 attachments are each refused with nothing stored and a clear Italian reason, through every door: the
command line (formats.md §6: status refused + error, exit 1, the other files kept), the desk's upload and the
IMAP intake. Every file is made here, small on disk (the 100,000-page tree is the largest, ~7 MB)."""

from __future__ import annotations

import hashlib
import html
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.archive.conftest_imap import dovecot, mailbox_user  # noqa: F401
from tests.archive.support import typst_pdf
from tests.archive.test_mailbox import _mail, imap  # noqa: F401
from tests.conftest import csrf_token
from tests.ocr import hostile


def _png_header_bomb(path: Path) -> Path:
    """A PNG whose header declares 100,000 x 100,000 pixels (10 gigapixel) in 45 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def _count_lies(path: Path) -> Path:
    """One page object under a /Pages node whose /Count says 100,000."""
    return hostile.write_pdf(
        path, [hostile.catalog(), b"<< /Type /Pages /Count 100000 /Kids [3 0 R] >>", hostile.PAGE]
    )


def _zip_as_pdf(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("fattura.xml", "<fattura/>")
    return path


def _email_500(path: Path) -> Path:
    message = _mail("Documenti", "In allegato 500 documenti.")
    for n in range(500):
        message.add_attachment(
            f"documento {n}\n".encode(), maintype="text", subtype="plain", filename=f"d{n}.txt"
        )
    path.write_bytes(bytes(message))
    return path


# name on disk -> (maker, what the Italian reason must say)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "bomba.png": (
        _png_header_bomb,
        "L'immagine ha 10.000.000.000 pixel: il limite è 89.478.485 (possibile decompression bomb)",
    ),
    "centomila.pdf": (lambda p: hostile.pages_pdf(p, 100_000), "Il PDF ha 100.000 pagine: il limite è 500"),
    "conteggio.pdf": (_count_lies, "Il PDF ha 100.000 pagine: il limite è 500"),
    "ricorsivo.pdf": (
        hostile.recursive_pdf,
        "Il PDF ha un albero delle pagine ricorsivo (una pagina contiene se stessa)",
    ),
    "fattura.pdf": (
        _zip_as_pdf,
        "Il contenuto del file è un archivio ZIP (o un documento Office/ODF), anche se il nome termina in"
        " .pdf: sono ammessi PDF, immagini PNG, JPEG o TIFF, testo UTF-8 ed e-mail (.eml)",
    ),
    "cinquecento.eml": (_email_500, "Il messaggio ha 500 allegati: il limite è 50"),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ostili")
    return {name: maker(folder / name) for name, (maker, _) in HOSTILE.items()}


def _stored(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*") if p.is_file() and "tmp" not in p.relative_to(store).parts)


def _counts(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Documents and protocol numbers taken, in the whole database."""
    from app.archive.models import Document, ProtocolCounter
    from app.extensions import db

    with app.app_context():
        documents = db.session.scalar(sa.select(sa.func.count()).select_from(Document))
        numbers = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ProtocolCounter.last), 0)))
        return int(documents or 0), int(numbers or 0)


def test_each_hostile_file_is_refused_by_the_command_line_and_the_good_one_kept(
    app, cli, store, tmp_path, hostile_files
) -> None:
    good = typst_pdf(tmp_path / "lettera.pdf", "Una lettera qualsiasi, senza nulla di ostile.")
    documents, numbers = _counts(app)
    code, out = cli("archivio", "import", *map(str, hostile_files.values()), str(good), "--ente", "R01")
    assert code == 1
    assert [o["file"] for o in out] == [*HOSTILE, "lettera.pdf"]
    for item, (name, path) in zip(out, hostile_files.items(), strict=False):
        assert item == {
            "file": name,
            "document": None,
            "protocol": None,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "pages": None,
            "text_source": None,
            "ocr_confidence": None,
            "proposed_links": [],
            "status": "refused",
            "error": HOSTILE[name][1],
        }, name
    kept = out[-1]
    assert kept["status"] == "indexed" and "error" not in kept
    # nothing of the refused files: one document, one protocol number, one file in the store
    assert _counts(app) == (documents + 1, numbers + 1)
    assert [p.relative_to(store).as_posix() for p in _stored(store)] == [
        f"{kept['sha256'][:2]}/{kept['sha256'][2:4]}/{kept['sha256']}"
    ]


def test_each_hostile_file_is_refused_by_the_desk_upload(
    app, personas, store, tmp_path, hostile_files
) -> None:
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        r01 = db.session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
    good = typst_pdf(tmp_path / "buona.pdf", "Una seconda lettera, senza nulla di ostile.")
    client = personas.client("sportello")
    documents, numbers = _counts(app)
    files: list[Any] = [(io.BytesIO(p.read_bytes()), name) for name, p in hostile_files.items()]
    answer = client.post(
        "/archivio/nuovo",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(client, "/archivio/nuovo"),
            "ente_id": str(r01),
            "channel": "sportello",
            "doc_type": "altro",
            "files": [*files, (io.BytesIO(good.read_bytes()), "buona.pdf")],
        },
    )
    assert answer.status_code == 200
    text = html.unescape(answer.get_data(as_text=True))
    for name, (_, reason) in HOSTILE.items():
        assert f"{name}:\n      <strong>rifiutato</strong> – {reason}" in text, name
    assert "buona.pdf:\n      protocollato" in text
    assert _counts(app) == (documents + 1, numbers + 1)
    assert len(_stored(store)) == 1


def test_an_email_with_500_attachments_and_one_with_hostile_attachments_through_imap(
    app,
    session,
    cli,
    imap,  # noqa: F811
    store,
    tmp_path,
    hostile_files,  # noqa: F811
) -> None:
    from app.archive.mailbox_models import MailMessage
    from app.archive.models import Document

    # 500 attachments: the whole message is refused, nothing stored (the limit is counted before any filing)
    imap.deliver(hostile_files["cinquecento.eml"].read_bytes())
    code, (item,) = cli("archivio", "posta")
    assert code == 1 and item["status"] == "refused" and item["documents"] == []
    assert item["reason"] == "Il messaggio ha 500 allegati: il limite è 50. Non è stato protocollato nulla."
    assert _stored(store) == []

    # hostile attachments: the message and its good attachment are filed under one protocol number, each
    # hostile attachment refused (none of it stored) and named with its reason on the message's record
    good = typst_pdf(tmp_path / "istanza.pdf", "Istanza di rateazione, senza nulla di ostile.")
    message = _mail("Istanza con allegati", "Buongiorno, allego i documenti.")
    for name in ("bomba.png", "conteggio.pdf", "ricorsivo.pdf", "fattura.pdf"):
        message.add_attachment(
            hostile_files[name].read_bytes(), maintype="application", subtype="octet-stream", filename=name
        )
    message.add_attachment(good.read_bytes(), maintype="application", subtype="pdf", filename="istanza.pdf")
    imap.deliver(message)
    code, (item,) = cli("archivio", "posta")
    assert code == 0 and item["status"] == "filed" and len(item["documents"]) == 2
    mail_doc, pdf_doc = (session.get(Document, d) for d in item["documents"])
    assert mail_doc.protocol == pdf_doc.protocol == item["protocol"] and pdf_doc.attachment_no == 1
    assert pdf_doc.file_name == "istanza.pdf"
    row = session.scalars(sa.select(MailMessage).where(MailMessage.protocol == item["protocol"])).one()
    assert (
        row.reason
        == item["reason"]
        == "Allegati non protocollati: "
        + "; ".join(
            f"{name}: {HOSTILE[name][1]}"
            for name in ("bomba.png", "conteggio.pdf", "ricorsivo.pdf", "fattura.pdf")
        )
    )
    assert len(_stored(store)) == 2  # the .eml original and the good PDF
    hostile_shas = {hashlib.sha256(hostile_files[n].read_bytes()).hexdigest() for n in HOSTILE}
    assert not hostile_shas & {p.name for p in _stored(store)}
