"""`esattoria procedure ...`: the daily job by hand, and the PRA lookup."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic


@click.group(help="Procedure cautelari ed esecutive (fermo, ipoteca, pignoramento, insinuazione).")
def procedure() -> None:
    pass


@procedure.command("cancella-fermi", help="Richiede la cancellazione dei fermi con debito pagato; JSON.")
@click.option("--data", "day", default=None, help="AAAA-MM-GG (predefinito: oggi)")
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def cancella_fermi(day: str | None, pianifica: bool) -> None:
    from app.procedures.tasks import request_fermo_cancellations

    if pianifica:
        click.echo(periodic.registry_notice("app.procedures.tasks.request_fermo_cancellations"))
        return
    if day:
        dt.date.fromisoformat(day)
    click.echo(json.dumps(request_fermo_cancellations(on=day)))


@procedure.command(
    "veicoli", help="Veicoli intestati a un codice fiscale secondo il PRA (PRA_API_URL); JSON."
)
@click.argument("codice_fiscale")
@with_appcontext
def veicoli(codice_fiscale: str) -> None:
    from app.registries.pra import PraClient, PraUnavailable

    try:
        lookup = PraClient.from_config(current_app.config).vehicles(codice_fiscale)
    except PraUnavailable as exc:
        click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
        sys.exit(2)
    click.echo(
        json.dumps(
            {
                "codice_fiscale": lookup.codice_fiscale,
                "source": lookup.source,
                "veicoli": [v.as_json() for v in lookup.vehicles],
            },
            ensure_ascii=False,
        )
    )
