"""`esattoria batch`: the registry of periodic jobs, its schedules, a run now."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.core import periodic


@click.group(help="Lavori periodici: elenco, pianificazione, esecuzione.")
def batch() -> None:
    pass


@batch.command("elenco", help="Elenca i lavori periodici con la prossima esecuzione (JSON).")
@with_appcontext
def batch_list() -> None:
    from app.core.db import utcnow

    now = utcnow()
    out = [
        {
            "name": job.name,
            "description": job.description,
            "cron": job.cron.text if job.cron else None,
            "queue": job.queue,
            "max_minutes": int(job.max_duration.total_seconds() // 60),
            "next_run": (n.isoformat() if (n := job.next_run(now)) else None),
        }
        for job in periodic.registry().values()
    ]
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@batch.command("pianifica", help="Pianifica la prossima esecuzione di ogni lavoro (idempotente).")
@with_appcontext
def batch_schedule() -> None:
    from app.batch.tasks import schedule_all

    click.echo(json.dumps({"scheduled": schedule_all()}, ensure_ascii=False))


@batch.command("esegui", help="Esegue subito un lavoro periodico in questo processo e ne registra l'esito.")
@click.argument("name")
@with_appcontext
def batch_run(name: str) -> None:
    import sys

    from app.batch.services import request_run
    from app.batch.tasks import run_periodic
    from app.core.audit import Actor
    from app.extensions import db

    job = periodic.get(name)
    if job is None:
        click.echo(json.dumps({"error": f"lavoro sconosciuto: {name}"}), err=True)
        sys.exit(1)
    run = request_run(db.session, Actor.system("riga di comando"), job)
    db.session.commit()
    result = run_periodic(job.name, run.id)
    click.echo(json.dumps(result, ensure_ascii=False))
    sys.exit(0 if result and result["status"] == "ok" else 1)
