"""`esattoria pagamenti ...` (formats.md §5)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core import periodic
from app.extensions import db


@click.group(help="Pagamenti: flussi, riconciliazione, riversamento.")
def pagamenti() -> None:
    pass


@pagamenti.command("import", help="Importa e riconcilia un flusso di pagamenti (FdR pagoPA o CSV).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["fdr", "csv"]),
    default=None,
    help="Formato del file (rilevato dal contenuto se omesso).",
)
@click.option("--layout", default=None, help="Tracciato del file CSV/a lunghezza fissa (default: canonico).")
@click.option("--ente", "ente_code", default=None, help="Codice ente (per i file che non lo indicano).")
@with_appcontext
def import_command(file: Path, fmt: str | None, layout: str | None, ente_code: str | None) -> None:
    """Prints {"flow", "payments", "matched", "unmatched", "duplicates", "total"}; exit 1 when refused."""
    from app.core.audit import Actor
    from app.payments.parsing import FlowRefused
    from app.payments.services import import_flow

    try:
        summary = import_flow(
            db.session,
            file.read_bytes(),
            Actor.system("riga di comando"),
            fmt=fmt,
            layout=layout,
            ente_code=ente_code,
            file_name=file.name,
        )
    except FlowRefused as exc:
        db.session.rollback()
        click.echo(
            json.dumps({"error": exc.message, "details": {"errors": exc.errors[:20]}}, ensure_ascii=False),
            err=True,
        )
        sys.exit(1)
    db.session.commit()
    click.echo(json.dumps(summary.as_json()))


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("data attesa nel formato AAAA-MM-GG") from None


@pagamenti.command("riversamento", help="Produce il flusso di riversamento alla Regione (CSV e XML).")
@click.option("--ente", "ente_code", default=None, help="Codice ente.")
@click.option("--dal", callback=_date, default=None, help="Prima data contabile (AAAA-MM-GG).")
@click.option("--al", callback=_date, default=None, help="Ultima data contabile (AAAA-MM-GG).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cartella in cui copiare riversamento_<ente>_<dal>_<al>.csv/.xml.",
)
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def riversamento_command(
    ente_code: str | None, dal: dt.date | None, al: dt.date | None, out_dir: Path | None, pianifica: bool
) -> None:
    from app.core.audit import Actor
    from app.enti.queries import get_ente_by_code
    from app.jobs.files import copy_out
    from app.payments.riversamento import produce_riversamento
    from app.positions.services import system_principal

    if pianifica:
        click.echo(periodic.registry_notice("app.payments.tasks.daily_riversamento"))
        return
    if not (ente_code and dal and al):
        raise click.UsageError("Indicare --ente, --dal e --al (oppure --pianifica).")
    ente = get_ente_by_code(db.session, ente_code)
    if ente is None:
        raise click.BadParameter("ente sconosciuto", param_hint="--ente")
    store = current_app.config["FILE_STORE"]
    row = produce_riversamento(
        db.session,
        system_principal(db.session),
        Actor.system("riga di comando"),
        ente_id=ente.id,
        dal=dal,
        al=al,
        file_store=store,
    )
    db.session.commit()
    output = {
        "riversamento": row.id,
        "ente": ente.code,
        "dal": dal.isoformat(),
        "al": al.isoformat(),
        "movimenti": row.allocations_count,
        "totale": _machine(row.total_cents),
        "non_attribuito": _machine(row.unallocated_cents),
        "csv_sha256": row.csv_sha256,
        "xml_sha256": row.xml_sha256,
    }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"riversamento_{ente.code}_{dal:%Y%m%d}_{al:%Y%m%d}"
        copy_out(store, row.csv_path, out_dir / f"{stem}.csv")
        copy_out(store, row.xml_path, out_dir / f"{stem}.xml")
        output["files"] = [str(out_dir / f"{stem}.csv"), str(out_dir / f"{stem}.xml")]
    click.echo(json.dumps(output, ensure_ascii=False))


def _machine(cents: int) -> str:
    from app.reports.formatting import cents_to_machine

    return cents_to_machine(cents)


@pagamenti.command(
    "scarica-fdr",
    help="Scarica dal servizio FdR REST di pagoPA i flussi di rendicontazione pubblicati per l'ente e li "
    "importa e riconcilia come i file (esce con 0 se nessun flusso è rifiutato, 1 altrimenti, 2 se il "
    "servizio non è configurato).",
)
@click.option("--ente", "ente_code", default=None, help="Codice ente (obbligatorio salvo con --pianifica).")
@click.option(
    "--dal",
    callback=_date,
    default=None,
    help="Solo i flussi pubblicati da questo giorno (AAAA-MM-GG); se omesso, dall'inizio del mese "
    "precedente.",
)
@click.option("--pianifica", is_flag=True, help=periodic.PIANIFICA_HELP)
@with_appcontext
def scarica_fdr_command(ente_code: str | None, dal: dt.date | None, pianifica: bool) -> None:
    """Prints {"ente", "flows": [{identifier, psp, revision, status, message, flow_id}], "imported",
    "duplicates", "refused", "errors"}."""
    from app.core.audit import Actor
    from app.enti.queries import get_ente_by_code
    from app.payments.fdr_rest import NOT_CONFIGURED, FdrRestError, client_from_config
    from app.payments.services import fdr_fetch_summary, fetch_fdr_flows

    if pianifica:
        click.echo(periodic.registry_notice("app.payments.tasks.fetch_fdr_job"))
        return
    client = client_from_config(current_app.config)
    if client is None:
        click.echo(json.dumps({"error": NOT_CONFIGURED}, ensure_ascii=False), err=True)
        sys.exit(2)
    with client:
        if not ente_code:
            raise click.UsageError("Indicare --ente (oppure --pianifica).")
        ente = get_ente_by_code(db.session, ente_code)
        if ente is None:
            raise click.BadParameter("ente sconosciuto", param_hint="--ente")
        try:
            outcomes = fetch_fdr_flows(
                db.session, ente, Actor.system("scarico FdR da riga di comando"), client, published_after=dal
            )
        except FdrRestError as exc:
            db.session.rollback()
            click.echo(json.dumps({"error": exc.message}, ensure_ascii=False), err=True)
            sys.exit(1)
    db.session.commit()
    summary = fdr_fetch_summary(ente.code, outcomes)
    click.echo(json.dumps(summary, ensure_ascii=False))
    sys.exit(1 if summary["refused"] or summary["errors"] else 0)


@pagamenti.command("avvisi", help="Assegna i codici avviso alle posizioni che non ne hanno.")
@click.option(
    "--carico", "carico_id", type=int, default=None, help="Solo le posizioni di questa lista di carico."
)
@with_appcontext
def avvisi_command(carico_id: int | None) -> None:
    import sqlalchemy as sa

    from app.payments.models import NoticeNumber
    from app.payments.notices import assign_notice_numbers, assign_notice_numbers_for_carico
    from app.positions.models import Position

    if carico_id is not None:
        created = assign_notice_numbers_for_carico(db.session, carico_id)
    else:
        ids = db.session.scalars(
            sa.select(Position.id).where(
                ~sa.exists().where(
                    NoticeNumber.position_id == Position.id, NoticeNumber.item_kind == "posizione"
                )
            )
        )
        created = assign_notice_numbers(db.session, list(ids))
    db.session.commit()
    click.echo(json.dumps({"created": created}))
