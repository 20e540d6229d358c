"""`esattoria archivio posta | conserva | scarta`: the IMAP mailbox's poll, the conservazione package and the
discard of a document at the end of its retention (registered on the `archivio` group of app/archive/cli.py).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.archive.cli import _ente, archivio
from app.core import periodic
from app.extensions import db

DATE = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])


def _fail(message: str, code: int) -> None:
    click.echo(json.dumps({"error": message}, ensure_ascii=False), err=True)
    sys.exit(code)


@archivio.command(
    "posta", help="Legge la casella IMAP dell'archivio (ARCHIVE_IMAP_*) e protocolla i messaggi nuovi."
)
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def mail_command(pianifica: bool) -> None:
    """Prints one JSON list, an object per new message; exit 1 when any message was refused."""
    import imaplib

    from app.archive.entrypoints.tasks import _drain, mailbox_settings, poll
    from app.core.errors import DomainError

    if pianifica:
        click.echo(periodic.registry_notice("app.archive.entrypoints.tasks.poll_mailbox"))
        return
    try:
        settings = mailbox_settings(current_app.config)
        outcomes = poll(db.session, settings, file_store=current_app.config["FILE_STORE"])
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message, 2)
        return
    except (imaplib.IMAP4.error, OSError) as exc:
        db.session.rollback()
        _fail(f"Casella di posta non raggiungibile o accesso rifiutato: {exc}", 2)
        return
    _drain()
    click.echo(json.dumps([o.as_json() for o in outcomes], ensure_ascii=False))
    sys.exit(1 if any(o.status == "refused" for o in outcomes) else 0)


@archivio.command(
    "conserva", help="Esporta un pacchetto di conservazione (ZIP con indice XML AgID e originali)."
)
@click.option("--ente", "ente_code", required=True, help="Codice ente.")
@click.option("--dal", "date_from", type=DATE, default=None, help="Ricevuti dal (AAAA-MM-GG).")
@click.option("--al", "date_to", type=DATE, default=None, help="Ricevuti fino al (AAAA-MM-GG).")
@click.option("--tipo", "type_codes", multiple=True, help="Codice del tipo di documento (ripetibile).")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File ZIP."
)
@with_appcontext
def conserva_command(
    ente_code: str,
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    type_codes: tuple[str, ...],
    out: Path,
) -> None:
    from app.archive.retention import Selection, write_package
    from app.core.audit import Actor
    from app.core.errors import DomainError

    selection = Selection(
        ente=_ente(ente_code),
        type_codes=tuple(type_codes),
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    partial = out.with_name(out.name + ".parziale")
    try:
        summary = write_package(
            db.session,
            selection,
            partial,
            Actor.system("riga di comando"),
            file_store=current_app.config["FILE_STORE"],
        )
    except DomainError as exc:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        _fail(exc.message, 2)
        return
    partial.replace(out)
    db.session.commit()
    click.echo(json.dumps({"file": str(out), **summary.as_json()}, ensure_ascii=False))


@archivio.command("scarta", help="Scarta un documento a fine conservazione (amministratore).")
@click.argument("document_id", type=int)
@with_appcontext
def scarta_command(document_id: int) -> None:
    """Prints the discarded document as JSON; exit 1 (with the Italian reason) when it must still be kept."""
    from app.archive.models import Document
    from app.archive.retention import discard, remove_original
    from app.core.audit import Actor
    from app.core.errors import DomainError
    from app.payments.parsing import ROME

    document = db.session.get(Document, document_id)
    if document is None:
        _fail(f"Documento {document_id} inesistente.", 2)
        return
    try:
        removal = discard(
            db.session,
            document,
            Actor.system("riga di comando (amministratore)"),
            today=dt.datetime.now(ROME).date(),
        )
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message, 1)
        return
    db.session.commit()
    remove_original(current_app.config["FILE_STORE"], removal)
    click.echo(
        json.dumps(
            {
                "document": removal.document,
                "protocol": removal.protocol,
                "status": "deleted",
                "original_removed": removal.relative_path is not None,
            }
        )
    )
