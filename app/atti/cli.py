"""`esattoria atti emetti` (formats.md §7): issue one act through the same service as campaigns."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.atti.catalog import TYPE_CODES
from app.extensions import db


@click.group(help="Atti: emissione (ingiunzioni, accertamenti esecutivi, solleciti...).")
def atti() -> None:
    pass


def _refuse(message: str, **known: Any) -> NoReturn:
    db.session.rollback()
    click.echo(json.dumps({**known, "error": message}, ensure_ascii=False))
    sys.exit(1)


def parse_day(text: str | None) -> dt.date | None:
    """AAAA-MM-GG (formats.md; GG/MM/AAAA also accepted); None when empty; ValueError when invalid."""
    if not text:
        return None
    text = text.strip()
    if "/" in text:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    return dt.date.fromisoformat(text)


@atti.command("emetti", help="Emette un atto per una posizione e ne scrive il PDF (JSON).")
@click.option("--ente", "ente_code", required=True, help="Codice ente.")
@click.option("--tipo", "type_code", required=True, help="Tipo di atto: " + ", ".join(TYPE_CODES) + ".")
@click.option("--id-posizione", "external_id", required=True, help="id_posizione della lista di carico.")
@click.option("--data", "day_text", default=None, help="Data dell'atto AAAA-MM-GG (default: oggi).")
@click.option("--pdf", "pdf_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File in cui scrivere il PDF dell'atto.")
@with_appcontext
def emetti(ente_code: str, type_code: str, external_id: str, day_text: str | None, pdf_path: Path) -> None:
    """Prints formats.md §7's object; exit 0 when issued, 1 when refused (with an Italian "error")."""
    from app.atti.services import ActRefused, act_type_by_code, ensure_defaults, issue_act
    from app.core.audit import Actor
    from app.core.errors import DomainError
    from app.enti.queries import get_ente_by_code
    from app.positions.amounts import today_rome
    from app.positions.models import Position
    from app.reports.formatting import cents_to_machine

    known = {"type": type_code, "id_posizione": external_id}
    try:
        on = parse_day(day_text) or today_rome()
    except ValueError:
        _refuse(f"Data non valida: {day_text!r} (attesa AAAA-MM-GG).", **known)
    ensure_defaults(db.session)
    ente = get_ente_by_code(db.session, ente_code)
    if ente is None:
        _refuse(f"Ente sconosciuto: {ente_code}.", **known)
    if type_code not in TYPE_CODES:
        _refuse(f"Tipo di atto sconosciuto: {type_code}. Tipi: {', '.join(TYPE_CODES)}.", **known)
    positions = list(db.session.scalars(
        sa.select(Position).where(Position.ente_id == ente.id, Position.external_id == external_id)))
    if not positions:
        _refuse(f"Nessuna posizione {external_id} per l'ente {ente_code}.", **known)
    if len(positions) > 1:
        _refuse(f"La posizione {external_id} esiste per più entrate dell'ente {ente_code}.", **known)
    try:
        act_type = act_type_by_code(db.session, type_code)
        issued = issue_act(db.session, positions[0], act_type, on, Actor.system("riga di comando"),
                           file_store=current_app.config["FILE_STORE"])
    except ActRefused as exc:
        _refuse(exc.message, **known)
    except DomainError as exc:
        _refuse(exc.message, **known)
    try:
        pdf_path.write_bytes(issued.pdf)
    except OSError as exc:
        _refuse(f"Impossibile scrivere il PDF in {pdf_path}: {exc.strerror}.", **known)
    db.session.commit()
    act = issued.act
    click.echo(json.dumps({"act": act.id, "protocol": act.protocol, "type": type_code,
                           "id_posizione": external_id, "notice_number": act.notice_number,
                           "amount_due": cents_to_machine(act.amount_due_cents), "pdf": str(pdf_path)},
                          ensure_ascii=False))
    _drain_index()


def _drain_index() -> None:
    """The act's archive copy searchable before returning, as `esattoria archivio import` does."""
    from app.archive.indexing import backend, drain_outbox

    try:
        drain_outbox(db.session, backend())
        db.session.commit()
    except Exception:  # the index catches up with its outbox job later; the act is issued
        db.session.rollback()


@atti.command("modelli-predefiniti", help="Carica i tipi di atto e i modelli predefiniti mancanti.")
@with_appcontext
def modelli_predefiniti() -> None:
    """After an upgrade: the catalog's act types, terms and default templates that are missing (an
    administrator's changes are kept); prints the act types known afterwards (JSON)."""
    from app.atti.models import ActType
    from app.atti.services import ensure_defaults

    ensure_defaults(db.session)
    db.session.commit()
    click.echo(json.dumps({"tipi": sorted(db.session.scalars(sa.select(ActType.code)))}))
