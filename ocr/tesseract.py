"""One page image through Tesseract: deskew, then one `tesseract` run that writes both the text and the
per-word TSV (for the mean word confidence), with OMP_THREAD_LIMIT=1 in the environment of that process.

Measured on the 2-core machine (architecture.md): 1.4 s/page single-threaded against 6.5 s with Tesseract's
default OpenMP threads, so throughput comes from one page per worker process, never from threads.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytesseract
from PIL import Image

MAX_SKEW_DEGREES = 5.0  # a sheet placed askew on a scanner; a photo at 30 degrees is not a scan
MIN_SKEW_DEGREES = 0.2  # below this rotating costs more than it gives
_ANALYSIS_WIDTH = 800  # the angle search runs on a copy this wide (text lines are still 10+ px apart)

# Tesseract leaves a space after the thousands separator of a proportional font ("1. 234,56") and sometimes
# around the decimal comma: an Italian amount (thousands groups and two decimals) is put back together.
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?: ?\. ?\d{3})+) ?, ?(\d{2})(?![\d])")
_environ_lock = threading.Lock()


def skew_angle(image: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text lines horizontal, by projection profile:
    the angle whose rows are most unequal (ink in the lines, none between them) wins. A coarse search every
    0.5 degrees within +-MAX_SKEW_DEGREES, then every 0.1 degrees around the best; 0 for a page with no
    lines."""
    grey = image if image.mode == "L" else image.convert("L")
    small = grey.reduce(max(1, grey.width // _ANALYSIS_WIDTH))
    ink = small.point(lambda v: 255 if v < 128 else 0)  # ink white on black: rotation fills with black

    def score(angle: float) -> int:
        rotated = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
        rows = rotated.resize((1, rotated.height), Image.Resampling.BOX).tobytes()  # each row's mean ink
        return sum((a - b) * (a - b) for a, b in zip(rows, rows[1:], strict=False))

    steps = int(MAX_SKEW_DEGREES * 2)
    coarse = {step / 2: score(step / 2) for step in range(-steps, steps + 1)}
    best = max(coarse, key=lambda angle: (coarse[angle], -abs(angle)))
    if coarse[best] == 0:
        return 0.0
    fine = {round(best + step / 10, 1): 0 for step in range(-4, 5)}
    for angle in fine:
        fine[angle] = coarse.get(angle) or score(angle)
    return max(fine, key=lambda angle: (fine[angle], -abs(angle)))


def deskew(image: Image.Image) -> Image.Image:
    angle = skew_angle(image)
    if abs(angle) < MIN_SKEW_DEGREES:
        return image
    # nearest neighbour: at 300 dpi a 1-3 degree turn moves a stroke by at most half a pixel at each step,
    # which Tesseract does not notice; bicubic costs 10x the time (0.5 s on an A4 page here)
    return image.rotate(angle, resample=Image.Resampling.NEAREST, expand=True, fillcolor=255)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """OMP_THREAD_LIMIT=1 for the tesseract process that pytesseract starts (it passes os.environ as is);
    the caller's environment is restored afterwards."""
    with _environ_lock:
        saved = os.environ.get("OMP_THREAD_LIMIT")
        os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            yield
        finally:
            if saved is None:
                del os.environ["OMP_THREAD_LIMIT"]
            else:
                os.environ["OMP_THREAD_LIMIT"] = saved


def recognise(image: Image.Image, lang: str, *, source_file: Path | None = None) -> tuple[str, float | None]:
    """Text and mean word confidence (0-100, words with confidence -1 ignored; None when no word was found).

    `source_file`: the file the image came from, handed to Tesseract as is when the image was not changed
    (no re-encoding); otherwise the image goes through a temporary uncompressed PGM."""
    with tempfile.TemporaryDirectory(prefix="ocr-") as workdir:
        if source_file is None:
            source_file = Path(workdir) / "page.pgm"
            image.save(source_file, format="PPM")
        base = str(Path(workdir) / "out")
        with single_threaded():
            # `tsv` and `txt` are Tesseract's own config files: one run writes out.tsv and out.txt
            pytesseract.pytesseract.run_tesseract(
                str(source_file), base, extension="txt", lang=lang, config="tsv"
            )
        text = Path(base + ".txt").read_text(encoding="utf-8")
        confidences = _word_confidences(Path(base + ".tsv"))
    text = tidy(text)
    confidence = round(sum(confidences) / len(confidences), 1) if confidences else None
    return text, confidence


def tidy(text: str) -> str:
    text = text.replace("\f", "").strip()
    return _AMOUNT.sub(lambda found: found.group(1).replace(" ", "") + "," + found.group(2), text)


def _word_confidences(tsv: Path) -> list[float]:
    with tsv.open(encoding="utf-8", newline="") as stream:
        rows = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            float(row["conf"])
            for row in rows
            if row["level"] == "5" and row["conf"] not in ("-1", "") and (row.get("text") or "").strip()
        ]
