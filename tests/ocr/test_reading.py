"""text_layer(), ocr_page() and extract() on pages made by the tests: the scanned letter must give back its
codice fiscale, amount and notice number exactly; a born-digital PDF must never reach Tesseract."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pypdfium2 as pdfium
import pytesseract
import pytest
import typst
from PIL import Image

from ocr import PageText, extract, ocr_page, text_layer
from ocr.pdf import render_page
from ocr.tesseract import skew_angle, tidy
from tests.ocr.pages import AMOUNT, CODICE_FISCALE, NOTICE, clean_page, grouped, notice_number, text_image

LETTER_TYP = f"""#set page(paper: "a4")
#set text(lang: "it", size: 11pt)
Spett.le Regione Lazio, Ufficio Riscossione Coattiva

Oggetto: ricorso avverso l'avviso numero {grouped(NOTICE)}

Il sottoscritto Mario Rossi, codice fiscale {CODICE_FISCALE}, contesta l'importo di euro {AMOUNT}.
""".encode()


def test_the_notice_number_of_the_pages_is_valid() -> None:
    assert NOTICE == "301000000000001255"
    for number in (NOTICE, notice_number("02", "1234567890123")):
        assert len(number) == 18 and number[0] == "3"
        assert int(number[:16]) % 93 == int(number[16:])


def test_a_scanned_png_is_read_exactly(scan: tuple[Path, Path]) -> None:
    png, _ = scan
    page = ocr_page(png, 1)
    assert (page.number, page.source) == (1, "ocr")
    assert CODICE_FISCALE in page.text
    assert AMOUNT in page.text
    assert NOTICE in page.text.replace(" ", "")
    assert page.confidence is not None and 70 < page.confidence <= 100


def test_a_scanned_pdf_has_no_text_layer_and_is_read_by_the_ocr(scan: tuple[Path, Path]) -> None:
    _, scanned_pdf = scan
    assert text_layer(scanned_pdf) is None
    extraction = extract(scanned_pdf)
    assert [(p.number, p.source) for p in extraction.pages] == [(1, "ocr")]
    assert extraction.source == "ocr"
    assert CODICE_FISCALE in extraction.text
    assert AMOUNT in extraction.text
    assert NOTICE in extraction.text.replace(" ", "")
    assert extraction.confidence is not None and extraction.confidence > 70


@pytest.fixture
def no_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any OCR attempt fails: the test proves the text came from the PDF itself."""
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")


def test_a_born_digital_pdf_skips_the_ocr(tmp_path: Path, no_tesseract: None) -> None:
    (born := tmp_path / "ricorso.pdf").write_bytes(typst.compile(LETTER_TYP))
    layer = text_layer(born)
    assert layer is not None and [p.number for p in layer] == [1]
    extraction = extract(born)
    assert extraction.source == "text_layer"
    assert extraction.confidence is None
    assert all(p.source == "text_layer" and p.confidence is None for p in extraction.pages)
    assert CODICE_FISCALE in extraction.text and AMOUNT in extraction.text
    assert grouped(NOTICE) in extraction.text


def test_a_scanned_page_bound_into_a_born_digital_pdf_is_ocred(tmp_path: Path) -> None:
    (born := tmp_path / "nato.pdf").write_bytes(typst.compile(LETTER_TYP))
    text_image(["Ricevuta di ritorno", f"codice fiscale {CODICE_FISCALE}"]).save(
        scanned := tmp_path / "scansione.pdf", "PDF", resolution=300
    )
    merged = pdfium.PdfDocument(str(born))
    merged.import_pages(pdfium.PdfDocument(str(scanned)))
    merged.save(both := tmp_path / "misto.pdf")
    extraction = extract(both)
    assert [(p.number, p.source) for p in extraction.pages] == [(1, "text_layer"), (2, "ocr")]
    assert extraction.pages[1].text.startswith("Ricevuta di ritorno")
    assert extraction.source == "ocr"


