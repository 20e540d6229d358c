"""The `esattoria` command (formats.md §5): a Flask CLI group. `flask --app wsgi` works too."""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import json
import sys

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.extensions import db


def _create_app() -> Flask:
    from app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Esattoria: riscossione coattiva delle entrate regionali."""


def register(app: Flask) -> None:
    from app.archive.cli import archivio
    from app.atti.cli import atti
    from app.carichi.cli import carichi
    from app.crm.messages.cli import messaggi
    from app.helpdesk.cli import assistenza
    from app.payments.cli import pagamenti
    from app.registries.cli import anagrafe

    for command in (
        demo,
        posizioni,
        worker,
        params,
        users,
        tokens,
        carichi,
        pagamenti,
        files,
        archivio,
        assistenza,
        atti,
        anagrafe,
    ):
        app.cli.add_command(command)
    app.cli.add_command(messaggi)
    from app.procedures.cli import procedure

    app.cli.add_command(procedure)
    from app.analytics.cli import analisi

    app.cli.add_command(analisi)
    from app.batch.cli import batch

    app.cli.add_command(batch)
    from app.plans.cli import rateazioni

    app.cli.add_command(rateazioni)
    from app.escalation.cli import escalation

    app.cli.add_command(escalation)
    from app.atti.delivery.cli import esiti, send_stato

    for sub in (esiti, send_stato):
        atti.add_command(sub)


@click.group(help="Dati dimostrativi.")
def demo() -> None:
    pass


@demo.command("seed", help="Crea enti, entrate, contribuenti, posizioni e utenti demo (idempotente).")
@click.option("--taxpayers", "n", default=2000, show_default=True, type=click.IntRange(3, 2_000_000))
@with_appcontext
def demo_seed(n: int) -> None:
    from app.demo.seed import DEMO_PASSWORD, USERS, seed_demo

    summary = seed_demo(db.session, taxpayers=n)
    db.session.commit()
    click.echo(
        json.dumps(
            {
                "taxpayers": summary.taxpayers,
                "positions": summary.positions,
                "movements": summary.movements,
                "users": summary.users,
            }
        )
    )
    if summary.users:
        click.echo(f"Utenti demo (password '{DEMO_PASSWORD}'): " + ", ".join(u[0] for u in USERS), err=True)


@click.command("posizioni", help="Posizioni di un contribuente in JSON.")
@click.option("--cf", "codice_fiscale", required=True, help="Codice fiscale o partita IVA")
@with_appcontext
def posizioni(codice_fiscale: str) -> None:
    from app.positions.amounts import today_rome
    from app.positions.services import positions_report
    from app.taxpayers.identifiers import InvalidIdentifier

    try:
        report = positions_report(db.session, codice_fiscale, as_of=today_rome())
    except InvalidIdentifier as exc:
        click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False), err=True)
        sys.exit(1)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


# Modules the jobs import lazily, imported by the worker before it forks. Only imports: nothing here may start
# a thread (a Typst compiler that has compiled once hangs in a forked child), so no compiler is built here.
WORKER_PRELOAD = (
    "app.atti.tasks",
    "app.atti.bulk",
    "app.dynamics.fixing",
    "app.archive.tasks",
    "app.jobs.files",
    "typst",
    "segno",
    "zxingcpp",
)


@click.command("worker", help="Avvia un worker RQ sulle code configurate.")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Esegue i lavori in coda ed esce.")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    from rq import Worker
    from sqlalchemy.orm import configure_mappers

    from app.core.jobs import connection

    configure_mappers()
    for module in WORKER_PRELOAD:  # imported once here, not again in every forked work-horse (~40 ms a job)
        importlib.import_module(module)
    db.engine.dispose()  # no pooled connection is shared with forked work-horses
    gc.collect()
    gc.freeze()  # the objects so far out of the collector's reach: its passes in a work-horse copy no page
    names = list(queues) or list(current_app.config["RQ_QUEUES"])
    if not burst and "periodic" in names:
        from app.batch.tasks import schedule_all

        try:  # the registry's schedules (idempotent: each next run's job id names its minute)
            schedule_all()
        except Exception:  # noqa: BLE001 - a job that cannot be scheduled must not stop the worker
            current_app.logger.exception("periodic jobs not scheduled")
    Worker(names, connection=connection()).work(burst=burst, with_scheduler=True)


@click.group(help="Archivio dei file caricati.")
def files() -> None:
    pass


@files.command(
    "purge",
    help="Elimina i file caricati che nessuna elaborazione usa (anteprime non confermate, caricamenti "
    "interrotti), più vecchi del numero di ore indicato.",
)
@click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(1, 24 * 365))
@click.option("--dry-run", is_flag=True, help="Elenca soltanto, senza eliminare.")
@with_appcontext
def files_purge(older_than_hours: int, dry_run: bool) -> None:
    from app.jobs.services import purge_files

    purge = purge_files(
        db.session,
        current_app.config["FILE_STORE"],
        older_than=dt.timedelta(hours=older_than_hours),
        now=dt.datetime.now(dt.UTC),
        dry_run=dry_run,
    )
    db.session.rollback()
    click.echo(json.dumps({"removed": len(purge.removed), "kept": purge.kept, "dry_run": dry_run}))


@click.group(help="Parametri normativi (tassi, soglie, termini).")
def params() -> None:
    pass


@params.command("load-defaults", help="Carica i valori nazionali di default mancanti (idempotente).")
@with_appcontext
def params_load() -> None:
    from app.enti.services import load_default_parameters

    added = load_default_parameters(db.session)
    db.session.commit()
    click.echo(json.dumps(added))


@click.group(help="Utenti.")
def users() -> None:
    pass


@users.command("create", help="Crea un utente.")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "backoffice", "sportello", "callcenter", "regione", "contribuente"]),
)
@click.option("--name", "display_name", required=True)
@click.option("--ente", "ente_codes", multiple=True, help="Codice ente (ripetibile)")
@click.password_option()
@with_appcontext
def users_create(
    username: str, role: str, display_name: str, ente_codes: tuple[str, ...], password: str
) -> None:
    from app.auth.models import User
    from app.auth.services import hash_password
    from app.enti.models import Ente

    enti = list(db.session.scalars(sa.select(Ente).where(Ente.code.in_(ente_codes))))
    if len(enti) != len(set(ente_codes)):
        raise click.BadParameter("ente sconosciuto", param_hint="--ente")
    user = User(
        username=username, role=role, display_name=display_name, password_hash=hash_password(password)
    )
    user.enti = enti
    db.session.add(user)
    db.session.commit()
    click.echo(f"Utente {username} creato.")


@click.group(help="Token per i sistemi della Regione (API).")
def tokens() -> None:
    pass


@tokens.command("issue", help="Emette un token (mostrato una sola volta).")
@click.option("--name", required=True)
@click.option("--ente", "ente_code", required=True)
@click.option("--scope", "scopes", multiple=True, required=True)
@with_appcontext
def tokens_issue(name: str, ente_code: str, scopes: tuple[str, ...]) -> None:
    from app.auth.services import issue_api_token
    from app.enti.queries import get_ente_by_code

    ente = get_ente_by_code(db.session, ente_code)
    if ente is None:
        raise click.BadParameter("ente sconosciuto", param_hint="--ente")
    token, clear = issue_api_token(
        db.session, name=name, ente_id=ente.id, scopes=list(scopes), created_by_id=None
    )
    db.session.commit()
    click.echo(json.dumps({"id": token.id, "token": clear}))


@tokens.command("revoke", help="Revoca un token.")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    from app.auth.models import ApiToken
    from app.auth.services import revoke_api_token

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.BadParameter("token sconosciuto")
    revoke_api_token(token)
    db.session.commit()
    click.echo(f"Token {token_id} revocato.")
