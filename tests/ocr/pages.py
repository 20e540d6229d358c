"""Scanned-looking pages made by the tests (and by benchmarks/bench_archive.py): an Italian letter rendered
with DejaVuSans at 300 dpi, with grain, specks, a slight blur and a slight skew, as PNG and as a PDF with no
text layer. Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core
DPI = 300
A4_PX = (2480, 3508)  # 210 x 297 mm at 300 dpi

CODICE_FISCALE = "RSSMRA80A01H501U"
AMOUNT = "1.234,56"


def notice_number(segregation: str = "01", base: str = "0000000000012") -> str:
    """An 18-digit notice number (aux digit 3): 3 + segregation code + 13 digits + check digits
    int("3" + segregation + base) mod 93, zero-padded."""
    check = int("3" + segregation + base) % 93
    return f"3{segregation}{base}{check:02d}"


NOTICE = notice_number()


def grouped(number: str) -> str:
    """As printed on the avviso: groups of 4 digits."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class Letter:
    codice_fiscale: str = CODICE_FISCALE
    amount: str = AMOUNT
    notice: str = NOTICE
    variant: int = 0

    def lines(self) -> list[str]:
        return [
            "Mario Rossi",
            "Via Giuseppe Garibaldi 12",
            "00184 Roma (RM)",
            "",
            "Spett.le Regione Lazio",
            "Ufficio Riscossione Coattiva",
            "Via Rosa Raimondi Garibaldi 7, 00145 Roma",
            "",
            f"Roma, {10 + self.variant % 18} novembre 2026",
            "",
            "Oggetto: istanza di rateazione dell'avviso di pagamento",
            "",
            "Il sottoscritto Mario Rossi, nato a Roma il 1 gennaio 1980,",
            f"codice fiscale {self.codice_fiscale}, in riferimento all'avviso",
            f"numero {grouped(self.notice)} per un importo di euro {self.amount},",
            "chiede la rateazione del debito in ventiquattro rate mensili,",
            "ai sensi dell'articolo 19 del decreto del Presidente della",
            "Repubblica 29 settembre 1973, numero 602, dichiarando di trovarsi",
            "in una temporanea situazione di obiettiva difficoltà economica.",
            "",
            "Allega copia del documento di identità e l'ultima dichiarazione",
            "dei redditi. Resta in attesa di un cortese riscontro.",
            "",
            "Distinti saluti.",
            "",
            "Mario Rossi",
        ]


def clean_page(letter: Letter | None = None) -> Image.Image:
    letter = letter or Letter()
    page = Image.new("L", A4_PX, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), size=46)  # 11 pt at 300 dpi
    y = 300
    for line in letter.lines():
        draw.text((250, y), line, font=font, fill=0)
        y += 80
    return page


def scanned(page: Image.Image, *, skew_degrees: float = 1.5, seed: int = 12) -> Image.Image:
    """Grain (0-16 grey levels), 400 dark specks of 2-4 px, a 0.5 px blur and the skew of a sheet placed
    askew."""
    rng = random.Random(seed)
    width, height = page.size
    grain = Image.frombytes("L", page.size, rng.randbytes(width * height)).point(lambda v: v % 17)
    specks = Image.new("L", page.size, 255)
    dots = ImageDraw.Draw(specks)
    for _ in range(400):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.choice((1, 1.5, 2))
        dots.ellipse((x - r, y - r, x + r, y + r), fill=rng.randrange(0, 90))
    out = ImageChops.subtract(page, grain)
    out = ImageChops.darker(out, specks)
    out = out.filter(ImageFilter.GaussianBlur(0.5))
    return out.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)


def write_scan(
    directory: Path, name: str = "lettera", *, letter: Letter | None = None, skew: float = 1.5, seed: int = 12
) -> tuple[Path, Path]:
    """The same scanned page as a PNG and as an image-only PDF (no text layer)."""
    image = scanned(clean_page(letter), skew_degrees=skew, seed=seed)
    png, pdf = directory / f"{name}.png", directory / f"{name}.pdf"
    image.save(png, dpi=(DPI, DPI))
    image.save(pdf, "PDF", resolution=DPI, quality=90)  # a scanner's JPEG at a good quality setting
    return png, pdf


def text_image(lines: list[str], width: int = 1600) -> Image.Image:
    """A few clean lines at 300 dpi on a small canvas: quick to OCR (tests of plumbing, not of accuracy)."""
    font = ImageFont.truetype(str(FONT), size=46)
    image = Image.new("L", (width, 120 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((60, 60 + 80 * n), line, font=font, fill=0)
    return image
