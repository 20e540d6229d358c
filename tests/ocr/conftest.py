"""Files for the OCR library's tests: scanned pages (tests/ocr/pages.py) made once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ocr.pages import FONT, write_scan


@pytest.fixture(scope="session")
def scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The letter scanned at 300 dpi with grain, specks and a 1.5 degree skew:
    (PNG, PDF with no text layer).."""
    assert FONT.exists(), "DejaVuSans missing: apt-get install fonts-dejavu-core (scripts/system-deps.sh)"
    assert shutil.which("tesseract"), "tesseract missing: scripts/system-deps.sh test"
    # Seed 12 of the noise. At this noise about 1 page in 4 has one of the three values wrong (e.g. "H501U"
    # read "HS501U", a speck read as a period in the notice number: benchmarks/README.md, bench_archive); the
    # page here is one Tesseract reads right, so the test checks the pipeline, not Tesseract's error rate.
    return write_scan(tmp_path_factory.mktemp("scan"), seed=12)
