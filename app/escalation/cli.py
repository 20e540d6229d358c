"""`esattoria escalation ...`: the daily and weekly jobs by hand (the registry of periodic jobs runs them)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.core import periodic


@click.group(help="Escalation: proposte, prescrizioni, radar alla Regione.")
def escalation() -> None:
    pass


@escalation.command("proposte", help="Calcola le proposte di escalation di ogni regola attiva.")
@click.option("--data", "day", default=None, help="Data del calcolo (AAAA-MM-GG; oggi se omessa).")
@click.option("--pianifica", "--schedule", "pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def proposte_command(day: str | None, pianifica: bool) -> None:
    from app.escalation.tasks import PERIODIC_JOBS, daily_proposals

    if pianifica:
        click.echo(periodic.registry_notice(*(job[0] for job in PERIODIC_JOBS)))
        return
    click.echo(json.dumps(daily_proposals(day)))


@escalation.command("prescrizioni", help="Porta a «prescritta» le posizioni con la prescrizione maturata.")
@click.option("--data", "day", default=None, help="Data del controllo (AAAA-MM-GG; oggi se omessa).")
@with_appcontext
def prescrizioni_command(day: str | None) -> None:
    from app.escalation.tasks import daily_prescriptions

    click.echo(json.dumps(daily_prescriptions(day)))


@escalation.command("radar", help="Invia alla Regione il radar della prescrizione (archivio ed e-mail).")
@click.option("--data", "day", default=None, help="Data del radar (AAAA-MM-GG; oggi se omessa).")
@with_appcontext
def radar_command(day: str | None) -> None:
    from app.escalation.tasks import weekly_radar_report

    click.echo(json.dumps(weekly_radar_report(day), ensure_ascii=False))
