"""Reading import files safely and in bounded memory: checks on the raw bytes, encoding detection, and the
readers that cut a file into chunks of rows for the validation workers.

Encoding rule (formats.md intro; "detected, never guessed silently"):
1. a UTF-16/UTF-32 byte-order mark, or a NUL byte anywhere, means the file is not text: refused;
2. a UTF-8 BOM is skipped and the file must then be valid UTF-8;
3. otherwise the file is decoded as UTF-8, strictly; if every byte sequence is valid UTF-8 the file is UTF-8;
4. if not, the file is Windows-1252 only when *all* its bytes decode as Windows-1252 (the five bytes
   0x81 0x8D 0x8F 0x90 0x9D do not) and no line is valid UTF-8 with non-ASCII characters (a file mixing
   the two
   encodings is refused, naming a line of each); otherwise it is refused naming the first line that cannot be
   decoded.
A layout may also force `utf-8` or `cp1252`: then the file must decode entirely in that encoding.

Hostile inputs refused here, before anything is parsed: lines longer than `MAX_LINE_BYTES`, binary content
(NUL bytes, known signatures of archives, documents, images and programs), XLSX archives whose members
would expand beyond `XLSX_MAX_UNCOMPRESSED` or with a compression ratio above `XLSX_MAX_RATIO` (zip bombs),
XML with a DOCTYPE (entities: XXE, "billion laughs").
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import tempfile
import warnings
import zipfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO

from app.carichi.layouts import LayoutSpec
from app.carichi.validation import FIELDS, REQUIRED_COLUMNS, Source

BLOCK_BYTES = 1 << 20
MAX_LINE_BYTES = 64 * 1024
MAX_RECORD_BYTES = 4 * BLOCK_BYTES  # a quoted CSV record spanning lines
XLSX_MAX_UNCOMPRESSED = 2 * 1024**3
XLSX_MAX_PART = 1024**3  # any one part of the archive, decompressed
# The shared strings table (every distinct text of the workbook): a full Excel sheet of 1,048,576 rows with a
# few distinct texts per row stays well under it. Read in bounded memory anyway (`SharedStrings`).
XLSX_MAX_SHARED_STRINGS = 256 * 1024**2
XLSX_MAX_RATIO = 200
XLSX_MAX_MEMBERS = 10_000
# Excel's own limit: openpyxl keeps a (cleared) element per row read, so a sheet claiming millions of rows
# would grow memory without end.
XLSX_MAX_ROWS = 1_048_576
SHARED_STRINGS_PART = "xl/sharedStrings.xml"
ROWS_PER_CHUNK = 2000

SIGNATURES = (
    (b"PK\x03\x04", "un archivio ZIP (ad esempio un file Excel XLSX o un documento ODS/DOCX)"),
    (b"%PDF", "un documento PDF"),
    (b"\x89PNG", "un'immagine PNG"),
    (b"\xff\xd8\xff", "un'immagine JPEG"),
    (b"GIF8", "un'immagine GIF"),
    (b"\x1f\x8b", "un archivio compresso gzip"),
    (b"\x7fELF", "un programma eseguibile"),
    (b"\xd0\xcf\x11\xe0", "un documento Office 97-2003 (XLS, DOC)"),
    (b"Rar!", "un archivio RAR"),
    (b"7z\xbc\xaf", "un archivio 7-Zip"),
    # UTF-32 before UTF-16: the UTF-32 LE mark FF FE 00 00 starts with the UTF-16 LE one (FF FE).
    (b"\xff\xfe\x00\x00", "un testo UTF-32 (little endian), non supportato: salvarlo in UTF-8"),
    (b"\x00\x00\xfe\xff", "un testo UTF-32 (big endian), non supportato: salvarlo in UTF-8"),
    (b"\xff\xfe", "un testo UTF-16 (little endian), non supportato: salvarlo in UTF-8"),
    (b"\xfe\xff", "un testo UTF-16 (big endian), non supportato: salvarlo in UTF-8"),
)
_NON_ASCII = re.compile(rb"[\x80-\xff]")


class FileRefused(Exception):
    """The whole file is refused; `message` is Italian and names the line when there is one."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class FileFacts:
    sha256: str
    size: int
    encoding: str | None = None  # codec of the data after the BOM (text formats)
    bom: int = 0  # bytes to skip at the start
    lines: int = 0  # physical lines (text formats)


