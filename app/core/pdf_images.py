"""PDF pages as images through pdfium, one call at a time.

pdfium is not thread-safe (pypdfium2's documentation: "pdfium is not thread-compatible ... callers must not
use it from different threads at once"), and the web app serves requests on threads: a card asks for several
thumbnails at once, and two renders in parallel crashed the whole process with a segmentation fault. Every
use of pdfium in the app goes through this module's lock."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

_PDFIUM = threading.Lock()


def render_pages(
    source: Path | bytes,
    *,
    width: int | None = None,
    scale: float = 1.0,
    pages: int = 1,
    max_points: float = 14_400,
) -> list[Image.Image]:
    """The first `pages` pages of a PDF as RGB images, `width` pixels wide (or at `scale`). Raises ValueError
    (Italian reason) for an unreadable PDF, one without pages or a page larger than `max_points` a side."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(str(source) if isinstance(source, Path) else source)
        except pdfium.PdfiumError as exc:
            raise ValueError(f"PDF non leggibile: {exc}") from exc
        try:
            if len(document) == 0:
                raise ValueError("PDF senza pagine")
            images = []
            for index in range(min(pages, len(document))):
                page = document[index]
                page_width, page_height = page.get_size()
                if not 0 < page_width <= max_points or not 0 < page_height <= max_points:
                    raise ValueError("pagina fuori misura")
                factor = width / page_width if width else scale
                images.append(page.render(scale=factor).to_pil().convert("RGB"))
                page.close()
            return images
        finally:
            document.close()
