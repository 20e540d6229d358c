"""Text of the documents taxpayers send (R-C1): pdfplumber for born-digital PDFs, Tesseract (ita) for scans.

A standalone library: it imports nothing of the app. Functions (implemented in ocr/reading.py):
- `inspect(path, limits=Limits()) -> FileInfo`: type by magic bytes, size/page/pixel/object limits,
  decompression bombs, encryption; raises `Refused(reason_it)`;
- `text_layer(path) -> list[PageText] | None`: a PDF's own text, None when it has none worth reading;
- `ocr_page(path, page_number, *, dpi=300, lang="ita") -> PageText`: one page of a scan or image through
  Tesseract with OMP_THREAD_LIMIT=1, deskewed, with its mean word confidence;
- `extract(path, limits=Limits()) -> Extraction`: all of the above in one process (the synchronous CLI path).
"""

from ocr.protocol import Extraction, FileInfo, Limits, OcrEngine, OcrResult, PageText, Refused, TextSource

__all__ = ["Extraction", "FileInfo", "Limits", "OcrEngine", "OcrResult", "PageText", "Refused", "TextSource"]
