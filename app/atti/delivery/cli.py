"""`esattoria atti esiti FILE` (import a provider outcome file), `esattoria atti send-stato` (poll SEND)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic
from app.extensions import db


def _fail(body: dict[str, object]) -> None:
    db.session.rollback()
    click.echo(json.dumps(body, ensure_ascii=False))
    sys.exit(1)


@click.command("esiti", help="Importa un file di esiti di notifica (CSV o XML) e stampa il riepilogo (JSON).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ente", "ente_code", default=None, help="Codice ente (default: atti di qualunque ente).")
@with_appcontext
def esiti(file: Path, ente_code: str | None) -> None:
    """Exit 0 with {"file", "lines", "notified", "failed", "outcomes", "delivered", "undelivered", "messages"}
    (the last three: postal messages); 1 with {"error", "errors": [{"line", "field", "message"}]} when the
    file is refused (nothing applied)."""
    from app.atti.delivery.outcomes_file import MAX_BYTES, OutcomesRefused
    from app.atti.delivery.outcomes_import import import_outcomes
    from app.core.audit import Actor
    from app.core.errors import DomainError
    from app.enti.queries import get_ente_by_code

    ente = None
    if ente_code:
        ente = get_ente_by_code(db.session, ente_code)
        if ente is None:
            _fail({"file": str(file), "error": f"Ente sconosciuto: {ente_code}."})
    try:
        if file.stat().st_size > MAX_BYTES:
            _fail({"file": str(file), "error": f"File troppo grande (massimo {MAX_BYTES // 1048576} MB)."})
        data = file.read_bytes()
    except OSError as exc:
        _fail({"file": str(file), "error": f"File non leggibile: {exc.strerror or exc}."})
    try:
        summary = import_outcomes(db.session, ente, data, file.name, Actor.system("esattoria atti esiti"))
    except OutcomesRefused as exc:
        _fail(
            {
                "file": str(file),
                "error": f"File rifiutato, nessun esito applicato: {len(exc.errors)} errori.",
                "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in exc.errors],
            }
        )
        return
    except DomainError as exc:
        _fail({"file": str(file), "error": str(exc)})
        return
    db.session.commit()
    click.echo(json.dumps({**summary.as_json(), "file": str(file)}, ensure_ascii=False))


@click.command("send-stato", help="Controlla su SEND gli atti inviati e non ancora notificati (JSON).")
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def send_stato(pianifica: bool) -> None:
    from app.atti.delivery.send import SendClient
    from app.atti.delivery.tasks import poll_send_all
    from app.core.errors import DomainError

    if pianifica:
        click.echo(periodic.registry_notice("app.atti.delivery.tasks.poll_send_job"))
        return

    results: list[dict[str, object]] = []
    try:
        with SendClient.from_config(current_app.config) as client:
            results = poll_send_all(db.session, client, file_store=current_app.config["FILE_STORE"])
    except DomainError as exc:
        _fail({"error": str(exc)})
    click.echo(json.dumps({"checked": len(results), "results": results}, ensure_ascii=False))
