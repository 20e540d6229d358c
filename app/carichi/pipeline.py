"""Phase 1 of an import: read the stored file, validate every row (on all cores for big files) and spool the
result to two temporary files: the stage rows (PostgreSQL COPY text) and the rejected rows. Nothing is
written to the database here except progress; loading is phase 2 (`loading`, `variations`)."""

from __future__ import annotations

import dataclasses
import multiprocessing
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from app.carichi import reading
from app.carichi.layouts import LayoutSpec
from app.carichi.reading import FileFacts, FileRefused
from app.carichi.validation import (
    VALIDATORS,
    ChunkResult,
    RowContext,
    _csv_rows,
    _fixed_rows,
    init_worker,
    process_chunk,
)

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # smaller files (~170,000 rows) are validated in the calling process


class ErrorSpool:
    """Rejected (or duplicate) rows of a job, spooled to a temporary file in the COPY text format of
    `batch_job_errors` as they are found, so that memory stays flat whatever the number of errors."""

    COLUMNS = ("batch_job_id", "line", "column", "reason", "value", "kind")

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.count = 0

    def add(
        self, line: int | None, column: str | None, reason: str, value: str | None, kind: str = "rejected"
    ) -> None:
        self.extend([(line, column, reason, value)], kind)

    def extend(self, errors: Iterable[tuple], kind: str = "rejected") -> None:
        out = []
        for line, column, reason, value in errors:
            out.append(
                "\t".join(
                    (
                        str(self.job_id),
                        "" if line is None else str(line),
                        _clean(column, 80),
                        _clean(reason, 500),
                        _clean(value, 200),
                        kind,
                    )
                )
                + "\n"
            )
            self.count += 1
        if out:
            self.file.seek(0, 2)
            self.file.write("".join(out).encode("utf-8"))

    def copy_blocks(self) -> Iterator[bytes]:
        self.file.seek(0)
        yield from iter(lambda: self.file.read(1 << 20), b"")

    def rows(self) -> Iterator[dict[str, Any]]:
        self.file.seek(0)
        for raw in self.file:
            job, line, column, reason, value, kind = raw.decode("utf-8").rstrip("\n").split("\t")
            yield {
                "batch_job_id": int(job),
                "line": int(line) if line else None,
                "column": _unescape(column) or None,
                "reason": _unescape(reason),
                "value": _unescape(value) or None,
                "kind": kind,
            }

    def close(self) -> None:
        self.file.close()


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": " ", "\n": " ", "\r": " "})


def _clean(value: Any, size: int) -> str:
    if value is None:
        return ""
    return str(value)[:size].translate(_ESCAPE)


def _unescape(value: str) -> str:
    return value.replace("\\\\", "\\")


@dataclass
class Prepared:
    """The outcome of phase 1."""

    stage: IO[bytes]  # stage rows, COPY text format (NULL '')
    errors: ErrorSpool
    facts: FileFacts
    rows: int = 0  # data rows seen
    valid: int = 0
    rejected: int = 0  # rows with at least one error

    def stage_blocks(self) -> Iterator[bytes]:
        self.stage.seek(0)
        yield from iter(lambda: self.stage.read(1 << 20), b"")

    def close(self) -> None:
        self.stage.close()
        self.errors.close()


Progress = Callable[[int, int | None], None]


def prepare(
    path: str | Path,
    spec: LayoutSpec,
    ctx: RowContext,
    *,
    job_id: int,
    expected_sha256: str | None,
    progress: Progress | None = None,
    workers: int = 1,
    parallel_min_bytes: int = PARALLEL_MIN_BYTES,
) -> Prepared:
    """Check and validate the whole file. FileRefused when the file itself is unacceptable."""
    path = Path(path)
    size = path.stat().st_size
    chunks, facts, ctx, total = _open(path, spec, ctx)
    if expected_sha256 and facts.sha256 != expected_sha256:
        raise FileRefused(
            "Il file archiviato non corrisponde alla sua impronta SHA-256: è stato alterato dopo il "
            "caricamento. Caricarlo di nuovo."
        )
    errors = ErrorSpool(job_id)
    prepared = Prepared(stage=tempfile.TemporaryFile(), errors=errors, facts=facts)  # noqa: SIM115 - see close()
    try:
        if progress:
            progress(0, total)
        parallel = workers > 1 and size >= parallel_min_bytes
        for result in _results(chunks, ctx, workers if parallel else 1):
            prepared.stage.write(result.data)
            if result.errors:
                errors.extend(result.errors)
                prepared.rejected += len({e[0] for e in result.errors})
            prepared.rows += result.rows
            prepared.valid += result.valid
            if progress:
                progress(prepared.rows, total)
    except BaseException:
        prepared.close()
        raise
    prepared.stage.flush()
    return prepared


