"""`esattoria analisi ...`: the dashboards' summary and the scheduled queries by hand (the registry of
periodic jobs runs them every day)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.core import periodic


@click.group(help="Analisi: riepilogo dei cruscotti e interrogazioni pianificate.")
def analisi() -> None:
    pass


@analisi.command(
    "aggiorna", help="Ricalcola il riepilogo delle posizioni dei cruscotti dal registro dei movimenti."
)
@click.option("--data", "day", default=None, help="Giorno da cui misurare l'anzianità (AAAA-MM-GG; oggi).")
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def aggiorna(day: str | None, pianifica: bool) -> None:
    from app.analytics.tasks import refresh_summary

    if pianifica:
        click.echo(periodic.registry_notice("app.analytics.tasks.refresh_summary"))
        return
    click.echo(json.dumps(refresh_summary(day)))


@analisi.command("pianificate", help="Esegue le interrogazioni pianificate in scadenza (e-mail o archivio).")
@click.option("--data", "day", default=None, help="Giorno di esecuzione (AAAA-MM-GG; oggi).")
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def pianificate(day: str | None, pianifica: bool) -> None:
    from app.analytics.tasks import run_scheduled_queries

    if pianifica:
        click.echo(periodic.registry_notice("app.analytics.tasks.run_scheduled_queries"))
        return
    click.echo(json.dumps(run_scheduled_queries(day), ensure_ascii=False))
