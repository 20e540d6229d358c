"""First-page thumbnails of archived files: PNG rendered server-side (pypdfium2 for PDFs, Pillow for images),
cached in the file store by the original's content hash (`thumbs/<sha[0:2]>/<sha>-<width>.png`), so the same
content is rendered once whichever document holds it. Originals are only read. A thumbnail leaves the store
with its original: at deletion (app/archive/deletion.py), and in the file-store purge, which keeps a
thumbnail only while a row names its original (app/jobs/files.py `derived_from`)."""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path

from PIL import Image

from app.core.pdf_images import render_pages

WIDTH = 160  # pixels: the lists' thumbnail column
MAX_PAGE_POINTS = 14_400  # a PDF page larger than 5 m a side is not rendered (pdfium's own limit)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp", "image/bmp"})


def can_render(mime_type: str, encrypted: bool) -> bool:
    return not encrypted and (mime_type == "application/pdf" or mime_type in IMAGE_TYPES)


def cached_path(store: str | Path, sha256: str, width: int = WIDTH) -> Path:
    return Path(store) / "thumbs" / sha256[:2] / f"{sha256}-{width}.png"


def cached_paths(store: str | Path, sha256: str) -> list[Path]:
    """Every cached thumbnail of that content, whatever its width (removed with the original)."""
    folder = Path(store) / "thumbs" / sha256[:2]
    return sorted(folder.glob(f"{sha256}-*.png")) if folder.is_dir() else []


def thumbnail(store: str | Path, original: Path, sha256: str, mime_type: str, width: int = WIDTH) -> Path:
    """The cached thumbnail of `original` (rendered and cached on first use). Raises ValueError when the file
    cannot be rendered (not a PDF/image, damaged)."""
    target = cached_path(store, sha256, width)
    if target.exists():
        return target
    png = _render_pdf(original, width) if mime_type == "application/pdf" else _render_image(original, width)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".tmp") as out:
        out.write(png)
    os.replace(out.name, target)  # atomic: two requests rendering at once both leave a whole file
    return target


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _render_pdf(path: Path, width: int) -> bytes:
    return _png(render_pages(path, width=width, max_points=MAX_PAGE_POINTS)[0])


def _render_image(path: Path, width: int) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                image.seek(0)  # first page of a TIFF
                image.draft("RGB", (width, width * 4))  # JPEG: decode at a reduced size
                first = image.convert("RGB")
        except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValueError(f"immagine non leggibile: {exc}") from exc
    first.thumbnail((width, width * 4))
    return _png(first)