@pytest.mark.parametrize("degrees", [1.5, -1.5, 2.5, -3.0, 0.7])
def test_the_skew_of_a_page_is_found(degrees: float) -> None:
    page = clean_page().rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    assert skew_angle(page) == pytest.approx(-degrees, abs=0.2)


def test_a_blank_page_has_no_skew_no_text_and_no_confidence(tmp_path: Path) -> None:
    blank = Image.new("L", (1240, 1754), 255)
    assert skew_angle(blank) == 0.0
    blank.save(path := tmp_path / "bianca.png")
    assert ocr_page(path, 1) == PageText(number=1, text="", source="ocr", confidence=None)


def test_tesseract_runs_single_threaded_and_the_caller_environment_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "omp.txt"
    wrapper = tmp_path / "tesseract"
    wrapper.write_text(f'#!/bin/sh\necho "$OMP_THREAD_LIMIT" > {seen}\nexec tesseract "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(wrapper))
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    text_image(["Avviso di pagamento"]).save(path := tmp_path / "riga.png")
    assert ocr_page(path, 1).text == "Avviso di pagamento"
    assert seen.read_text().strip() == "1"
    assert "OMP_THREAD_LIMIT" not in os.environ


def test_each_frame_of_a_tiff_is_a_page(tmp_path: Path) -> None:
    frames = [text_image(["Prima pagina"]), text_image(["Seconda pagina"])]
    frames[0].save(tiff := tmp_path / "fax.tif", "TIFF", save_all=True, append_images=frames[1:])
    assert ocr_page(tiff, 2).text == "Seconda pagina"
    assert extract(tiff).text == "Prima pagina\n\fSeconda pagina"
    with pytest.raises(ValueError):
        ocr_page(tiff, 3)


def test_a_huge_pdf_page_is_rendered_within_the_pixel_limit(tmp_path: Path) -> None:
    from tests.ocr.hostile import write_pdf

    poster = write_pdf(
        tmp_path / "manifesto.pdf",
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",  # 200 x 200 inches
        ],
    )
    image = render_page(poster, 1, 300, max_pixels=4_000_000)  # 60000 x 60000 at 300 dpi
    assert image.width * image.height <= 4_000_000
    assert image.width > 1900


@pytest.mark.parametrize(
    ("raw", "tidy_text"),
    [
        pytest.param("euro 1. 234, 56,", "euro 1.234,56,", id="spaces-in-an-amount"),
        pytest.param("12. 345. 678 ,90 dovuti", "12.345.678,90 dovuti", id="millions"),
        pytest.param("articolo 19. 234 righe", "articolo 19. 234 righe", id="no-decimals-untouched"),
        pytest.param("3010 0000 0000 0012 55", "3010 0000 0000 0012 55", id="notice-untouched"),
        pytest.param("pagina uno\n\f", "pagina uno", id="page-separator"),
    ],
)
def test_tidy_puts_italian_amounts_back_together(raw: str, tidy_text: str) -> None:
    assert tidy(raw) == tidy_text


def test_extract_reads_plain_text_and_email(tmp_path: Path) -> None:
    (note := tmp_path / "nota.txt").write_text(
        "Telefonata del contribuente: chiede la rateazione.\n", "utf-8"
    )
    assert extract(note).pages == [
        PageText(number=1, text="Telefonata del contribuente: chiede la rateazione.\n", source="text_layer")
    ]
    (mail := tmp_path / "pec.eml").write_bytes(
        b"From: Mario Rossi <mario@pec.example.it>\r\nTo: protocollo@pec.regione.example.it\r\n"
        b"Subject: Istanza di rateazione\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>Codice fiscale <b>RSSMRA80A01H501U</b> &egrave; il mio.</p></body></html>\r\n"
    )
    text = extract(mail).text
    assert text.startswith(
        "From: Mario Rossi <mario@pec.example.it>\nTo: protocollo@pec.regione.example.it\n"
    )
    assert "Subject: Istanza di rateazione" in text
    assert "Codice fiscale  RSSMRA80A01H501U  è il mio." in text
