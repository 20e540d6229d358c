"""Hostile files written by the tests, byte by byte: PDFs with 100,000 pages, a recursive or fanning-out page
tree, too many objects; a PNG decompression bomb. Each is small on disk."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def write_pdf(path: Path, objects: Sequence[bytes], *, size: int | None = None) -> Path:
    """A PDF of `objects` numbered from 1 (1 is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size or len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def catalog() -> bytes:
    return b"<< /Type /Catalog /Pages 2 0 R >>"


def pages_pdf(path: Path, pages: int) -> Path:
    """`pages` page objects under one Pages node (a 100,000-page file is ~7 MB)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    root = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids)
    return write_pdf(path, [catalog(), root, *[PAGE] * pages])


def recursive_pdf(path: Path) -> Path:
    """Pages 2 -> Pages 3 -> back to Pages 2 (and a real page, so the tree looks sane at first)."""
    return write_pdf(
        path,
        [
            catalog(),
            b"<< /Type /Pages /Count 2 /Kids [3 0 R 4 0 R] >>",
            b"<< /Type /Pages /Parent 2 0 R /Count 1 /Kids [2 0 R] >>",
            PAGE,
        ],
    )


def fan_out_pdf(path: Path, fan: int = 10, depth: int = 8) -> Path:
    """A "billion laughs" page tree: each level lists the next one `fan` times; `fan ** depth` leaves in a few
    hundred bytes, though /Count says 1."""
    objects = [catalog(), b"<< /Type /Pages /Count 1 /Kids [%s] >>" % b" ".join([b"3 0 R"] * fan)]
    for level in range(depth - 1):
        child = 4 + level
        objects.append(b"<< /Type /Pages /Count 1 /Kids [%s] >>" % b" ".join([b"%d 0 R" % child] * fan))
    objects.append(PAGE)
    return write_pdf(path, objects)


def many_objects_pdf(path: Path, objects: int) -> Path:
    """One page and `objects` small integer objects nobody refers to."""
    return write_pdf(
        path, [catalog(), b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>", PAGE, *[b"42"] * objects]
    )


def png_bomb(path: Path, width: int = 30_000, height: int = 30_000) -> Path:
    """A valid 1-bit PNG of width x height white pixels: ~110 KB on disk, 112 MB packed, 900 Mpx decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def flate_bomb_pdf(path: Path, megabytes: int = 300) -> Path:
    """A page whose content stream inflates to `megabytes` MB of spaces from ~300 KB."""
    packer = zlib.compressobj(9)
    chunk = b" " * 2**20
    data = b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
    return write_pdf(path, [catalog(), b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>", page, content])


def image_bomb_pdf(path: Path, side: int = 100_000) -> Path:
    """A page drawing a side x side 1-bit image from a stream of a few bytes (pdfium would allocate it)."""
    data = zlib.compress(b"\x00" * 1000)
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 1 /ColorSpace /DeviceGray"
        b" /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (side, side, len(data), data)
    )
    draw = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 5 0 R >> >>"
        b" /Contents 4 0 R >>"
    )
    content = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw)
    return write_pdf(path, [catalog(), b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>", page, content, image])