def _open(
    path: Path, spec: LayoutSpec, ctx: RowContext
) -> tuple[Iterator[tuple], FileFacts, RowContext, int | None]:
    if spec.format in ("csv", "fixed"):
        facts = reading.scan_text(path, encoding=spec.encoding)
        opened = (
            reading.open_csv(path, facts, spec) if spec.format == "csv" else reading.open_fixed(facts, spec)
        )
        ctx = dataclasses.replace(ctx, labels={**ctx.labels, **opened.labels}, mapped=opened.mapped)
        source = opened.source
        chunks = (("text", data, first, source) for data, first in reading.text_chunks(path, opened))
        return chunks, facts, ctx, max(facts.lines - opened.first_line + 1, 0)
    row_tag = f"<{spec.options.get('row_tag', 'posizione')}>".encode() if spec.format == "xml" else None
    sha, tags = reading.sha256_of(path, count=row_tag)
    facts = FileFacts(sha256=sha, size=path.stat().st_size)
    opened, rows = reading.open_xlsx(path, spec) if spec.format == "xlsx" else reading.open_xml(path, spec)
    ctx = dataclasses.replace(ctx, labels={**ctx.labels, **opened.labels}, mapped=opened.mapped)
    return _row_chunks(rows), facts, ctx, (tags or None) if spec.format == "xml" else opened.rows_hint


def _row_chunks(
    rows: Iterator[tuple[int, tuple[str, ...], list]], size: int = reading.ROWS_PER_CHUNK
) -> Iterator[tuple]:
    batch: list = []
    problems: list = []
    for line, values, errors in rows:
        if errors:
            problems.extend(errors)
        else:
            batch.append((line, values))
        if len(batch) + len(problems) >= size:
            yield ("rows", batch, problems)
            batch, problems = [], []
    if batch or problems:
        yield ("rows", batch, problems)


def _results(chunks: Iterator[tuple], ctx: RowContext, workers: int) -> Iterator[ChunkResult]:
    if workers <= 1:
        for chunk in chunks:
            yield process_chunk(chunk, ctx)
        return
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(ctx,),
    )
    pending: deque[Future] = deque()
    try:
        for chunk in chunks:
            pending.append(executor.submit(process_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class PreviewRow:
    line: int
    values: dict[str, str]  # canonical field -> value as read
    errors: list  # (line, column, reason, value)


def preview(
    path: str | Path, spec: LayoutSpec, ctx: RowContext, *, limit: int = 10
) -> tuple[list[PreviewRow], dict[str, str], FileFacts]:
    """The first `limit` data rows as parsed, each with its validation errors (the upload page's preview).
    FileRefused when the file is unacceptable from its first megabyte."""
    from app.carichi.validation import FIELDS

    path = Path(path)
    fields = FIELDS[spec.flow]
    if spec.format in ("csv", "fixed"):
        facts = reading.scan_text(path, encoding=spec.encoding, limit=reading.BLOCK_BYTES)
        opened = (
            reading.open_csv(path, facts, spec) if spec.format == "csv" else reading.open_fixed(facts, spec)
        )
        ctx = dataclasses.replace(ctx, labels={**ctx.labels, **opened.labels}, mapped=opened.mapped)
        raw_errors: list = []
        data, first = next(reading.text_chunks(path, opened, limit_lines=limit * 2 + 5), (b"", 1))
        text = data.decode(opened.source.encoding)
        if opened.source.kind == "csv":
            rows = _csv_rows(text, first, opened.source, ctx, raw_errors)
        else:
            rows = _fixed_rows(text, first, opened.source, raw_errors)
        items: list[tuple[int, tuple[str, ...], list]] = [(line, values, []) for line, values in rows]
        items += [(e[0], (), [e]) for e in raw_errors]
        items.sort(key=lambda item: item[0])
    else:
        facts = FileFacts(sha256="", size=path.stat().st_size)
        opened, iterator = (
            reading.open_xlsx(path, spec) if spec.format == "xlsx" else reading.open_xml(path, spec)
        )
        ctx = dataclasses.replace(ctx, labels={**ctx.labels, **opened.labels}, mapped=opened.mapped)
        items = []
        for item in iterator:
            items.append(item)
            if len(items) >= limit:
                break
        close = getattr(iterator, "close", None)
        if close:
            close()
    validate = VALIDATORS[spec.flow]
    out = []
    for line, values, problems in items[:limit]:
        errors = list(problems)
        if values:
            validate(values, line, ctx, errors)
        out.append(PreviewRow(line, dict(zip(fields, values, strict=False)), errors))
    return out, ctx.labels, facts
