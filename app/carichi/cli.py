"""`esattoria carichi ...` (formats.md §5): import a file synchronously through the same service and job
function the RQ worker uses; run a job again after a crash; list the layouts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db


def _echo_summary(summary: dict[str, Any], message: str | None = None) -> None:
    click.echo(json.dumps(summary, ensure_ascii=False))
    if message:
        click.echo(message, err=True)


def _refused(message: str, status: str = "rifiutato") -> None:
    _echo_summary({"carico": None, "accepted": 0, "rejected": 0, "duplicates": 0, "status": status}, message)
    sys.exit(1)


def _finish(job_id: int) -> None:
    from app.carichi import services
    from app.jobs.models import BatchJob

    db.session.expire_all()
    job = db.session.get(BatchJob, job_id)
    summary = services.cli_summary(job)
    _echo_summary(summary, job.error_message)
    sys.exit(0 if job.status == "done" else 1)


@click.group("carichi", help="Liste di carico e flussi di variazione dalla Regione.")
def carichi() -> None:
    pass


@carichi.command(
    "import",
    help="Importa un file (lista di carico o variazioni) e stampa il riepilogo JSON. "
    "Esce con 0 se il file è stato accettato (anche con righe scartate), 1 se rifiutato.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ente", "ente_code", required=True, help="Codice dell'ente (es. R01)")
@click.option("--entrata", "entrata_code", help="Codice dell'entrata (obbligatorio per le liste di carico)")
@click.option("--layout", "layout_name", default=None, help="Nome del tracciato (predefinito: canonico)")
@with_appcontext
def import_file(file: Path, ente_code: str, entrata_code: str | None, layout_name: str | None) -> None:
    from app.carichi import services
    from app.carichi.layouts import ensure_default_layouts
    from app.carichi.tasks import run_import
    from app.core.audit import Actor
    from app.core.errors import Conflict, DomainError
    from app.jobs.files import store_path

    ensure_default_layouts(db.session)
    db.session.commit()
    try:
        target = services.resolve_target(
            db.session, ente_code=ente_code, entrata_code=entrata_code, layout_name=layout_name
        )
    except DomainError as exc:
        _refused(exc.message)
    stored = store_path(current_app.config["FILE_STORE"], file)
    try:
        job = services.create_import_job(
            db.session, Actor.system("riga di comando"), target, stored, file.name, enqueue=False
        )
    except Conflict as exc:
        db.session.rollback()
        _refused(exc.message, status="duplicato")
    db.session.commit()
    run_import(job.id)
    _finish(job.id)


@carichi.command(
    "resume", help="Esegue di nuovo un'elaborazione interrotta o non riuscita (stesso riepilogo JSON)."
)
@click.argument("job_id", type=int)
@with_appcontext
def resume(job_id: int) -> None:
    from app.carichi.tasks import run_import
    from app.jobs.models import BatchJob

    if db.session.get(BatchJob, job_id) is None:
        _refused(f"Elaborazione {job_id} inesistente.")
    run_import(job_id)
    _finish(job_id)


@carichi.command("layouts", help="Elenca i tracciati (crea quelli predefiniti mancanti).")
@with_appcontext
def layouts() -> None:
    from app.carichi.layouts import ensure_default_layouts
    from app.carichi.queries import list_layouts

    ensure_default_layouts(db.session)
    db.session.commit()
    for layout in list_layouts(db.session):
        click.echo(
            json.dumps(
                {
                    "name": layout.name,
                    "flow": layout.flow,
                    "format": layout.format,
                    "active": layout.active,
                    "description": layout.description,
                },
                ensure_ascii=False,
            )
        )