def sha256_of(path: str | Path, *, count: bytes | None = None) -> tuple[str, int]:
    """The file's SHA-256 and how many times `count` occurs in it (one pass)."""
    digest = hashlib.sha256()
    found = 0
    tail = b""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK_BYTES), b""):
            digest.update(block)
            if count:
                found += (tail + block).count(count)
                tail = block[-(len(count) - 1) :] if len(count) > 1 else b""
    return digest.hexdigest(), found


def what_binary(head: bytes) -> str | None:
    """What a file that is not text looks like (by its first bytes), or None."""
    for signature, name in SIGNATURES:
        if head.startswith(signature):
            return name
    return None


def scan_text(
    path: str | Path,
    *,
    encoding: str = "auto",
    max_line: int = MAX_LINE_BYTES,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileFacts:
    """One pass over a text file: SHA-256, binary content, line lengths, encoding. FileRefused on failure.

    `limit` stops after that many bytes (previews); `progress(bytes_read)` is called after each block."""
    with open(path, "rb") as f:
        return scan_stream(f, encoding=encoding, max_line=max_line, limit=limit, progress=progress)


def scan_stream(
    f: BinaryIO,
    *,
    encoding: str = "auto",
    max_line: int = MAX_LINE_BYTES,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileFacts:
    """`scan_text` over an open binary stream (the payments import checks its bytes with the same rules)."""
    digest = hashlib.sha256()
    size = 0
    line_no = 1  # number of the line `pending` starts
    pending = b""
    bom = 0
    utf8_ok = True
    first_bad_utf8: int | None = None
    utf8_text_line: int | None = None  # a line that is valid UTF-8 with non-ASCII characters
    cp_bad: tuple[int, int] | None = None
    first = True
    while True:
        block = f.read(BLOCK_BYTES)
        if first:
            first = False
            kind = what_binary(block)
            if kind:
                raise FileRefused(
                    f"Il file non è un testo CSV o a lunghezza fissa: il contenuto è {kind}.", 1
                )
            if block.startswith(b"\xef\xbb\xbf"):
                bom = 3
                if encoding == "cp1252":
                    raise FileRefused(
                        "Il file inizia con il BOM UTF-8 ma il tracciato prevede Windows-1252.", 1
                    )
                digest.update(block[:3])
                size += 3
                block = block[3:]
                encoding = "utf-8" if encoding == "auto" else encoding
            if not block and not size:
                raise FileRefused("Il file è vuoto.")
        if not block:
            break
        digest.update(block)
        size += len(block)
        nul = block.find(b"\x00")
        if nul >= 0:
            at = line_no + (pending + block[:nul]).count(b"\n")
            raise FileRefused(
                f"Il file contiene dati binari (byte nullo alla riga {at}): non è un testo.", at
            )
        data = pending + block if pending else block
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            if len(pending) > max_line:
                raise _too_long(line_no, max_line)
            continue
        complete, pending = data[: cut + 1], data[cut + 1 :]
        if len(pending) > max_line:
            raise _too_long(line_no + complete.count(b"\n"), max_line)
        first_bad_utf8, utf8_text_line, cp_bad, utf8_ok = _check_lines(
            complete, line_no, max_line, encoding, utf8_ok, first_bad_utf8, utf8_text_line, cp_bad
        )
        line_no += complete.count(b"\n")
        if progress is not None:
            progress(size)
        if limit is not None and size >= limit:
            pending = b""
            break
    lines = line_no - 1
    if pending:
        first_bad_utf8, utf8_text_line, cp_bad, utf8_ok = _check_lines(
            pending, line_no, max_line, encoding, utf8_ok, first_bad_utf8, utf8_text_line, cp_bad
        )
        lines += 1
    return FileFacts(
        sha256=digest.hexdigest(),
        size=size,
        bom=bom,
        lines=lines,
        encoding=_decide(encoding, utf8_ok, first_bad_utf8, utf8_text_line, cp_bad),
    )


def _too_long(line: int, max_line: int) -> FileRefused:
    return FileRefused(
        f"La riga {line} supera la lunghezza massima consentita ({max_line:,} byte): il file non è "
        "un tracciato valido.".replace(",", "."),
        line,
    )


def _check_lines(
    data: bytes,
    line_no: int,
    max_line: int,
    encoding: str,
    utf8_ok: bool,
    first_bad: int | None,
    utf8_text: int | None,
    cp_bad: tuple[int, int] | None,
) -> tuple[int | None, int | None, tuple[int, int] | None, bool]:
    if len(data) > max_line:
        lengths = [len(x) for x in data.split(b"\n")]
        longest = max(lengths)
        if longest > max_line:
            raise _too_long(line_no + lengths.index(longest), max_line)
    if data.isascii():
        return first_bad, utf8_text, cp_bad, utf8_ok
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if utf8_text is None:
            match = _NON_ASCII.search(data)
            utf8_text = line_no + data.count(b"\n", 0, match.start() if match else 0)
        return first_bad, utf8_text, cp_bad, utf8_ok
    # Some bytes are not UTF-8: look line by line (rare path).
    for offset, raw in enumerate(data.split(b"\n")):
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            if utf8_text is None:
                utf8_text = line_no + offset
        except UnicodeDecodeError:
            utf8_ok = False
            if first_bad is None:
                first_bad = line_no + offset
            if cp_bad is None:
                try:
                    raw.decode("cp1252")
                except UnicodeDecodeError as exc:
                    cp_bad = (line_no + offset, raw[exc.start])
    return first_bad, utf8_text, cp_bad, utf8_ok


def _decide(
    encoding: str, utf8_ok: bool, first_bad: int | None, utf8_text: int | None, cp_bad: tuple[int, int] | None
) -> str:
    if encoding == "cp1252":
        if cp_bad is not None:
            raise FileRefused(
                f"Riga {cp_bad[0]}: byte 0x{cp_bad[1]:02X} non valido in Windows-1252 (codifica del "
                "tracciato).",
                cp_bad[0],
            )
        return "cp1252"
    if utf8_ok:
        return "utf-8"
    if encoding == "utf-8":
        raise FileRefused(
            f"Riga {first_bad}: il testo non è UTF-8 valido (codifica del tracciato).", first_bad
        )
    if cp_bad is not None:
        raise FileRefused(
            f"Riga {cp_bad[0]}: il file non è leggibile né come UTF-8 né come Windows-1252 (byte "
            f"0x{cp_bad[1]:02X}). Salvare il file in UTF-8.",
            cp_bad[0],
        )
    if utf8_text is not None:
        raise FileRefused(
            f"Codifica mista: la riga {utf8_text} è in UTF-8, la riga {first_bad} in Windows-1252. "
            "Salvare il file in un'unica codifica (UTF-8).",
            first_bad,
        )
    return "cp1252"


# --- text layouts (CSV, fixed width) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """A file ready to be read: how to cut it (`source`), the labels of its fields, the fields it carries."""

    source: Source | None
    labels: dict[str, str]
    mapped: frozenset[str]
    data_start: int  # byte offset of the first data line
    first_line: int  # its line number
    rows_hint: int | None = None  # how many data rows there are, when known before reading them


def _detect_delimiter(header: str, separator: str) -> str:
    if separator == "tab":
        return "\t"
    if separator != "auto":
        return separator
    for candidate in (";", ",", "\t", "|"):
        if candidate in header:
            return candidate
    return ";"


def open_csv(path: str | Path, facts: FileFacts, spec: LayoutSpec) -> Opened:
    """Read and check the header line: every column must be a field of the layout (unless unknown columns are
    ignored), required fields must be there, no column twice."""
    with open(path, "rb") as f:
        f.seek(facts.bom)
        raw = f.readline()
    header_text = raw.decode(facts.encoding or "utf-8").rstrip("\r\n")
    if header_text.lstrip().startswith("<"):
        raise FileRefused("Il file sembra XML, non CSV: scegliere un tracciato XML.", 1)
    if not header_text.strip():
        raise FileRefused("Riga 1: intestazione mancante (attesi i nomi delle colonne).", 1)
    delimiter = _detect_delimiter(header_text, spec.separator)
    names = next(csv.reader([header_text], delimiter=delimiter))
    by_name = {source.strip().lower(): field for field, source in spec.columns.items()}
    indexes: dict[str, int] = {}
    labels: dict[str, str] = {}
    seen: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(names):
        key = name.strip().lstrip("\ufeff").lower()
        if key in seen:
            raise FileRefused(f"Riga 1: la colonna «{name.strip()}» compare due volte nell'intestazione.", 1)
        seen[key] = position
        field = by_name.get(key)
        if field is None:
            if not key and spec.ignore_unknown_columns:
                continue
            unknown.append(name.strip() or f"(colonna {position + 1} senza nome)")
            continue
        indexes[field] = position
        labels[field] = name.strip()
    if unknown and not spec.ignore_unknown_columns:
        raise FileRefused(
            "Riga 1: colonne sconosciute nell'intestazione: "
            + ", ".join(f"«{u}»" for u in unknown)
            + f" (tracciato «{spec.name}»; colonne ammesse: "
            + ", ".join(spec.columns.values())
            + ").",
            1,
        )
    _require(spec, set(indexes), "Riga 1: colonne obbligatorie assenti dall'intestazione: ")
    fields = FIELDS[spec.flow]
    ncols = len(names)
    source = Source(
        kind="csv",
        encoding=facts.encoding or "utf-8",
        delimiter=delimiter,
        ncols=ncols,
        indexes=tuple(indexes.get(f, ncols) for f in fields),
    )
    return Opened(source, labels, frozenset(indexes), facts.bom + len(raw), 2)


def _require(spec: LayoutSpec, present: set[str], prefix: str) -> None:
    required = REQUIRED_COLUMNS[spec.flow] & spec.mapped_fields
    missing = [spec.columns.get(f, f) for f in FIELDS[spec.flow] if f in required and f not in present]
    if missing:
        raise FileRefused(prefix + ", ".join(f"«{m}»" for m in missing) + ".", 1)


def open_fixed(facts: FileFacts, spec: LayoutSpec) -> Opened:
    fields = FIELDS[spec.flow]
    positions = {f.field: f for f in spec.fixed}
    spans = tuple(
        (positions[f].start - 1, positions[f].start - 1 + positions[f].length) if f in positions else (0, 0)
        for f in fields
    )
    rtype = spec.options.get("record_type")
    record_type = None
    if rtype:
        start = int(rtype["start"]) - 1
        record_type = (
            start,
            start + int(rtype["length"]),
            str(rtype["value"]),
            tuple(str(x) for x in rtype.get("ignore", ())),
        )
    source = Source(
        kind="fixed",
        encoding=facts.encoding or "utf-8",
        spans=spans,
        record_length=int(spec.options.get("record_length") or 0),
        record_type=record_type,
        zero_is_empty=tuple(i for i, f in enumerate(fields) if f.startswith("data")),
    )
    labels = {f.field: f.label for f in spec.fixed}
    return Opened(source, labels, frozenset(positions), facts.bom, 1)


def text_chunks(
    path: str | Path, opened: Opened, *, chunk_bytes: int = BLOCK_BYTES, limit_lines: int | None = None
) -> Iterator[tuple[bytes, int]]:
    """(data, first line number) pieces of the file cut at line ends, never inside a quoted CSV field."""
    csv_quotes = opened.source is not None and opened.source.kind == "csv"
    line = opened.first_line
    buffer = b""
    with open(path, "rb") as f:
        f.seek(opened.data_start)
        if limit_lines is not None:
            data = b"".join(f.readline() for _ in range(limit_lines))
            yield data, line
            return
        while True:
            block = f.read(chunk_bytes)
            if not block:
                break
            buffer = buffer + block if buffer else block
            cut = _cut(buffer, csv_quotes)
            if cut < 0:
                if len(buffer) > MAX_RECORD_BYTES:
                    raise FileRefused(
                        f"Dalla riga {line}: virgolette non chiuse in un campo CSV (record oltre "
                        f"{MAX_RECORD_BYTES // BLOCK_BYTES} MB).",
                        line,
                    )
                continue
            piece, buffer = buffer[: cut + 1], buffer[cut + 1 :]
            yield piece, line
            line += piece.count(b"\n")
    if buffer:
        yield buffer, line


def _cut(data: bytes, csv_quotes: bool) -> int:
    """The last line end of `data` outside quotes (quote parity), or -1."""
    cut = data.rfind(b"\n")
    if not csv_quotes or cut < 0 or b'"' not in data:
        return cut
    quotes_before = data.count(b'"', 0, cut)
    while cut >= 0 and quotes_before % 2:
        previous = data.rfind(b"\n", 0, cut)
        if previous < 0:
            return -1
        quotes_before -= data.count(b'"', previous, cut)
        cut = previous
    return cut


# --- XLSX ------------------------------------------------------------------------------------------------


def check_xlsx(path: str | Path) -> None:
    """Refuse what is not an XLSX, and zip bombs, from the archive's directory, before decompressing."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith(b"PK\x03\x04"):
        kind = what_binary(head)
        raise FileRefused(
            "Il file non è un foglio Excel XLSX"
            + (f": il contenuto è {kind}." if kind else " (non è un archivio ZIP).")
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise FileRefused("Il file XLSX è danneggiato: l'archivio ZIP non è leggibile.") from None
    if len(members) > XLSX_MAX_MEMBERS:
        raise FileRefused(f"Il file XLSX contiene troppi elementi ({len(members)}): rifiutato.")
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRefused("Il file è un archivio ZIP ma non un foglio Excel XLSX.")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise FileRefused("Il file XLSX è protetto da password: salvarlo senza protezione.")
        total += member.file_size
        part_limit = _part_limit(member.filename)
        if member.file_size > part_limit:
            raise FileRefused(
                f"Il file XLSX è stato rifiutato: l'elemento «{member.filename}» decompresso occuperebbe "
                f"{member.file_size // 1024**2} MB (limite {part_limit // 1024**2} MB)."
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > BLOCK_BYTES and ratio > XLSX_MAX_RATIO:
            raise FileRefused(
                f"Il file XLSX è stato rifiutato: l'elemento «{member.filename}» si espanderebbe "
                f"{ratio:.0f} volte (limite {XLSX_MAX_RATIO}), tipico di un attacco «zip bomb»."
            )
    if total > XLSX_MAX_UNCOMPRESSED:
        raise FileRefused(
            f"Il file XLSX è stato rifiutato: decompresso occuperebbe {total // 1024**2} MB "
            f"(limite {XLSX_MAX_UNCOMPRESSED // 1024**2} MB)."
        )


def _part_limit(name: str) -> int:
    return XLSX_MAX_SHARED_STRINGS if name.lower() == SHARED_STRINGS_PART.lower() else XLSX_MAX_PART


class _BoundedStream:
    """A member of the archive read through a counter: refused once more than `limit` bytes come out of the
    inflater, whatever the archive declares."""

    def __init__(self, raw: IO[bytes], name: str, limit: int) -> None:
        self.raw, self.name, self.limit, self.count = raw, name, limit, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if 0 < size <= BLOCK_BYTES else BLOCK_BYTES)
        self.count += len(data)
        if self.count > self.limit:
            raise FileRefused(
                f"Il file XLSX è stato rifiutato: l'elemento «{self.name}» decompresso supera "
                f"{self.limit // 1024**2} MB."
            )
        return data


class SharedStrings(Sequence[str]):
    """The shared strings table of an XLSX in bounded memory: kept in a list while small, moved to two
    temporary files (UTF-8 texts, and their 8-byte offsets) beyond `MEMORY_STRINGS` texts or `MEMORY_BYTES`
    of text. openpyxl would load the whole table as Python strings: a 6 MB file whose table inflates to
    600 MB took the process from 160 MB to 820 MB."""

    MEMORY_STRINGS = 100_000
    MEMORY_BYTES = 8 * 1024**2
    CACHE = 4096

    def __init__(self) -> None:
        self._list: list[str] | None = []
        self._bytes = 0
        self._data: IO[bytes] | None = None
        self._index: IO[bytes] | None = None
        self._offsets = array("q")
        self._offset = 0
        self._count = 0
        self._cache: dict[int, str] = {}

    @classmethod
    def read(cls, stream: Any) -> SharedStrings:
        """Stream the `<si>` elements of sharedStrings.xml (lxml, no DTD/entities, each one cleared)."""
        from lxml import etree

        table = cls()
        main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
        si, t, r = f"{main}si", f"{main}t", f"{main}r"
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=si,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for _, element in context:
                parts = [child.text or "" for child in element if child.tag == t]
                parts += [(run.findtext(t) or "") for run in element if run.tag == r]
                table.append("".join(parts).replace("x005F_", ""))  # as openpyxl's read_string_table
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            table.close()
            raise FileRefused(
                f"Il file XLSX è danneggiato: la tabella dei testi (xl/sharedStrings.xml) non è XML valido "
                f"(riga {exc.lineno} dell'elemento)."
            ) from None
        except BaseException:
            table.close()
            raise
        table.finish()
        return table

    def append(self, text: str) -> None:
        if self._list is not None:
            self._list.append(text)
            self._bytes += len(text)
            if len(self._list) > self.MEMORY_STRINGS or self._bytes > self.MEMORY_BYTES:
                self._spill()
            return
        self._write(text)

    def _spill(self) -> None:
        assert self._list is not None
        self._data = tempfile.TemporaryFile(prefix="esattoria-xlsx-")  # noqa: SIM115 - closed in close()
        self._index = tempfile.TemporaryFile(prefix="esattoria-xlsx-")  # noqa: SIM115
        texts, self._list = self._list, None
        for text in texts:
            self._write(text)

    def _write(self, text: str) -> None:
        assert self._data is not None and self._index is not None
        data = text.encode("utf-8")
        self._offsets.append(self._offset)
        self._offset += len(data)
        self._data.write(data)
        self._count += 1
        if len(self._offsets) >= 65536:
            self._index.write(self._offsets.tobytes())
            self._offsets = array("q")

    def finish(self) -> None:
        if self._list is None:
            assert self._data is not None and self._index is not None
            self._offsets.append(self._offset)
            self._index.write(self._offsets.tobytes())
            self._offsets = array("q")
            self._data.flush()
            self._index.flush()

    def close(self) -> None:
        for handle in (self._data, self._index):
            if handle is not None:
                handle.close()
        self._data = self._index = None
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._list) if self._list is not None else self._count

    def __getitem__(self, index: Any) -> Any:
        if self._list is not None:
            return self._list[index]
        if not isinstance(index, int):
            raise TypeError("shared strings are read one at a time")
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        assert self._data is not None and self._index is not None
        start, end = array("q", os.pread(self._index.fileno(), 16, index * 8))
        text = os.pread(self._data.fileno(), end - start, start).decode("utf-8")
        if len(self._cache) >= self.CACHE:
            self._cache.clear()
        self._cache[index] = text
        return text


def _load_workbook(handle: IO[bytes]) -> tuple[Any, SharedStrings | None]:
    """openpyxl's read-only workbook, with its shared strings read by `SharedStrings` (bounded memory)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    tables: list[SharedStrings] = []

    class BoundedReader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is None:
                return
            name = part.PartName[1:]
            with self.archive.open(name) as raw:
                table = SharedStrings.read(_BoundedStream(raw, name, _part_limit(name)))
            tables.append(table)
            self.shared_strings = table

    reader = BoundedReader(handle, read_only=True, data_only=True, keep_links=False)
    try:
        reader.read()
    except BaseException:
        for table in tables:
            table.close()
        reader.archive.close()
        raise
    return reader.wb, (tables[0] if tables else None)


def _reason(exc: BaseException) -> str:
    """What went wrong reading an XLSX, in Italian and without the library's text (openpyxl's messages name
    the server's path of the stored file: "could not read strings from /srv/.../files/ab/cd/...")."""
    if isinstance(exc, zipfile.BadZipFile):
        return "archivio ZIP danneggiato"
    if isinstance(exc, KeyError):
        return "manca una parte del foglio"
    if isinstance(exc, SyntaxError | ValueError):  # xml.etree ParseError is a SyntaxError
        return "contenuto XML non valido"
    return "struttura non riconosciuta"


def _cell_text(value: Any, field: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value).zfill(5) if field == "cap" else str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)).zfill(5) if field == "cap" else str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    return str(value).strip()


