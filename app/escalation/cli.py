"""`esattoria escalation ...`: the daily and weekly jobs by hand, or scheduled on the periodic queue."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext


@click.group(help="Escalation: proposte, prescrizioni, radar alla Regione.")
def escalation() -> None:
    pass


@escalation.command("proposte", help="Calcola le proposte di escalation di ogni regola attiva.")
@click.option("--data", "day", default=None, help="Data del calcolo (AAAA-MM-GG; oggi se omessa).")
@click.option("--schedule", is_flag=True, help="Pianifica i lavori periodici dell'escalation.")
@with_appcontext
def proposte_command(day: str | None, schedule: bool) -> None:
    from app.escalation.tasks import daily_proposals, schedule_all

    if schedule:
        click.echo(json.dumps({"scheduled": schedule_all()}))
        return
    click.echo(json.dumps(daily_proposals(day, reschedule=False)))


@escalation.command("prescrizioni", help="Porta a «prescritta» le posizioni con la prescrizione maturata.")
@click.option("--data", "day", default=None, help="Data del controllo (AAAA-MM-GG; oggi se omessa).")
@with_appcontext
def prescrizioni_command(day: str | None) -> None:
    from app.escalation.tasks import daily_prescriptions

    click.echo(json.dumps(daily_prescriptions(day, reschedule=False)))


@escalation.command("radar", help="Invia alla Regione il radar della prescrizione (archivio ed e-mail).")
@click.option("--data", "day", default=None, help="Data del radar (AAAA-MM-GG; oggi se omessa).")
@with_appcontext
def radar_command(day: str | None) -> None:
    from app.escalation.tasks import weekly_radar_report

    click.echo(json.dumps(weekly_radar_report(day, reschedule=False), ensure_ascii=False))
