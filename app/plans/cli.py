"""`esattoria rateazioni ...`: the daily decadenza check by hand (the registry of periodic jobs runs it)."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic
from app.extensions import db


@click.group("rateazioni")
def rateazioni() -> None:
    """Piani rateali."""


@rateazioni.command("controllo-decadenza")
@click.option(
    "--data",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Giorno del controllo (default: oggi).",
)
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def controllo_decadenza(on: dt.datetime | None, pianifica: bool) -> None:
    """Controllo di decadenza dei piani attivi: solleciti e decadenze del giorno (JSON)."""
    from app.plans.decadenza import check_plans
    from app.plans.services import today
    from app.plans.tasks import CHECK_ACTOR

    if pianifica:
        click.echo(periodic.registry_notice("app.plans.tasks.daily_decadenza_check"))
        return
    run = check_plans(
        db.session, on.date() if on else today(), CHECK_ACTOR, file_store=current_app.config["FILE_STORE"]
    )
    db.session.commit()
    click.echo(json.dumps(run.as_json()))