def open_xlsx(
    path: str | Path, spec: LayoutSpec
) -> tuple[Opened, Iterator[tuple[int, tuple[str, ...], list]]]:
    """The header check and a row iterator over the sheet (openpyxl read-only: streamed)."""
    check_xlsx(path)
    # A file object, not the path: stored files have no extension and openpyxl judges a path by it.
    handle = open(path, "rb")  # noqa: SIM115 - closed with the workbook (close_all)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook, strings = _load_workbook(handle)
        except FileRefused:
            handle.close()
            raise
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            handle.close()
            raise FileRefused(f"Il file XLSX non è leggibile ({_reason(exc)}).") from None

    def close_all() -> None:
        workbook.close()
        if strings is not None:
            strings.close()
        handle.close()

    sheet_name = spec.options.get("sheet")
    if sheet_name and sheet_name not in workbook.sheetnames:
        close_all()
        raise FileRefused(
            f"Il foglio «{sheet_name}» non esiste nel file (fogli: {', '.join(workbook.sheetnames)})."
        )
    if not workbook.worksheets:
        close_all()
        raise FileRefused("Il file XLSX non contiene fogli di lavoro.")
    sheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = sheet.iter_rows(values_only=True)
        try:
            header = next(rows, None)
        except Exception as exc:  # a broken sheet: see iterate()
            close_all()
            raise FileRefused(f"Il file XLSX non è leggibile ({_reason(exc)}).", 1) from None
    if header is None:
        close_all()
        raise FileRefused("Il foglio è vuoto: manca l'intestazione nella riga 1.", 1)
    by_name = {source.strip().lower(): field for field, source in spec.columns.items()}
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown = []
    for position, cell in enumerate(header):
        name = _cell_text(cell, None)
        if not name:
            continue
        field = by_name.get(name.lower())
        if field is None:
            unknown.append(name)
            continue
        if field in positions:
            close_all()
            raise FileRefused(f"Riga 1: la colonna «{name}» compare due volte nell'intestazione.", 1)
        positions[field] = position
        labels[field] = name
    if unknown and not spec.ignore_unknown_columns:
        close_all()
        raise FileRefused(
            "Riga 1: colonne sconosciute nell'intestazione: "
            + ", ".join(f"«{u}»" for u in unknown)
            + f" (tracciato «{spec.name}»).",
            1,
        )
    try:
        _require(spec, set(positions), "Riga 1: colonne obbligatorie assenti dall'intestazione: ")
    except FileRefused:
        close_all()
        raise
    fields = FIELDS[spec.flow]
    order = [(positions.get(f), f) for f in fields]

    def iterate() -> Iterator[tuple[int, tuple[str, ...], list]]:
        number = 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for number, row in enumerate(rows, start=2):  # noqa: B007 - `number` names the failing row
                    if number > XLSX_MAX_ROWS:
                        raise FileRefused(
                            f"Il foglio supera il numero massimo di righe di Excel ({XLSX_MAX_ROWS:,}): riga "
                            f"{number:,}.".replace(",", "."),
                            number,
                        )
                    values = tuple(
                        _cell_text(row[p], f) if p is not None and p < len(row) else "" for p, f in order
                    )
                    if any(values):
                        yield number, values, []
        except FileRefused:
            raise
        except Exception as exc:  # openpyxl, zipfile and the XML parser raise many kinds on a broken sheet
            raise FileRefused(
                f"Il file XLSX non è leggibile dopo la riga {number} ({_reason(exc)}).", number + 1
            ) from None
        finally:
            close_all()

    total = sheet.max_row - 1 if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None
    return Opened(None, labels, frozenset(positions), 0, 2, total), iterate()


