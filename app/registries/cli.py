"""`esattoria anagrafe ...`: a taxpayer's checks on ANPR and INAD by hand, the periodic refresh."""

from __future__ import annotations

import json
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic
from app.extensions import db


@click.group(help="Verifiche anagrafiche sui registri pubblici (ANPR, INAD) tramite PDND.")
def anagrafe() -> None:
    pass


@anagrafe.command(
    "verifica", help="Verifica un contribuente su ANPR (residenza, decesso) e INAD (domicilio digitale)."
)
@click.option("--cf", "codice_fiscale", required=True, help="Codice fiscale del contribuente.")
@click.option("--registro", type=click.Choice(["anpr", "inad"]), multiple=True, help="Solo questo registro.")
@click.option("--forza", is_flag=True, help="Interroga anche se l'ultima verifica è recente.")
@with_appcontext
def verifica_command(codice_fiscale: str, registro: tuple[str, ...], forza: bool) -> None:
    from app.core.audit import Actor
    from app.registries.pdnd import RegistryError
    from app.registries.services import RegistryConfig, check_taxpayer
    from app.taxpayers.models import Taxpayer

    cf = codice_fiscale.strip().upper()
    taxpayer = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == cf)).first()
    if taxpayer is None:
        click.echo(f"Contribuente non trovato: {cf}.", err=True)
        sys.exit(1)
    config = RegistryConfig.from_config(current_app.config)
    try:
        outcomes = check_taxpayer(
            db.session,
            Actor.system("riga di comando"),
            taxpayer,
            config,
            registries=registro or None,
            force=forza,
        )
    except RegistryError as exc:
        db.session.rollback()
        click.echo(exc.message, err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        json.dumps(
            [
                {
                    "registro": o.registry,
                    "esito": o.check.outcome,
                    "descrizione": o.check.summary,
                    "data": o.check.checked_dt.isoformat(),
                    "fonte": o.check.source,
                    "da_cache": o.cached,
                }
                for o in outcomes
            ],
            ensure_ascii=False,
        )
    )


@anagrafe.command("aggiorna", help="Aggiorna le verifiche scadute dei contribuenti in notifica.")
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def aggiorna_command(pianifica: bool) -> None:
    from app.registries.tasks import refresh_stale_checks

    if pianifica:
        click.echo(periodic.registry_notice("app.registries.tasks.refresh_stale_checks"))
        return
    click.echo(json.dumps(refresh_stale_checks(), ensure_ascii=False))
