"""Large exports as jobs (issue 15 point 6): above EXPORT_JOB_THRESHOLD rows an export does not run in the
request; it becomes a batch job (app/jobs, kind "export", queue "reports") that writes the same file with
the same writers (app/reports/exports.py `write_export`) into the file store, with progress on the jobs page
and a download when ready. No row cap (PDF keeps its own).

Every list export with potentially many rows is a *source*: a module-level function
`source(session, principal, params)` returning `(spec, rows, count)` where `rows` is a lazy iterable of rows
(tuples in column order from `export_rows.stream_rows`, or mappings) and `count` a callable giving how many
rows the export has. `params` is JSON (ids, codes, ISO dates: a filters dataclass's `as_args()`), and the
source re-checks the user's scope with `principal` (a job runs outside the request). The route calls
`app.reports.routes.export_list(source, fmt, params)`, which exports in the request or queues the job: one
registration per source, no copy per route. The job stores the source's dotted path, the parameters, the
user's scope and the generation time, so the file is the one the direct export gives for the same request
(same bytes). `from_statement` makes the source of an export that is one SELECT.
"""

from __future__ import annotations

import datetime as dt
import importlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.core.db import count_rows
from app.reports.export_rows import stream_rows
from app.reports.exports import FORMATS, ExportSpec, export_filename, write_export

QUEUE = "reports"
KIND = "export"
TASK = "app.reports.tasks.run_export_job"
JOB_FORMATS = tuple(f for f in FORMATS if f != "pdf")  # a PDF keeps its row cap and runs in the request

Source = Callable[[Session, Principal, dict[str, Any]], tuple[ExportSpec, Iterable[Any], Callable[[], int]]]


def from_statement(
    session: Session, spec: ExportSpec, stmt: Any
) -> tuple[ExportSpec, Iterator[tuple[Any, ...]], Callable[[], int]]:
    """The `(spec, rows, count)` of an export that is one SELECT whose labels are the spec's keys: rows
    streamed as tuples (read only when iterated), count by `count_rows`."""
    return spec, stream_rows(session, stmt, spec.keys), lambda: count_rows(session, stmt)


def source_path(source: Source) -> str:
    return f"{source.__module__}.{source.__qualname__}"


def load_source(path: str) -> Source:
    module, _, name = path.rpartition(".")
    if not module.startswith("app."):
        raise ValueError(f"export source outside the app: {path}")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def principal_params(principal: Principal) -> dict[str, Any]:
    return {
        "role": principal.role,
        "ente_ids": sorted(principal.ente_ids),
        "taxpayer_id": principal.taxpayer_id,
        "user_id": principal.user_id,
    }


def principal_from(params: dict[str, Any]) -> Principal:
    return Principal(
        role=params["role"],
        ente_ids=frozenset(params["ente_ids"]),
        taxpayer_id=params.get("taxpayer_id"),
        user_id=params.get("user_id"),
    )


def runs_as_job(fmt: str, count: int, threshold: int) -> bool:
    return fmt in JOB_FORMATS and count > threshold


def start_export_job(
    session: Session,
    principal: Principal,
    actor: Actor,
    source: Source,
    fmt: str,
    params: dict[str, Any],
    *,
    title: str,
    rows_total: int,
    generated_at: dt.datetime,
) -> Any:
    """Queue the export as a batch job (pushed to RQ once the caller commits)."""
    from app.jobs.services import create_job

    ente_id = params.get("ente_id") or (min(principal.ente_ids) if principal.ente_ids else None)
    job = create_job(
        session,
        kind=KIND,
        task=TASK,
        actor=actor,
        ente_id=ente_id,
        file_name=f"{title} ({fmt.upper()})"[:255],
        params={
            "source": source_path(source),
            "fmt": fmt,
            "params": params,
            "principal": principal_params(principal),
            "generated_at": generated_at.isoformat(),
        },
        queue_name=QUEUE,
    )
    job.rows_total = rows_total
    return job


def counted(rows: Iterable[Any], report: Callable[[int], None], every: int = 1000) -> Iterator[Any]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % every == 0:
            report(done)
    report(done)


def write_job_file(
    session: Session, job_params: dict[str, Any], file_store: str, report: Callable[[int], None]
) -> tuple[Any, str, int]:
    """Write the export of a job into the file store: (stored file, download name, rows written)."""
    from app.jobs.files import store_path

    source = load_source(job_params["source"])
    principal = principal_from(job_params["principal"])
    spec, rows, _count = source(session, principal, dict(job_params["params"]))
    generated_at = dt.datetime.fromisoformat(job_params["generated_at"])
    fmt = job_params["fmt"]
    written = [0]

    def progress(done: int) -> None:
        written[0] = done
        report(done)

    with tempfile.NamedTemporaryFile(suffix=f".{fmt}") as out:
        for chunk in write_export(counted(rows, progress), spec, fmt, generated_at=generated_at):
            out.write(chunk)
        out.flush()
        stored = store_path(file_store, out.name)
    return stored, export_filename(spec, fmt, generated_at), written[0]
