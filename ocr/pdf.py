"""PDFs: limits without rendering (`inspect_pdf`), the text layer (`text_layer`, pdfplumber) and one page as
an image for the OCR (`render_page`, pypdfium2).

inspect_pdf, in order, each step bounded in time and memory by the one before:
1. objects: a regex scan of the bytes (memory-mapped) counts `N G obj` headers, the largest cross-reference
   `/Size` and the `/N` of object streams, and stops at the limit: nothing is parsed, so a file of 10 million
   tiny objects is refused before any reader builds a table of them;
2. streams: an image declaring more pixels than the limit, or a Flate stream inflating past 256 MB
   (inflated in 1 MB steps, counted, dropped), is a decompression bomb;
3. pages: pdfium opens the file (cross-references only) and gives the page count; a password-protected file
   is flagged `encrypted` and not read further;
4. the page tree: walked without recursion (pdfminer, the parser pdfplumber will use), counting leaves as a
   reader would see them; a node that is its own ancestor is a recursive tree, and a tree that fans out to
   more leaves than the page limit is refused as soon as it passes it (a PDF "billion laughs").
"""

from __future__ import annotations

import itertools
import math
import mmap
import re
import zlib
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from ocr.protocol import FileInfo, Limits, PageText, Refused

_WS = rb"[ \t\r\n\f\x00]"
_OBJ_HEADER = re.compile(rb"(?<![0-9])[0-9]{1,10}" + _WS + rb"+[0-9]{1,5}" + _WS + rb"+obj(?![A-Za-z])")
_XREF_SIZE = re.compile(rb"/Size" + _WS + rb"*([0-9]{1,15})")
_OBJ_STREAM = re.compile(rb"/Type" + _WS + rb"*/ObjStm")
_COUNT_N = re.compile(rb"/N" + _WS + rb"+([0-9]{1,15})")

_STREAM = re.compile(rb"stream\r?\n")
_WIDTH = re.compile(rb"/Width" + _WS + rb"*([0-9]{1,12})")
_HEIGHT = re.compile(rb"/Height" + _WS + rb"*([0-9]{1,12})")
MAX_STREAM_BYTES = 256 * 1024 * 1024  # one decompressed stream (a page's content is a few hundred KB)
_INFLATE_STEP = 1024 * 1024

# letters and digits a page needs for its text layer to count (a scan has none, or a stamp)
MIN_PAGE_CHARS = 20
_CID = re.compile(r"\(cid:\d+\)")  # glyphs pdfminer cannot map to Unicode: not text


def inspect_pdf(path: Path, limits: Limits) -> FileInfo:
    objects = count_objects(path, limits.max_pdf_objects)
    if objects > limits.max_pdf_objects:
        raise Refused(
            f"Il PDF ha più di {number_it(limits.max_pdf_objects)} oggetti:"
            f" il limite è {number_it(limits.max_pdf_objects)}"
        )
    check_streams(path, limits)
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if error.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
            return FileInfo(kind="pdf", mime_type="application/pdf", pages=0, encrypted=True)
        raise Refused("Il PDF è danneggiato o illeggibile") from error
    try:
        pages = len(document)
        encrypted = pdfium.raw.FPDF_GetSecurityHandlerRevision(document.raw) != -1
    finally:
        document.close()
    if pages > limits.max_pages:
        raise Refused(f"Il PDF ha {number_it(pages)} pagine: il limite è {number_it(limits.max_pages)}")
    if pages == 0:
        raise Refused("Il PDF non ha pagine")
    if not encrypted:
        walk_page_tree(path, limits)
    return FileInfo(kind="pdf", mime_type="application/pdf", pages=pages, encrypted=encrypted)


def count_objects(path: Path, limit: int) -> int:
    """Objects the file declares, counted up to limit + 1: headers, cross-reference sizes, object streams."""
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        headers = sum(1 for _ in itertools.islice(_OBJ_HEADER.finditer(data), limit + 1))
        if headers > limit:
            return headers
        sizes = [int(m.group(1)) for m in itertools.islice(_XREF_SIZE.finditer(data), 10_000)]
        in_streams = 0
        for found in itertools.islice(_OBJ_STREAM.finditer(data), limit + 1):
            window = data[max(0, found.start() - 512) : found.end() + 512]
            count = _COUNT_N.search(window)
            in_streams += int(count.group(1)) if count else 0
            if headers + in_streams > limit:
                break
    return max(headers + in_streams, max(sizes, default=0))


