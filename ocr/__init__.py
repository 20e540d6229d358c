"""OCR of the documents taxpayers send (R-C1): pdfplumber for born-digital PDFs, Tesseract for scans.

A standalone library: it imports nothing of the app. The archive module (a later issue) calls it
from its jobs.
"""

from ocr.protocol import OcrEngine, OcrResult

__all__ = ["OcrEngine", "OcrResult"]
