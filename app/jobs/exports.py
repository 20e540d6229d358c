"""The jobs list's and a job's rejected rows' exports as sources of the one export mechanism
(app/reports/export_jobs.py): the same function serves the download in the request and the job of a large
export (the rejected rows of a big lista di carico can be hundreds of thousands)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.db import count_rows
from app.core.errors import NotFound
from app.jobs import queries
from app.jobs.models import ERROR_KINDS, BatchJob, BatchJobError
from app.reports.exports import Column, ExportSpec

Export = tuple[ExportSpec, Iterable[Any], Callable[[], int]]

REPORT = ExportSpec(
    title="Righe scartate",
    filename_stem="righe_scartate",
    columns=[
        Column("line", "Riga", "int"),
        Column("column", "Colonna"),
        Column("reason", "Motivo", width=60),
        Column("value", "Valore"),
        Column("kind", "Esito"),
    ],
)
JOB_KIND_LABELS = {
    "carico": "Lista di carico",
    "anagrafica": "Variazioni anagrafiche",
    "variazioni": "Sgravi e sospensioni",
    "pagamenti": "Flusso di pagamenti",
    "fdr": "Scarico FdR da pagoPA",
    "export": "Esportazione",
}


JOBS_SPEC = ExportSpec(
    title="Elaborazioni",
    filename_stem="elaborazioni",
    columns=[
        Column("id", "N.", "int", grouping=False),
        Column("kind", "Tipo"),
        Column("file_name", "File", width=40),
        Column("ente", "Ente"),
        Column("actor_label", "Richiesta da"),
        Column("created_dt", "Richiesta il", "datetime"),
        Column("status", "Stato"),
        Column("rows_done", "Righe elaborate", "int"),
        Column("rows_total", "Righe totali", "int"),
        Column("finished_dt", "Terminata il", "datetime"),
        Column("error_message", "Errore", width=50),
    ],
)


def jobs(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    """Every job the user may see, newest first."""

    def rows() -> Iterator[dict[str, Any]]:
        for j in queries.list_jobs(session, principal, limit=None):
            yield {
                "id": j.id,
                "kind": JOB_KIND_LABELS.get(j.kind, j.kind),
                "file_name": j.file_name or "",
                "ente": j.ente.code if j.ente else "",
                "actor_label": j.actor_label,
                "created_dt": j.created_dt,
                "status": j.status_label,
                "rows_done": j.rows_done,
                "rows_total": j.rows_total,
                "finished_dt": j.finished_dt,
                "error_message": j.error_message or "",
            }

    return JOBS_SPEC, rows(), lambda: count_rows(session, scoped(sa.select(BatchJob.id), BatchJob, principal))


def rejected_rows(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    """The rejected rows of a job (`job_id`) the user may see, in line order."""
    job = queries.get_job(session, principal, params["job_id"])
    if job is None:
        raise NotFound("Elaborazione non trovata.")
    spec = ExportSpec(
        title=f"Righe scartate – elaborazione {job.id} ({job.file_name or ''})",
        filename_stem=f"scarti_elaborazione_{job.id}",
        columns=REPORT.columns,
    )

    def rows() -> Iterator[dict[str, Any]]:
        for row in queries.error_rows(session, job.id):
            yield {**row, "kind": ERROR_KINDS.get(row["kind"], row["kind"])}

    count = sa.select(BatchJobError.id).where(BatchJobError.batch_job_id == job.id)
    return spec, rows(), lambda: count_rows(session, count)
