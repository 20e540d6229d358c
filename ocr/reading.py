"""The four functions the archive calls (ocr/__init__.py): `inspect` (ocr/sniff.py), `text_layer`
(ocr/pdf.py), `ocr_page` and `extract` (here)."""

from __future__ import annotations

import email
import email.policy
import html
import re
from pathlib import Path

from PIL import Image, ImageOps

from ocr import pdf, tesseract
from ocr.protocol import Extraction, Limits, PageText
from ocr.sniff import inspect, open_image, sniff_kind

__all__ = ["extract", "inspect", "ocr_page", "text_layer"]

text_layer = pdf.text_layer


def ocr_page(path: str | Path, page_number: int, *, dpi: int = 300, lang: str = "ita") -> PageText:
    """One page of a scanned PDF (rendered at `dpi` by pdfium) or of an image (a TIFF frame), deskewed and
    read by Tesseract: its text and mean word confidence. `page_number` is 1-based. The file is one that
    inspect() accepted; the pixel limit is checked again here (a page is never rendered past it)."""
    path = Path(path)
    limits = Limits()
    if sniff_kind(path) == "pdf":
        image = pdf.render_page(path, page_number, dpi, limits.max_pixels)
        text, confidence = tesseract.recognise(tesseract.deskew(image), lang)
    else:
        with open_image(path, limits) as opened:
            frames = getattr(opened, "n_frames", 1)
            if not 1 <= page_number <= frames:
                raise ValueError(f"page {page_number} of {frames}")
            opened.seek(page_number - 1)
            text, confidence = tesseract.recognise(tesseract.deskew(_greyscale(opened)), lang)
    return PageText(number=page_number, text=text, source="ocr", confidence=confidence)


def extract(path: str | Path, limits: Limits = Limits()) -> Extraction:
    """inspect(), then the text layer of a PDF, else the OCR of every page, in this process (the synchronous
    CLI path; the web intake runs ocr_page as one job per page). An encrypted PDF is not read: no pages.
    A page of a born-digital PDF with no text of its own (a scan bound into it) is OCRed."""
    path = Path(path)
    info = inspect(path, limits)
    if info.encrypted:
        return Extraction(pages=[])
    if info.kind == "text":
        return Extraction(
            pages=[PageText(number=1, text=path.read_text(encoding="utf-8"), source="text_layer")]
        )
    if info.kind == "email":
        return Extraction(pages=[PageText(number=1, text=email_text(path), source="text_layer")])
    layer = text_layer(path) if info.kind == "pdf" else None
    if layer is None:
        return Extraction(pages=[ocr_page(path, n) for n in range(1, info.pages + 1)])
    return Extraction(
        pages=[page if pdf.has_text(page.text) else ocr_page(path, page.number) for page in layer]
    )


def email_text(path: Path) -> str:
    """The headers a reader looks for and the body (text/plain, else the HTML without tags). Attachments are
    the archive's business: through its mailbox each becomes a document of the message's registration; an
    .eml filed by hand is kept whole, its attachments inside the original."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    lines = [f"{name}: {message[name]}" for name in ("From", "To", "Date", "Subject") if message[name]]
    body = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    content = body.get_content() if body is not None else ""
    if body is not None and body.get_content_type() == "text/html":
        content = html.unescape(
            re.sub(r"<[^>]+>", " ", re.sub(r"(?is)<(script|style).*?</\1>", " ", content))
        )
    return "\n".join(lines) + "\n\n" + content.strip()


def _greyscale(image: Image.Image) -> Image.Image:
    """Greyscale (or bilevel), upright per its EXIF orientation, transparent areas white."""
    if image.getexif().get(0x0112, 1) != 1:  # EXIF Orientation: 1 is upright
        image = ImageOps.exif_transpose(image) or image
    if "A" in image.mode or image.mode == "P":
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image if image.mode in ("L", "1") else image.convert("L")
