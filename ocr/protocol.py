"""The contract every OCR engine follows (style.md B.6)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class OcrResult:
    text: str
    pages: int
    mean_confidence: float | None  # Tesseract's 0-100 word confidence; None for born-digital text
    engine: str
    engine_version: str


@runtime_checkable
class OcrEngine(Protocol):
    def able_to_read(self, path: Path, mime_type: str) -> bool: ...

    def read(self, path: Path) -> OcrResult: ...
