"""Deletion at the end of retention and the file store: the thumbnails follow their original, at deletion and
in the file-store purge (a thumbnail is kept only while a row names its original)."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.archive.support import typst_pdf


def _aged(session, store: Path, pdf: Path, ente: str = "R01"):  # type: ignore[no-untyped-def]
    from app.archive.models import Document
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.enti.models import Ente

    row = session.scalars(sa.select(Ente).where(Ente.code == ente)).one()
    (filed,) = file_documents(
        session,
        [IncomingFile(pdf.name, pdf)],
        row,
        "posta",
        "corrispondenza",
        Actor.system("test"),
        file_store=str(store),
        mode="sync",
        received_date=dt.date(2012, 3, 1),
    )
    return session.get(Document, filed.document)


def _thumbnail(store: Path, document) -> Path:  # type: ignore[no-untyped-def]
    from app.archive import thumbnails
    from app.jobs.files import path_of

    original = path_of(store, document.file_path)
    return thumbnails.thumbnail(store, original, document.sha256, document.mime_type)


def test_deletion_removes_the_original_and_its_thumbnails_unless_another_ente_holds_the_content(
    app, session, store, tmp_path
) -> None:
    from app.archive.deletion import delete_document, remove_files
    from app.core.audit import Actor

    letter = typst_pdf(
        tmp_path / "lettera.pdf", f"Lettera del 2012 sulle tasse automobilistiche {uuid.uuid4()}."
    )
    mine = _aged(session, store, letter)
    theirs = _aged(session, store, letter, ente="R02")
    alone = _aged(
        session, store, typst_pdf(tmp_path / "altra.pdf", f"Un'altra lettera del 2012 {uuid.uuid4()}.")
    )
    assert mine.file_path == theirs.file_path  # one content, stored once, filed by two enti
    shared_thumb, alone_thumb = _thumbnail(store, mine), _thumbnail(store, alone)
    original, alone_original = store / mine.file_path, store / alone.file_path
    admin = Actor.system("amministratore")
    today = dt.date(2026, 12, 3)

    removal = delete_document(session, mine, admin, today=today)
    session.flush()
    remove_files(str(store), removal)
    assert mine.status == "deleted" and mine.file_path is None
    assert removal.relative_path is None and removal.thumbnails_of is None  # R02's document still needs them
    assert original.is_file() and shared_thumb.is_file()

    removal = delete_document(session, alone, admin, today=today)
    session.flush()
    remove_files(str(store), removal)
    assert not alone_original.exists() and not alone_thumb.exists()

    # the same content coming again is filed anew (the deleted row is the register's trace, not a duplicate)
    again = _aged(session, store, tmp_path / "altra.pdf")
    assert again.id != alone.id and again.protocol != alone.protocol and again.status == "indexed"
    assert again.sha256 == alone.sha256 and alone_original.is_file()


def test_the_file_store_purge_removes_the_thumbnails_of_an_original_no_row_names(
    app, session, store, tmp_path
) -> None:
    from app.jobs.services import purge_files

    kept = _aged(session, store, typst_pdf(tmp_path / "resta.pdf", f"Lettera che resta {uuid.uuid4()}."))
    kept_thumb = _thumbnail(store, kept)
    orphan = store / "thumbs" / "ab" / f"{'ab' * 32}-160.png"  # its original was removed, its row is gone
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"png")
    then = time.time() - 48 * 3600
    for path in (kept_thumb, orphan, store / kept.file_path):
        os.utime(path, (then, then))
    purge = purge_files(session, str(store), older_than=dt.timedelta(hours=24), now=dt.datetime.now(dt.UTC))
    assert purge.removed == [f"thumbs/ab/{'ab' * 32}-160.png"]
    assert kept_thumb.is_file() and (store / kept.file_path).is_file() and not orphan.exists()
