"""The contract of the text-extraction library (style.md B.6): what the archive hands in and gets back.

`ocr/` is a standalone library: it imports nothing of the app. The archive calls it from its jobs:
`inspect()` once on intake (type by content, limits, bombs, encryption), then `text_layer()` for born-digital
PDFs, else `ocr_page()` once per page, each page its own job on the `ocr` queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

TextSource = Literal["text_layer", "ocr", "none"]
FileKind = Literal["pdf", "image", "text", "email"]


class Refused(Exception):
    """A file the archive must not keep: its Italian reason is shown to the user as is."""

    def __init__(self, reason_it: str) -> None:
        super().__init__(reason_it)
        self.reason_it = reason_it


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 500
    max_pixels: int = 89_478_485  # Pillow's default decompression-bomb threshold
    max_pdf_objects: int = 200_000
    max_email_attachments: int = 50  # an e-mail file (.eml) with more is refused whole


@dataclass(frozen=True, slots=True)
class FileInfo:
    kind: FileKind
    mime_type: str
    pages: int
    encrypted: bool = False  # stored and flagged, never read


@dataclass(frozen=True, slots=True)
class PageText:
    number: int  # 1-based
    text: str
    source: TextSource
    confidence: float | None = None  # Tesseract's mean word confidence 0-100; None for a text layer


@dataclass(frozen=True, slots=True)
class Extraction:
    pages: list[PageText] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\f".join(p.text for p in self.pages)

    @property
    def source(self) -> TextSource:
        if any(p.source == "ocr" for p in self.pages):
            return "ocr"
        return "text_layer" if any(p.text.strip() for p in self.pages) else "none"

    @property
    def confidence(self) -> float | None:
        scores = [p.confidence for p in self.pages if p.confidence is not None]
        return round(sum(scores) / len(scores), 1) if scores else None


# Kept for engines plugged in later (e.g. another OCR): the archive only needs the functions of ocr/__init__.
@dataclass(frozen=True, slots=True)
class OcrResult:
    text: str
    pages: int
    mean_confidence: float | None
    engine: str
    engine_version: str


@runtime_checkable
class OcrEngine(Protocol):
    def able_to_read(self, path: Path, mime_type: str) -> bool: ...

    def read(self, path: Path) -> OcrResult: ...
