"""`esattoria archivio ...` (formats.md §6): import, search, reindex, verifica, sweep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic
from app.extensions import db

CHANNEL_CHOICES = ("sportello", "posta", "pec", "email", "scansione", "web")


@click.group(help="Archivio documentale: protocollo, testo (OCR), ricerca.")
def archivio() -> None:
    pass


def _ente(code: str):  # type: ignore[no-untyped-def]
    from app.enti.queries import get_ente_by_code

    ente = get_ente_by_code(db.session, code)
    if ente is None:
        raise click.BadParameter(f"ente sconosciuto: {code}", param_hint="--ente")
    return ente


@archivio.command("import", help="Protocolla i file, ne estrae il testo e li indicizza (JSON per file).")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--ente", "ente_code", required=True, help="Codice ente.")
@click.option(
    "--canale", "channel", type=click.Choice(CHANNEL_CHOICES), default="scansione", show_default=True
)
@click.option("--tipo", "doc_type", default=None, help="Codice del tipo di documento (default: altro).")
@with_appcontext
def import_command(files: tuple[Path, ...], ente_code: str, channel: str, doc_type: str | None) -> None:
    """Prints one JSON list, an object per file; exit 1 when any file was refused."""
    from app.archive.indexing import backend, drain_outbox
    from app.archive.services import IncomingFile, file_documents
    from app.core.audit import Actor
    from app.core.errors import DomainError

    ente = _ente(ente_code)
    try:
        results = file_documents(
            db.session,
            [IncomingFile(f.name, f) for f in files],
            ente,
            channel,
            doc_type,
            Actor.system("riga di comando"),
            file_store=current_app.config["FILE_STORE"],
            mode="sync",
        )
    except DomainError as exc:
        db.session.rollback()
        click.echo(json.dumps({"error": exc.message}, ensure_ascii=False), err=True)
        sys.exit(2)
    db.session.commit()
    drain_outbox(db.session, backend())  # indexed before returning (formats.md §6)
    db.session.commit()
    click.echo(json.dumps([r.as_json() for r in results], ensure_ascii=False))
    sys.exit(1 if any(r.status == "refused" for r in results) else 0)


@archivio.command("search", help="Cerca nei documenti di un ente (JSON).")
@click.argument("query")
@click.option("--ente", "ente_code", required=True, help="Codice ente.")
@click.option(
    "--cf", "codice_fiscale", default=None, help="Solo i documenti collegati a questo contribuente."
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@with_appcontext
def search_command(query: str, ente_code: str, codice_fiscale: str | None, limit: int) -> None:
    from app.archive.indexing import backend, search_documents
    from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale

    ente = _ente(ente_code)
    if codice_fiscale:
        try:
            codice_fiscale = validate_codice_fiscale(codice_fiscale)
        except InvalidIdentifier as exc:
            raise click.BadParameter(str(exc), param_hint="--cf") from None
    result = search_documents(backend(), query, ente_codes=[ente.code], taxpayer=codice_fiscale, limit=limit)
    db.session.rollback()
    click.echo(
        json.dumps(
            {
                "total": result.total,
                "hits": [
                    {
                        "document": h.document,
                        "protocol": h.protocol,
                        "score": h.score,
                        "highlight": h.highlight,
                        "taxpayers": list(h.taxpayers),
                    }
                    for h in result.hits
                ],
            },
            ensure_ascii=False,
        )
    )


@archivio.command("reindex", help="Ricostruisce l'indice di ricerca da zero.")
@with_appcontext
def reindex_command() -> None:
    from app.archive.indexing import backend, rebuild

    written = rebuild(db.session, backend())
    db.session.commit()
    click.echo(json.dumps({"indexed": written}))


@archivio.command("verifica", help="Confronta indice e database e ripara le differenze.")
@click.option("--solo-controllo", "check_only", is_flag=True, help="Non ripara: riporta soltanto.")
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def verify_command(check_only: bool, pianifica: bool) -> None:
    from app.archive.indexing import backend, verify

    if pianifica:
        click.echo(periodic.registry_notice("app.archive.tasks.verify_index"))
        return
    report = verify(db.session, backend(), repair=not check_only)
    db.session.commit()
    click.echo(json.dumps(report.as_json()))


@archivio.command(
    "sweep", help="Protocolla i file della cartella di acquisizione (ARCHIVE_INTAKE_DIR/<ente>/)."
)
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def sweep_command(pianifica: bool) -> None:
    """Prints one JSON list (formats.md §6 objects with their "ente"); exit 1 when any file was refused."""
    from app.archive.indexing import backend, drain_outbox
    from app.archive.tasks import sweep_intake

    if pianifica:
        click.echo(periodic.registry_notice("app.archive.tasks.sweep_intake"))
        return
    if not current_app.config.get("ARCHIVE_INTAKE_DIR"):
        click.echo(json.dumps({"error": "ARCHIVE_INTAKE_DIR non configurata."}, ensure_ascii=False), err=True)
        sys.exit(2)
    results = sweep_intake(mode="sync")
    drain_outbox(db.session, backend())
    db.session.commit()
    click.echo(json.dumps(results, ensure_ascii=False))
    sys.exit(1 if any(r["status"] == "refused" for r in results) else 0)


from app.archive.entrypoints import cli as _more  # noqa: E402,F401  (posta, conserva, scarta)