def check_streams(path: Path, limits: Limits) -> None:
    """Decompression bombs inside the PDF, before any reader decodes a stream: an image whose declared size is
    over the pixel limit (pdfium would decode it whole to render the page), and a Flate stream that inflates
    past MAX_STREAM_BYTES (pdfminer inflates a content stream in memory). Inflated in 1 MB steps, kept
    nowhere; image streams are not inflated (their size is in their dictionary)."""
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        previous_end = 0
        for found in _STREAM.finditer(data):
            if found.start() < previous_end or data[found.start() - 3 : found.start()] == b"end":
                continue
            head = data[max(previous_end, found.start() - 4096) : found.start()]
            head = head[head.rfind(b"obj") + 3 :] if b"obj" in head else head
            end = data.find(b"endstream", found.end())
            end = len(data) if end < 0 else end
            previous_end = end + 9
            if b"/Image" in head:
                width, height = _WIDTH.search(head), _HEIGHT.search(head)
                if width and height and int(width.group(1)) * int(height.group(1)) > limits.max_pixels:
                    w, h = int(width.group(1)), int(height.group(1))
                    raise Refused(
                        f"Il PDF contiene un'immagine di {number_it(w * h)} pixel ({w} x {h}):"
                        f" il limite è {number_it(limits.max_pixels)} (possibile decompression bomb)"
                    )
            elif b"/FlateDecode" in head and _inflates_past(data[found.end() : end], MAX_STREAM_BYTES):
                megabytes = MAX_STREAM_BYTES // 2**20
                raise Refused(
                    f"Il PDF contiene un flusso compresso che decompresso supera {megabytes} MB:"
                    f" il limite è {megabytes} MB (possibile decompression bomb)"
                )


def _inflates_past(compressed: bytes, limit: int) -> bool:
    inflater = zlib.decompressobj()
    total = 0
    pending = compressed
    try:
        while not inflater.eof:
            out = inflater.decompress(pending, _INFLATE_STEP)
            total += len(out)
            if total > limit:
                return True
            pending = inflater.unconsumed_tail
            if not out and not pending:
                break
    except zlib.error:
        return False  # a broken stream: readers skip it
    return False


def walk_page_tree(path: Path, limits: Limits) -> int:
    """Leaves of the page tree as a reader walks it (no recursion): `Refused` on a cycle or past the limit."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFObjRef, resolve1
    from pdfminer.psexceptions import PSException
    from pdfminer.psparser import LIT

    page_type = LIT("Page")
    with path.open("rb") as stream:
        try:
            document = PDFDocument(PDFParser(stream))
            root = document.catalog.get("Pages")
        except (PSException, KeyError, ValueError, TypeError):
            return 0  # pdfium read it; pdfminer cannot: text_layer() will find no text, the OCR goes on
        leaves = visits = 0
        on_path: set[int] = set()
        stack: list[tuple[bool, object]] = [(True, root)]
        while stack:
            entering, node_ref = stack.pop()
            if not entering:
                on_path.discard(node_ref)  # type: ignore[arg-type]
                continue
            objid = node_ref.objid if isinstance(node_ref, PDFObjRef) else None
            if objid is not None and objid in on_path:
                raise Refused("Il PDF ha un albero delle pagine ricorsivo (una pagina contiene se stessa)")
            visits += 1
            if visits > limits.max_pdf_objects:
                raise Refused(
                    f"L'albero delle pagine del PDF ha più di {number_it(limits.max_pdf_objects)} nodi:"
                    f" il limite è {number_it(limits.max_pdf_objects)}"
                )
            try:
                node = resolve1(node_ref)
                kids = resolve1(node.get("Kids")) if isinstance(node, dict) else None
            except (PSException, KeyError, ValueError, TypeError):
                continue
            if isinstance(kids, list) and node.get("Type") is not page_type:
                if objid is not None:
                    on_path.add(objid)
                    stack.append((False, objid))
                stack.extend((True, kid) for kid in reversed(kids))
            elif isinstance(node, dict):
                leaves += 1
                if leaves > limits.max_pages:
                    raise Refused(
                        f"Il PDF ha più di {number_it(limits.max_pages)} pagine:"
                        f" il limite è {number_it(limits.max_pages)}"
                    )
    return leaves


def text_layer(path: str | Path) -> list[PageText] | None:
    """The PDF's own text, page by page (pdfplumber), or None when no page has at least MIN_PAGE_CHARS
    letters or digits (a scan, or a scan with a stamp): then the pages need the OCR. A page of a born-digital
    file with less text than that (a scan bound into it) comes back with what it has; extract() OCRs it."""
    import pdfplumber
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(path) as document:
            pages = [
                PageText(number=n, text=_CID.sub("", page.extract_text() or "").strip(), source="text_layer")
                for n, page in enumerate(document.pages, start=1)
            ]
    except (PdfminerException, PSException):
        return None
    return pages if any(has_text(page.text) for page in pages) else None


def has_text(text: str) -> bool:
    return sum(ch.isalnum() for ch in text) >= MIN_PAGE_CHARS


def render_page(path: Path, page_number: int, dpi: int, max_pixels: int) -> Image.Image:
    """One page in greyscale at `dpi`, or at the highest resolution under max_pixels for a huge page."""
    document = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page_number <= len(document):
            raise ValueError(f"page {page_number} of {len(document)}")
        page = document[page_number - 1]
        try:
            width, height = page.get_size()
            scale = dpi / 72
            pixels = width * height * scale * scale
            if pixels > max_pixels:
                scale *= math.sqrt(max_pixels / pixels)
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil().convert("L")
        finally:
            page.close()
    finally:
        document.close()
    return image


def number_it(value: int) -> str:
    """100000 -> "100.000" (Italian thousands separator)."""
    return f"{value:,}".replace(",", ".")
