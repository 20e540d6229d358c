"""`esattoria assistenza ...`: the help desk's periodic work by hand (the registry of periodic jobs runs
it)."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic
from app.extensions import db


@click.group(help="Help desk: controllo degli SLA e casella di posta.")
def assistenza() -> None:
    pass


@assistenza.command("sla", help="Controlla preavvisi e violazioni degli SLA delle segnalazioni aperte.")
@click.option("--pianifica", "--schedule", "pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def sla_command(pianifica: bool) -> None:
    from app.helpdesk.tasks import check_sla

    if pianifica:
        click.echo(periodic.registry_notice("app.helpdesk.tasks.check_sla"))
        return
    click.echo(json.dumps(check_sla()))


@assistenza.command("posta", help="Legge la casella IMAP dell'help desk (HELPDESK_IMAP_*).")
@click.option("--pianifica", "--schedule", "pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def posta_command(pianifica: bool) -> None:
    from app.core.errors import DomainError
    from app.helpdesk import intake
    from app.helpdesk.tasks import poll

    if pianifica:
        click.echo(periodic.registry_notice("app.helpdesk.tasks.poll_helpdesk_mailbox"))
        return
    try:
        settings = intake.settings_from(current_app.config)
        outcomes = poll(db.session, settings, file_store=current_app.config["FILE_STORE"])
    except DomainError as exc:
        click.echo(json.dumps({"error": exc.message}, ensure_ascii=False), err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps([o.as_json() for o in outcomes], ensure_ascii=False))