# --- XML -------------------------------------------------------------------------------------------------


def check_xml_prolog(path: str | Path) -> None:
    """Refuse DTDs (entity expansion, external entities) and what is not XML, from the first bytes."""
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    kind = what_binary(head)
    if kind and kind.startswith("un testo UTF-32"):
        raise FileRefused(f"Il file XML è {kind}.", 1)
    if kind and not kind.startswith("un testo UTF-16"):
        raise FileRefused(f"Il file non è XML: il contenuto è {kind}.")
    text = head
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4].count(b"\x00") >= 1:
        try:
            text = head.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            text = head.replace(b"\x00", b"")
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise FileRefused(
            "Il file XML contiene una dichiarazione DOCTYPE o di entità: non è ammessa (rischio di "
            "entità esterne o espansione esponenziale). Inviare l'XML senza DTD."
        )
    stripped = text.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        raise FileRefused("Il file non è XML (non inizia con «<»).", 1)


def open_xml(
    path: str | Path, spec: LayoutSpec
) -> tuple[Opened, Iterator[tuple[int, tuple[str, ...], list]]]:
    """Rows of an XML file: each `row_tag` element, its children named as the layout says.

    Parsed with lxml iterparse: no DTD, no entity resolution, no network, no huge text nodes; memory stays
    flat
    (each row is cleared once read). The structure of schemas/lista_di_carico.xsd is checked row by row: an
    unknown, repeated or nested element rejects that row (naming it), not the whole file; a wrong root element
    or malformed XML refuses the file naming the line."""
    from lxml import etree

    check_xml_prolog(path)
    row_tag = spec.options.get("row_tag", "posizione")
    root_tag = spec.options.get("root_tag")
    by_name = {source: field for field, source in spec.columns.items()}
    fields = FIELDS[spec.flow]
    labels = {field: f"<{source}>" for field, source in spec.columns.items()}

    def iterate() -> Iterator[tuple[int, tuple[str, ...], list]]:
        context = etree.iterparse(
            str(path),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        depth = 0
        root_checked = False
        try:
            for event, element in context:
                if event == "start":
                    depth += 1
                    if not root_checked:
                        root_checked = True
                        docinfo = element.getroottree().docinfo
                        if docinfo.doctype or docinfo.internalDTD is not None:
                            raise FileRefused(
                                "Il file XML contiene una dichiarazione DOCTYPE: non è ammessa."
                            )
                        if root_tag and element.tag != root_tag:
                            raise FileRefused(
                                f"Elemento radice «{element.tag}»: atteso «{root_tag}».", element.sourceline
                            )
                    continue
                depth -= 1
                if depth != 1:
                    continue
                line = element.sourceline or 0
                if element.tag != row_tag:
                    yield (
                        line,
                        (),
                        [(line, f"<{element.tag}>", f"elemento sconosciuto: atteso <{row_tag}>", None)],
                    )
                else:
                    yield line, *_xml_row(element, line, by_name, fields, labels, spec.ignore_unknown_columns)
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or (exc.position[0] if exc.position else None)
            raise FileRefused(f"XML non valido alla riga {line}: {exc.msg}", line) from None

    mapped = frozenset(f for f in spec.columns if f in fields)
    return Opened(None, labels, mapped, 0, 1), iterate()


def _xml_row(
    element: Any,
    line: int,
    by_name: dict[str, str],
    fields: tuple[str, ...],
    labels: dict[str, str],
    ignore_unknown: bool,
) -> tuple[tuple[str, ...], list]:
    values: dict[str, str] = {}
    problems: list = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        field = by_name.get(child.tag)
        where = child.sourceline or line
        if field is None:
            if not ignore_unknown:
                problems.append((where, f"<{child.tag}>", "elemento sconosciuto nella posizione", None))
            continue
        if field in values:
            problems.append((where, labels[field], "elemento ripetuto", None))
            continue
        if len(child):
            problems.append((where, labels[field], "l'elemento deve contenere solo testo", None))
            continue
        values[field] = (child.text or "").strip()
    if problems:
        return (), problems
    return tuple(values.get(f, "") for f in fields), []
