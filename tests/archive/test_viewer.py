"""The document viewer (point 7): PDFs through PDF.js from the inline route (every view logged), first-page
thumbnails rendered server-side and cached in the file store by content hash, all scoped to the user's
enti."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from tests.archive.test_screens import _events, _file


def test_the_pdf_is_shown_with_pdfjs_from_the_logged_inline_route(app, personas, tmp_path, store) -> None:
    document, debtor = _file(app, tmp_path)
    regione = personas.client("regione")
    page = regione.get(f"/archivio/{document.id}").get_data(as_text=True)
    assert f'data-pdf-url="/archivio/{document.id}/originale?vedi=1"' in page
    assert 'data-pdf-worker="/static/vendor/pdfjs/pdf.worker.min.mjs"' in page
    assert '<script type="module" src="/static/js/pdf-viewer.mjs"></script>' in page
    for asset in ("js/pdf-viewer.mjs", "vendor/pdfjs/pdf.min.mjs", "vendor/pdfjs/pdf.worker.min.mjs"):
        served = regione.get(f"/static/{asset}")
        assert served.status_code == 200 and "javascript" in served.mimetype, asset  # module scripts load

    assert not _events(app, debtor.taxpayer_id, "document.downloaded")
    shown = regione.get(f"/archivio/{document.id}/originale?vedi=1")
    assert shown.status_code == 200 and shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert "no-store" in shown.headers["Cache-Control"]
    assert shown.data.startswith(b"%PDF")
    # a view is its own kind of event (not a download), with its Italian label on the card's timeline
    assert not _events(app, debtor.taxpayer_id, "document.downloaded")
    (viewed,) = _events(app, debtor.taxpayer_id, "document.viewed")
    assert viewed["payload"] == {"document": document.id}
    assert "visualizzato" in viewed["summary"]
    downloaded = regione.get(f"/archivio/{document.id}/originale")
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    (download,) = _events(app, debtor.taxpayer_id, "document.downloaded")
    assert download["payload"] == {"document": document.id} and "scaricato" in download["summary"]
    timeline = regione.get(f"/contribuenti/{debtor.taxpayer_id}").get_data(as_text=True)
    assert "Documento visualizzato" in timeline and "Documento scaricato" in timeline

    # another ente's user: neither the file nor its thumbnail
    regione2 = personas.client("regione2")
    assert regione2.get(f"/archivio/{document.id}/originale?vedi=1").status_code == 404
    assert regione2.get(f"/archivio/{document.id}/anteprima.png").status_code == 404
    assert len(_events(app, debtor.taxpayer_id, "document.downloaded")) == 1
    assert len(_events(app, debtor.taxpayer_id, "document.viewed")) == 1


def test_first_page_thumbnail_rendered_once_and_shown_in_the_lists(app, personas, tmp_path, store) -> None:
    document, debtor = _file(app, tmp_path)
    sha = document.get("sha256")
    regione = personas.client("regione")
    answer = regione.get(f"/archivio/{document.id}/anteprima.png")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    image = Image.open(io.BytesIO(answer.data))
    assert image.width == 160 and image.height > image.width  # an A4 page, portrait
    assert image.convert("L").getextrema()[0] < 128  # the letter's ink is on it
    cached = store / "thumbs" / sha[:2] / f"{sha}-160.png"
    assert cached.read_bytes() == answer.data
    cached.write_bytes(b"cached")  # the second request reads the cache, it does not render again
    assert regione.get(f"/archivio/{document.id}/anteprima.png").data == b"cached"

    thumb = f'src="/archivio/{document.id}/anteprima.png"'
    assert thumb in regione.get("/archivio/").get_data(as_text=True)
    assert thumb in regione.get(f"/archivio/contribuente/{debtor.taxpayer_id}").get_data(as_text=True)
    assert thumb not in personas.client("regione2").get("/archivio/").get_data(as_text=True)


def test_image_thumbnails_and_unreadable_files(tmp_path: Path) -> None:
    from app.archive import thumbnails

    scan = tmp_path / "scan.png"
    Image.new("RGB", (2480, 3508), "white").save(scan)
    png = thumbnails.thumbnail(tmp_path / "store", scan, "ab" * 32, "image/png")
    assert png == tmp_path / "store" / "thumbs" / "ab" / f"{'ab' * 32}-160.png"
    assert Image.open(png).size == (160, 226)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really")
    try:
        thumbnails.thumbnail(tmp_path / "store", broken, "cd" * 32, "application/pdf")
    except ValueError:
        pass
    else:
        raise AssertionError("a damaged PDF has no thumbnail")
    assert not thumbnails.can_render("application/pdf", encrypted=True)
    assert not thumbnails.can_render("message/rfc822", encrypted=False)


def test_an_image_document_is_shown_inline(app, personas, tmp_path, store) -> None:
    """A scanned image is shown as an <img> of the inline route (no PDF.js on the page)."""
    from app.archive.models import Document
    from app.extensions import db

    document, _ = _file(app, tmp_path)
    with app.app_context():  # the same document, as if it were a scan (the viewer follows the stored type)
        db.session.execute(
            sa.update(Document).where(Document.id == document.id).values(mime_type="image/png")
        )
        db.session.commit()
    page = personas.client("regione").get(f"/archivio/{document.id}").get_data(as_text=True)
    src = f'src="/archivio/{document.id}/originale?vedi=1" alt="Originale del documento'
    assert '<img class="img-fluid border esa-document-image" ' + src in page
    assert "pdf-viewer.mjs" not in page and "data-pdf-url" not in page
