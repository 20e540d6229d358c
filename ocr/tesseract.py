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


def recognise(image: Image.Image, lang: str) -> tuple[str, float | None]:
    """Text and mean word confidence (0-100, words with confidence -1 ignored; None when no word was found).

    The page goes to Tesseract binarised (Otsu, as Tesseract's own default) as a 1-bit PBM: Tesseract then
    skips its own greyscale pass, ~30% of its time on an A4 page here (0.50 s of CPU instead of 0.73 s),
    reading as many of the test pages' codici fiscali, amounts and notice numbers."""
    with tempfile.TemporaryDirectory(prefix="ocr-") as workdir:
        page = Path(workdir) / "page.pbm"
        binarise(image).save(page, format="PPM")
        base = str(Path(workdir) / "out")
        with single_threaded():
            # `tsv` and `txt` are Tesseract's own config files: one run writes out.tsv and out.txt
            pytesseract.pytesseract.run_tesseract(str(page), base, extension="txt", lang=lang, config="tsv")
        text = Path(base + ".txt").read_text(encoding="utf-8")
        confidences = _word_confidences(Path(base + ".tsv"))
    text = tidy(text)
    confidence = round(sum(confidences) / len(confidences), 1) if confidences else None
    return text, confidence


def binarise(image: Image.Image) -> Image.Image:
    """Black ink on white, 1 bit per pixel, at the Otsu threshold of the page's histogram."""
    if image.mode == "1":
        return image
    grey = image if image.mode == "L" else image.convert("L")
    threshold = otsu_threshold(grey.histogram())
    return grey.point(lambda v: 255 if v > threshold else 0, mode="1")


def otsu_threshold(histogram: list[int]) -> int:
    """The grey level that best separates ink from paper (maximum between-class variance)."""
    total = sum(histogram)
    weighted_total = sum(level * count for level, count in enumerate(histogram))
    below = weighted_below = 0
    best, threshold = -1.0, 127
    for level, count in enumerate(histogram):
        below += count
        above = total - below
        if below == 0:
            continue
        if above == 0:
            break
        weighted_below += level * count
        mean_gap = weighted_below / below - (weighted_total - weighted_below) / above
        between = below * above * mean_gap * mean_gap
        if between > best:
            best, threshold = between, level
    return threshold


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
