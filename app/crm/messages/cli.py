"""`esattoria messaggi ...`: the reminders of the send rules, the rules themselves, the default templates."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click
from flask.cli import with_appcontext

from app.extensions import db


@click.group(help="Messaggi ai contribuenti: promemoria automatici, regole di invio, modelli.")
def messaggi() -> None:
    pass


def _ente(code: str):  # type: ignore[no-untyped-def]
    from app.enti.queries import get_ente_by_code

    ente = get_ente_by_code(db.session, code)
    if ente is None:
        raise click.BadParameter(f"ente sconosciuto: {code}", param_hint="--ente")
    return ente


@messaggi.command("invia-promemoria", help="Applica le regole di invio per la data (default: oggi); "
                  "idempotente: rieseguito non invia nulla due volte. Stampa un riepilogo JSON.")
@click.option("--data", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="AAAA-MM-GG (default: oggi, ora italiana).")
@with_appcontext
def invia_promemoria(day: dt.datetime | None) -> None:
    from app.crm.messages.services import run_rules, today
    from app.crm.messages.tasks import RULES_ACTOR

    run = run_rules(db.session, day.date() if day else today(), RULES_ACTOR)
    db.session.commit()
    click.echo(json.dumps(run.as_json(), ensure_ascii=False))
    if run.errors:
        sys.exit(1)


@messaggi.command("regola", help="Aggiunge una regola di invio (es. 7 giorni prima della scadenza).")
@click.option("--ente", "ente_code", required=True)
@click.option("--entrata", "entrata_code", default=None, help="Codice entrata (default: tutte).")
@click.option("--finalita", "purpose", default="promemoria_rata", show_default=True)
@click.option("--canali", "channels", default="app_io,email,sms", show_default=True,
              help="Canali in ordine di preferenza, separati da virgola.")
@click.option("--giorni", "days", type=click.IntRange(0, 365), default=7, show_default=True)
@with_appcontext
def regola(ente_code: str, entrata_code: str | None, purpose: str, channels: str, days: int) -> None:
    from app.core.errors import DomainError
    from app.crm.messages.services import save_rule
    from app.enti.queries import get_entrata

    ente = _ente(ente_code)
    entrata_id = None
    if entrata_code:
        entrata = get_entrata(db.session, ente.id, entrata_code)
        if entrata is None:
            raise click.BadParameter(f"entrata sconosciuta: {entrata_code}", param_hint="--entrata")
        entrata_id = entrata.id
    try:
        rule = save_rule(db.session, ente_id=ente.id, entrata_id=entrata_id, purpose=purpose,
                         channels=[c.strip() for c in channels.split(",") if c.strip()], days_before=days)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(json.dumps({"regola": rule.id, "ente": ente.code, "giorni": days, "canali": rule.channels}))


@messaggi.command("modelli-predefiniti", help="Crea i modelli predefiniti mancanti di ogni ente.")
@with_appcontext
def modelli_predefiniti() -> None:
    from app.crm.messages.services import ensure_default_templates
    from app.enti.queries import list_enti

    added = {ente.code: ensure_default_templates(db.session, ente.id) for ente in list_enti(db.session)}
    db.session.commit()
    click.echo(json.dumps(added))
