"""Text of the documents taxpayers send (R-C1): pdfplumber for born-digital PDFs, Tesseract (ita) for scans.

A standalone library: it imports nothing of the app. Functions (ocr/reading.py, ocr/sniff.py, ocr/pdf.py,
ocr/tesseract.py):
- `inspect(path, limits=Limits()) -> FileInfo`: type by magic bytes, size/page/pixel/object limits,
  decompression bombs, encryption; raises `Refused(reason_it)`;
- `text_layer(path) -> list[PageText] | None`: a PDF's own text, None when it has none worth reading;
- `ocr_page(path, page_number, *, dpi=300, lang="ita") -> PageText`: one page of a scan or image through
  Tesseract with OMP_THREAD_LIMIT=1, deskewed, with its mean word confidence;
- `extract(path, limits=Limits()) -> Extraction`: all of the above in one process (the synchronous CLI path).
"""

from ocr.protocol import Extraction, FileInfo, Limits, OcrEngine, OcrResult, PageText, Refused, TextSource
from ocr.reading import extract, inspect, ocr_page, text_layer

__all__ = [
    "Extraction",
    "FileInfo",
    "Limits",
    "OcrEngine",
    "OcrResult",
    "PageText",
    "Refused",
    "TextSource",
    "extract",
    "inspect",
    "ocr_page",
    "text_layer",
]
