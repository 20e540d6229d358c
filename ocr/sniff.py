"""What a file is, by its content, and whether it is within the limits (R-C3 intake): `inspect()`.

1. Size, from the file system, before anything is read.
2. Type from the first bytes (the name is never trusted): PDF, PNG, JPEG, TIFF; an e-mail when the file starts
   with RFC 822 header lines; plain text when the whole file is UTF-8 with no NUL. Anything else is refused,
   with what it looks like when we know (a ZIP renamed .pdf is "un archivio ZIP").
3. Images: the pixel count from the header (nothing decoded) against `Limits.max_pixels`; every frame of a
   TIFF.
   Pillow's own decompression-bomb guard (MAX_IMAGE_PIXELS) becomes a `Refused` too.
4. PDFs: ocr/pdf.py counts objects and pages without rendering or decoding a stream.
5. E-mail files: the attachments are counted (at most `Limits.max_email_attachments`, as the IMAP intake).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ocr import pdf
from ocr.pdf import number_it
from ocr.protocol import FileInfo, Limits, Refused

PDF_SEARCH_BYTES = 1024  # the PDF header may follow some junk (ISO 32000 tolerates it; readers do too)
HEAD_BYTES = 64 * 1024

IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}
# Known formats we do not accept, so the reason can say what the file is.
OTHER_MAGIC = {
    b"PK\x03\x04": "un archivio ZIP (o un documento Office/ODF)",
    b"PK\x05\x06": "un archivio ZIP vuoto",
    b"\x1f\x8b": "un archivio GZIP",
    b"7z\xbc\xaf\x27\x1c": "un archivio 7-Zip",
    b"Rar!\x1a\x07": "un archivio RAR",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "un documento Office in formato binario (DOC/XLS)",
    b"GIF87a": "un'immagine GIF",
    b"GIF89a": "un'immagine GIF",
    b"\x7fELF": "un programma eseguibile",
}
ACCEPTED_IT = "sono ammessi PDF, immagini PNG, JPEG o TIFF, testo UTF-8 ed e-mail (.eml)"

# RFC 5322 §2.2: a header field is a name of printable ASCII but ':' followed by ':'; continuation lines start
# with a space or a tab. An mbox "From " separator may come first.
_HEADER = re.compile(rb"^[!-9;-~]+:")
_MAIL_FIELDS = {
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"received",
    b"return-path",
    b"mime-version",
}


def inspect(path: str | Path, limits: Limits = Limits()) -> FileInfo:
    """Type, pages and encryption of a file, or `Refused` with an Italian reason naming what and the limit."""
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise Refused(f"Il file pesa {_megabytes(size)}: il limite è {_megabytes(limits.max_bytes)}")
    if size == 0:
        raise Refused("Il file è vuoto")
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    # signatures at offset 0 first: a ZIP storing a PDF uncompressed has "%PDF-" in its first kilobyte
    for magic, mime_type in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return _inspect_image(path, mime_type, limits)
    for magic, what in OTHER_MAGIC.items():
        if head.startswith(magic):
            raise Refused(f"Il contenuto del file è {what}{_named_as(path)}: {ACCEPTED_IT}")
    if b"%PDF-" in head[:PDF_SEARCH_BYTES]:
        return pdf.inspect_pdf(path, limits)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        raise Refused(f"Il contenuto del file è un'immagine WebP{_named_as(path)}: {ACCEPTED_IT}")
    if looks_like_email(head):
        _require_text(path)
        attachments = count_attachments(path)
        if attachments > limits.max_email_attachments:
            raise Refused(
                f"Il messaggio ha {number_it(attachments)} allegati:"
                f" il limite è {number_it(limits.max_email_attachments)}"
            )
        return FileInfo(kind="email", mime_type="message/rfc822", pages=1)
    if _is_text(path):
        return FileInfo(kind="text", mime_type="text/plain", pages=1)
    raise Refused(f"Il contenuto del file non è di un tipo riconosciuto{_named_as(path)}: {ACCEPTED_IT}")


def sniff_kind(path: Path) -> str:
    """'pdf' or 'image' from the first bytes (for ocr_page, which is only handed what inspect() accepted)."""
    with path.open("rb") as stream:
        head = stream.read(PDF_SEARCH_BYTES)
    if any(head.startswith(magic) for magic in IMAGE_MAGIC):
        return "image"
    if b"%PDF-" in head and not any(head.startswith(magic) for magic in OTHER_MAGIC):
        return "pdf"
    raise Refused("Si possono leggere con l'OCR solo PDF e immagini PNG, JPEG o TIFF")


def count_attachments(path: Path) -> int:
    """The attachments of an e-mail file: every leaf part with a file name or marked as an attachment, an
    attached message counting as one (its own parts are not opened)."""
    import email
    import email.policy

    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    count = 0
    stack = [message]
    while stack:
        part = stack.pop()
        if part is not message and part.get_content_type() == "message/rfc822":
            count += 1
        elif part.is_multipart():
            stack.extend(part.get_payload())  # type: ignore[arg-type]
        elif part is not message and (part.get_filename() or part.get_content_disposition() == "attachment"):
            count += 1
    return count


def looks_like_email(head: bytes) -> bool:
    """The file opens with a block of RFC 822 header lines, at least two of them fields of a message."""
    lines = head.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    fields: set[bytes] = set()
    for raw in lines[:200]:
        line = raw.rstrip(b"\r")
        if not line:
            break  # the end of the header block
        if line[:1] in (b" ", b"\t") and fields:
            continue  # a folded header
        if not _HEADER.match(line):
            return False
        fields.add(line.split(b":", 1)[0].lower())
    return len(fields & _MAIL_FIELDS) >= 2


def _inspect_image(path: Path, mime_type: str, limits: Limits) -> FileInfo:
    with open_image(path, limits) as image:
        frames = getattr(image, "n_frames", 1) if mime_type == "image/tiff" else 1
        if frames > limits.max_pages:
            raise Refused(f"Il TIFF ha {number_it(frames)} pagine: il limite è {number_it(limits.max_pages)}")
        for frame in range(1, frames):
            image.seek(frame)
            check_pixels(image.size, limits, page=frame + 1)
    return FileInfo(kind="image", mime_type=mime_type, pages=frames)


class open_image:
    """`Image.open` (header only) with the pixel limit checked, Pillow's bomb guard turned into `Refused`."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits

    def __enter__(self) -> Image.Image:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides
            try:
                self.image = Image.open(self.path)
            except Image.DecompressionBombError as error:
                found = re.search(r"\((\d+) pixels\)", str(error))
                pixels = int(found.group(1)) if found else 0
                raise Refused(_pixels_reason(pixels, self.limits)) from None
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
                raise Refused("L'immagine è danneggiata o illeggibile") from error
        check_pixels(self.image.size, self.limits)
        return self.image

    def __exit__(self, *exc: object) -> None:
        self.image.close()


def check_pixels(size: tuple[int, int], limits: Limits, page: int | None = None) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        raise Refused(_pixels_reason(width * height, limits, size, page))


def _pixels_reason(
    pixels: int, limits: Limits, size: tuple[int, int] | None = None, page: int | None = None
) -> str:
    where = f" (pagina {page})" if page else ""
    dims = f" ({size[0]} x {size[1]})" if size else ""
    return (
        f"L'immagine{where} ha {number_it(pixels)} pixel{dims}: il limite è {number_it(limits.max_pixels)}"
        " (possibile decompression bomb)"
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def _named_as(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return f", anche se il nome termina in .{suffix}" if suffix else ""


def _is_text(path: Path) -> bool:
    data = path.read_bytes()
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _require_text(path: Path) -> None:
    data = path.read_bytes()
    if b"\x00" in data:
        raise Refused("L'e-mail contiene dati binari non codificati (byte NUL)")
