"""`esattoria assistenza ...`: the help desk's periodic work by hand, or scheduled on the periodic queue."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db


@click.group(help="Help desk: controllo degli SLA e casella di posta.")
def assistenza() -> None:
    pass


@assistenza.command("sla", help="Controlla preavvisi e violazioni degli SLA delle segnalazioni aperte.")
@click.option("--schedule", is_flag=True, help="Pianifica il controllo ogni 5 minuti sulla coda periodica.")
@with_appcontext
def sla_command(schedule: bool) -> None:
    from app.helpdesk.tasks import check_sla, schedule_check_sla

    if schedule:
        click.echo(json.dumps({"scheduled": schedule_check_sla()}))
        return
    click.echo(json.dumps(check_sla(reschedule=False)))


@assistenza.command("posta", help="Legge la casella IMAP dell'help desk (HELPDESK_IMAP_*).")
@click.option("--schedule", is_flag=True, help="Pianifica la lettura ogni 5 minuti sulla coda periodica.")
@with_appcontext
def posta_command(schedule: bool) -> None:
    from app.core.errors import DomainError
    from app.helpdesk import intake
    from app.helpdesk.tasks import poll, schedule_poll_mailbox

    if schedule:
        click.echo(json.dumps({"scheduled": schedule_poll_mailbox()}))
        return
    try:
        settings = intake.settings_from(current_app.config)
        outcomes = poll(db.session, settings, file_store=current_app.config["FILE_STORE"])
    except DomainError as exc:
        click.echo(json.dumps({"error": exc.message}, ensure_ascii=False), err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps([o.as_json() for o in outcomes], ensure_ascii=False))
