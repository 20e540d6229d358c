"""Import use cases: pick the target (ente, entrata, layout), create the job, preview a file, run the two
phases
of an import. Routes, the API, the CLI and the RQ task all go through here. Never commit here."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.carichi import loading, pipeline, variations
from app.carichi.layouts import DEFAULT_LAYOUTS, LayoutSpec, ensure_default_layouts
from app.carichi.loading import LoadRequest, LoadResult, Refused
from app.carichi.models import Carico, ImportLayout
from app.carichi.pipeline import ErrorSpool, Prepared
from app.carichi.validation import FIELDS, RowContext
from app.core.audit import Actor
from app.core.errors import Conflict, DomainError
from app.enti.models import Ente, Entrata
from app.jobs import services as job_services
from app.jobs.files import StoredFile
from app.jobs.models import BatchJob

TASK = "app.carichi.tasks.run_import"
YEARS_BACK = 40  # anno_riferimento is plausible from (this year - 40) to this year
JOB_KINDS = {
    "carico": "Lista di carico",
    "anagrafica": "Variazioni anagrafiche",
    "variazioni": "Sgravi e sospensioni",
}
STATUS_LABELS = {
    "caricato": "Caricato",
    "applicato": "Applicato",
    "rifiutato": "Rifiutato",
    "duplicato": "File già caricato",
    "errore": "Errore interno",
}


@dataclass(frozen=True, slots=True)
class Target:
    ente: Ente
    entrata: Entrata | None
    layout: ImportLayout

    @property
    def spec(self) -> LayoutSpec:
        return LayoutSpec.of(self.layout)

    @property
    def entrata_code(self) -> str | None:
        if self.entrata is not None:
            return self.entrata.code
        return self.layout.default_entrata


def get_layout(
    session: Session, name: str | None = None, layout_id: int | None = None
) -> ImportLayout | None:
    """A layout by id or name (default: the canonical CSV); default layouts are created when missing."""
    name = name or (None if layout_id else "canonico")
    stmt = sa.select(ImportLayout).where(
        ImportLayout.id == layout_id if layout_id else ImportLayout.name == name
    )
    layout = session.scalars(stmt).first()
    if layout is None and name in {d["name"] for d in DEFAULT_LAYOUTS}:
        ensure_default_layouts(session)
        layout = session.scalars(stmt).first()
    return layout


def resolve_target(
    session: Session,
    *,
    ente_code: str | None = None,
    ente_id: int | None = None,
    entrata_code: str | None = None,
    entrata_id: int | None = None,
    layout_name: str | None = None,
    layout_id: int | None = None,
) -> Target:
    """The ente, entrata and layout of an import, or DomainError saying (in Italian) what is wrong."""
    ente = (
        session.get(Ente, ente_id)
        if ente_id
        else session.scalars(sa.select(Ente).where(Ente.code == (ente_code or "").upper())).first()
    )
    if ente is None:
        raise DomainError(f"Ente sconosciuto: {ente_code or ente_id}.", field="ente")
    layout = get_layout(session, layout_name, layout_id)
    if layout is None or not layout.active:
        raise DomainError(f"Tracciato sconosciuto o disattivato: {layout_name or layout_id}.", field="layout")
    entrata = None
    if entrata_id or entrata_code:
        entrata = (
            session.get(Entrata, entrata_id)
            if entrata_id
            else session.scalars(
                sa.select(Entrata).where(
                    Entrata.ente_id == ente.id, Entrata.code == (entrata_code or "").upper()
                )
            ).first()
        )
        if entrata is None or entrata.ente_id != ente.id:
            raise DomainError(
                f"Entrata {entrata_code or entrata_id} non prevista per l'ente {ente.code}.", field="entrata"
            )
    if layout.flow == "carico" and entrata is None:
        if not layout.default_entrata:
            raise DomainError("Indicare l'entrata della lista di carico.", field="entrata")
        entrata = session.scalars(
            sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == layout.default_entrata)
        ).first()
        if entrata is None:
            raise DomainError(
                f"L'entrata predefinita del tracciato ({layout.default_entrata}) non esiste per "
                f"l'ente {ente.code}.",
                field="entrata",
            )
    return Target(ente, entrata, layout)


def find_duplicate(session: Session, target: Target, sha256: str) -> str | None:
    """Why this file (by SHA-256) cannot be imported again, or None."""
    if target.layout.flow == "carico":
        carico = session.scalars(sa.select(Carico).where(Carico.file_sha256 == sha256)).first()
        if carico is not None:
            return (
                f"File già caricato: è la lista di carico {carico.id} del {carico.created_dt:%d/%m/%Y} "
                f"({carico.file_name or carico.reference}). Lo stesso file non si carica due volte."
            )
        return None
    done = session.scalars(
        sa.select(BatchJob).where(
            BatchJob.file_sha256 == sha256,
            BatchJob.kind == target.layout.flow,
            BatchJob.ente_id == target.ente.id,
            BatchJob.status == "done",
        )
    ).first()
    if done is not None:
        return f"File già elaborato: è l'elaborazione {done.id} del {done.created_dt:%d/%m/%Y}."
    return None


def create_import_job(
    session: Session,
    actor: Actor,
    target: Target,
    stored: StoredFile,
    file_name: str,
    *,
    enqueue: bool = True,
) -> BatchJob:
    """A queued import job for a stored file; refused at once (Conflict) for a file already imported."""
    duplicate = find_duplicate(session, target, stored.sha256)
    if duplicate:
        raise Conflict(duplicate, file_sha256=stored.sha256)
    params = {
        "ente": target.ente.code,
        "entrata": target.entrata.code if target.entrata else None,
        "layout": target.layout.name,
        "layout_id": target.layout.id,
        "flow": target.layout.flow,
    }
    return job_services.create_job(
        session,
        kind=target.layout.flow,
        task=TASK,
        actor=actor,
        ente_id=target.ente.id,
        file_name=Path(file_name or "file").name[:255],
        file_path=stored.relative_path,
        file_sha256=stored.sha256,
        file_size=stored.size,
        params=params,
        enqueue=enqueue,
    )


def target_of_job(session: Session, job: BatchJob) -> Target:
    params = job.params or {}
    return resolve_target(
        session,
        ente_id=job.ente_id,
        entrata_code=params.get("entrata"),
        layout_id=params.get("layout_id"),
        layout_name=params.get("layout"),
    )


def row_context(session: Session, target: Target, today: dt.date) -> RowContext:
    spec = target.spec
    entrate = {
        code: entrata_id
        for code, entrata_id in session.execute(
            sa.select(Entrata.code, Entrata.id).where(Entrata.ente_id == target.ente.id)
        )
    }
    labels = dict(spec.columns) if spec.format != "fixed" else {f.field: f.label for f in spec.fixed}
    return RowContext(
        flow=spec.flow,
        formats=spec.formats,
        labels=labels,
        entrate=entrate,
        entrata_code=target.entrata_code,
        ente_code=target.ente.code,
        year_min=today.year - YEARS_BACK,
        year_max=today.year,
        today=today.isoformat(),
        mapped=spec.mapped_fields,
    )


def preview_file(
    session: Session, target: Target, path: str | Path, today: dt.date, *, limit: int = 10
) -> dict[str, Any]:
    """The first rows as parsed with their errors, for the upload page (FileRefused for a refused file)."""
    ctx = row_context(session, target, today)
    rows, labels, _ = pipeline.preview(path, target.spec, ctx, limit=limit)
    fields = [f for f in FIELDS[target.layout.flow] if f in ctx.mapped or f in target.spec.mapped_fields]
    return {"rows": rows, "labels": labels, "fields": fields}


PREVIEW_TASK = "app.carichi.tasks.run_preview"
PREVIEW_QUEUE = (
    "default"  # taken before "imports" by a worker on every queue: a preview never waits an import
)
PREVIEW_TTL = 3600  # seconds the outcome stays in Redis (as long as the upload's confirmation token)


def queue_preview(target: Target, stored: StoredFile, today: dt.date) -> str:
    """Queue the preview of an uploaded file on the worker (reading a hostile file never costs the web
    process memory or time): the RQ job id, for `preview_outcome`. Nothing is written to the database."""
    from uuid import uuid4

    from app.core.jobs import queue

    job_id = f"anteprima-{uuid4().hex}"
    queue(PREVIEW_QUEUE).enqueue(
        PREVIEW_TASK,
        target.ente.id,
        target.entrata.id if target.entrata else None,
        target.layout.id,
        stored.relative_path,
        today.isoformat(),
        job_id=job_id,
        job_timeout=600,
        result_ttl=PREVIEW_TTL,
        failure_ttl=PREVIEW_TTL,
    )
    return job_id


def preview_outcome(job_id: str) -> tuple[str, dict[str, Any] | None]:
    """("pending" | "done" | "failed" | "missing", the task's result when done)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    from app.core.jobs import connection

    try:
        job = Job.fetch(job_id, connection=connection())
    except NoSuchJobError:
        return "missing", None
    status = job.get_status(refresh=False)
    if status == JobStatus.FINISHED:
        return "done", job.return_value()
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        return "failed", None
    return "pending", None


def preview_result(session: Session, target: Target, path: Path, today: dt.date) -> dict[str, Any]:
    """What the preview job returns: {"preview": rows, labels, fields} or {"refused": the Italian reason}."""
    from app.carichi.reading import FileRefused

    try:
        preview = preview_file(session, target, path, today)
    except FileRefused as exc:
        return {"refused": exc.message}
    except FileNotFoundError:
        return {"refused": "Il file caricato non è più disponibile: caricarlo di nuovo."}
    rows = [
        {"line": r.line, "values": r.values, "errors": [list(e) for e in r.errors]} for r in preview["rows"]
    ]
    return {"preview": {**preview, "rows": rows, "fields": list(preview["fields"])}}
def preview_sample(
    session: Session, layout: ImportLayout, ente_id: int, stream: BinaryIO, today: dt.date, *, limit: int = 10
) -> dict[str, Any]:
    """The layout editor's preview: the first rows of a sample file as `layout` (a draft, maybe unsaved)
    reads them for the ente. The sample is kept only while it is read."""
    ente = session.get(Ente, ente_id)
    if ente is None:
        raise DomainError("Ente sconosciuto.", field="ente")
    suffix = {"xlsx": ".xlsx", "xml": ".xml"}.get(layout.format, ".txt")
    with tempfile.NamedTemporaryFile(suffix=suffix) as sample:
        shutil.copyfileobj(stream, sample)
        sample.flush()
        return preview_file(session, Target(ente, None, layout), sample.name, today, limit=limit)


def prepare_import(
    job_id: int,
    expected_sha256: str | None,
    spec: LayoutSpec,
    ctx: RowContext,
    path: Path,
    *,
    progress: pipeline.Progress | None,
    workers: int,
    parallel_min_bytes: int,
) -> Prepared:
    """Phase 1 (FileRefused when the file itself is refused). Needs no database: the caller ends its
    transaction first, so that nothing is held open while the file is read."""
    return pipeline.prepare(
        path,
        spec,
        ctx,
        job_id=job_id,
        expected_sha256=expected_sha256,
        progress=progress,
        workers=workers,
        parallel_min_bytes=parallel_min_bytes,
    )


@dataclass(frozen=True, slots=True)
class Loaded:
    result: LoadResult
    carico_id: int | None


def load_import(
    session: Session,
    job: BatchJob,
    target: Target,
    prepared: Prepared,
    late_errors: ErrorSpool,
    actor: Actor,
    today: dt.date,
    phase: loading.Phase,
) -> Loaded:
    """Phase 2, in the session's transaction. Refused when the file is refused (the caller rolls back)."""
    spec = target.spec
    loading.check_error_rate(prepared.rejected, prepared.rows, spec.max_error_rate)
    duplicate = find_duplicate(session, target, job.file_sha256 or "")
    if duplicate:
        raise Refused(duplicate, status="duplicato")
    if spec.flow != "carico":
        request = variations.VariationRequest(
            ente_id=target.ente.id,
            source=f"variazioni n. {job.id}",
            actor=actor,
            max_error_rate=spec.max_error_rate,
            labels=row_context(session, target, today).labels,
        )
        apply = variations.apply_anagrafica if spec.flow == "anagrafica" else variations.apply_variazioni
        phase("Applicazione delle variazioni")
        return Loaded(apply(session, prepared, request, late_errors), None)
    assert target.entrata is not None
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # One lista di carico loads at a time (validation still runs in parallel): no two loads race on the
        # same new taxpayers or positions.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7262021)"))
        duplicate = find_duplicate(session, target, job.file_sha256 or "")
        if duplicate:
            raise Refused(duplicate, status="duplicato")
    carico = Carico(
        ente_id=target.ente.id,
        entrata_id=target.entrata.id,
        reference=(job.file_name or "")[:120],
        received_date=today,
        file_name=job.file_name,
        file_sha256=job.file_sha256,
        status="caricato",
        rows_accepted=0,
        rows_rejected=0,
        rows_duplicate=0,
        total_cents=0,
        layout_id=target.layout.id,
        created_by_id=actor.user_id,
    )
    session.add(carico)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Refused(
            "File già caricato (un'altra elaborazione lo ha appena caricato).", status="duplicato"
        ) from None
    request = LoadRequest(
        carico_id=carico.id,
        ente_id=target.ente.id,
        entrata_name=target.entrata.name,
        source=carico.source_label,
        value_date=today,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        max_error_rate=spec.max_error_rate,
    )
    result = loading.load(session.connection(), prepared, request, late_errors, phase)
    carico.rows_accepted = result.accepted
    carico.rows_rejected = result.rejected
    carico.rows_duplicate = result.duplicates
    carico.total_cents = result.total_cents
    session.flush()
    # Every payable position gets its pagoPA notice number in the same transaction (formats.md §3).
    from app.payments.notices import assign_notice_numbers_for_carico

    assign_notice_numbers_for_carico(session, carico.id, issued_on=today)
    return Loaded(result, carico.id)


def summary(
    *, carico_id: int | None, accepted: int, rejected: int, duplicates: int, status: str, **extra: Any
) -> dict[str, Any]:
    """The job's result: formats.md §5's JSON summary first, then details for the jobs page."""
    return {
        "carico": carico_id,
        "accepted": accepted,
        "rejected": rejected,
        "duplicates": duplicates,
        "status": status,
        **extra,
    }


def cli_summary(job: BatchJob) -> dict[str, Any]:
    """Exactly the keys of formats.md §5."""
    result = job.result or {}
    return {
        "carico": result.get("carico"),
        "accepted": result.get("accepted", 0),
        "rejected": result.get("rejected", 0),
        "duplicates": result.get("duplicates", 0),
        "status": result.get("status", "errore"),
    }


def actor_of_job(job: BatchJob) -> Actor:
    return Actor(user_id=job.created_by_id, label=job.actor_label, api_token_id=job.api_token_id)
