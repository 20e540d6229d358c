"""The archive's one door into `ocr/` (the text library): what it is, its text layer, one page's OCR, all at
once. Every call into `ocr` goes through here, so the rest of the slice depends on these four functions only.
"""

from __future__ import annotations

from pathlib import Path

import ocr
from ocr.protocol import Extraction, FileInfo, Limits, PageText, Refused

__all__ = ["Extraction", "FileInfo", "PageText", "Refused", "extract", "inspect", "ocr_page", "text_layer"]


def inspect(path: Path, limits: Limits | None = None) -> FileInfo:
    """Type by content, limits, bombs, encryption; raises `Refused` with an Italian reason."""
    return ocr.inspect(path, limits or Limits())


def extract(path: Path, limits: Limits | None = None) -> Extraction:
    """Every page's text in this process (the synchronous command-line path)."""
    return ocr.extract(path, limits or Limits())


def text_layer(path: Path) -> list[PageText] | None:
    """A PDF's own text, or None when it has none worth reading (then each page goes through OCR)."""
    return ocr.text_layer(path)


def ocr_page(path: Path, number: int) -> PageText:
    """One page (1-based) through Tesseract, Italian model, single-threaded."""
    return ocr.ocr_page(path, number)
