"""The riversamento flow back to the Regione (R-A14): what was collected for the ente in a period of booking
dates, by accounting chapter, entrata, year and component, with every ledger allocation behind it, as CSV and
as XML valid against `schemas/riversamento.xsd` (published in the repository; docs/formats/pagamenti.md).

Period = the booking date of the allocation (Europe/Rome), not the payment date: each allocation (and each
reversal, negative) is reported exactly once, in the period in which it was booked, so consecutive
riversamenti add up. Money received and not allocated is reported as `importoNonAttribuito` (credits and
unmatched payments received in the period) and is not part of the total.

The CSV is opened in a spreadsheet by the Regione's staff: its text cells follow the rule of every other
CSV export (`app.reports.export_formats.csv_writer.escape_formula`: a value starting with `=`, `+`, `-`, `@`,
tab or CR gets a leading `'`, so an id_pagamento like `=HYPERLINK(...)` from a bank file is shown, never run).
Amounts (negative for reversals), ids and dates are written as they are. The XML, for the Regione's systems,
carries every value raw.

Both files are written streaming (a month of a large Regione is millions of rows) into the content-addressed
file store; the XML is validated against the XSD before it is kept (files up to `VALIDATE_MAX_BYTES`; larger
ones come from the same writer, whose output the tests validate).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped, scoped_join
from app.core.audit import Actor
from app.core.errors import DomainError
from app.enti.models import Ente, Entrata
from app.payments.models import Allocation, Payment, Riversamento
from app.payments.parsing import ROME
from app.positions.models import COMPONENT_LABELS, Position
from app.reports.export_formats.csv_writer import escape_formula
from app.reports.exports import Column, ExportSpec
from app.reports.formatting import cents_to_machine
from app.taxpayers.models import Taxpayer

NS = "urn:esattoria:riversamento:1"
VERSION = "1.0"
XSD_PATH = Path(__file__).resolve().parents[2] / "schemas" / "riversamento.xsd"
VALIDATE_MAX_BYTES = 50 * 1024 * 1024
CSV_HEADER = (
    "ente",
    "periodo_dal",
    "periodo_al",
    "id_movimento",
    "data_contabile",
    "data_pagamento",
    "canale",
    "id_pagamento",
    "iuv",
    "codice_fiscale",
    "id_posizione",
    "codice_entrata",
    "capitolo",
    "anno_riferimento",
    "componente",
    "importo",
    "storno_di",
)


def _bounds(dal: dt.date, al: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if al < dal:
        raise DomainError("Periodo non valido: la data finale precede quella iniziale.")
    start = dt.datetime.combine(dal, dt.time(0, 0), tzinfo=ROME).astimezone(dt.UTC)
    end = dt.datetime.combine(al + dt.timedelta(days=1), dt.time(0, 0), tzinfo=ROME).astimezone(dt.UTC)
    return start, end


def _period(principal: Principal, ente_id: int, dal: dt.date, al: dt.date) -> sa.Select:
    start, end = _bounds(dal, al)
    stmt = (
        sa.select()
        .select_from(Allocation)
        .join(Payment, Payment.id == Allocation.payment_id)
        .join(Position, Position.id == Allocation.position_id)
        .join(Entrata, Entrata.id == Position.entrata_id)
        .where(Allocation.ente_id == ente_id, Allocation.booked_dt >= start, Allocation.booked_dt < end)
    )
    return scoped(stmt, Allocation, principal)


def summary_stmt(principal: Principal, ente_id: int, dal: dt.date, al: dt.date) -> sa.Select:
    keys = (Entrata.capitolo, Entrata.code, Position.year, Allocation.component)
    return (
        _period(principal, ente_id, dal, al)
        .add_columns(
            Entrata.capitolo.label("capitolo"),
            Entrata.code.label("codice_entrata"),
            Position.year.label("anno_riferimento"),
            Allocation.component.label("componente"),
            sa.func.count().label("movimenti"),
            sa.cast(sa.func.sum(Allocation.amount_cents), sa.BigInteger).label("importo_cents"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )


SUMMARY_SPEC = ExportSpec(
    title="Riepilogo del riversamento",
    filename_stem="riversamento_riepilogo",
    columns=[
        Column("capitolo", "Capitolo"),
        Column("codice_entrata", "Entrata"),
        Column("anno_riferimento", "Anno", "int", grouping=False),
        Column("componente", "Componente", labels=COMPONENT_LABELS),
        Column("movimenti", "Movimenti", "int"),
        Column("importo_cents", "Importo", "money"),
    ],
    totals=["movimenti", "importo_cents"],
)


def detail_stmt(principal: Principal, ente_id: int, dal: dt.date, al: dt.date) -> sa.Select:
    return (
        scoped_join(
            _period(principal, ente_id, dal, al),
            Taxpayer,
            Taxpayer.id == Position.taxpayer_id,
            principal,
            isouter=True,
        )
        .add_columns(
            Allocation.id.label("id_movimento"),
            Allocation.booked_dt.label("booked_dt"),
            Payment.paid_date.label("data_pagamento"),
            Payment.channel.label("canale"),
            Payment.external_id.label("id_pagamento"),
            Payment.iuv.label("iuv"),
            Taxpayer.codice_fiscale.label("codice_fiscale"),
            Position.external_id.label("id_posizione"),
            Entrata.code.label("codice_entrata"),
            Entrata.capitolo.label("capitolo"),
            Position.year.label("anno_riferimento"),
            Allocation.component.label("componente"),
            Allocation.amount_cents.label("importo_cents"),
            Allocation.reverses_id.label("storno_di"),
        )
        .order_by(Allocation.id)
    )


def unallocated_cents(session: Session, principal: Principal, ente_id: int, dal: dt.date, al: dt.date) -> int:
    """Received in the period (payments registered then) and not on any debt."""
    start, end = _bounds(dal, al)
    amount = sa.case((Payment.status == "riconciliato", Payment.credit_cents), else_=Payment.amount_cents)
    stmt = sa.select(sa.func.coalesce(sa.func.sum(amount), 0)).where(
        Payment.ente_id == ente_id,
        Payment.created_dt >= start,
        Payment.created_dt < end,
        sa.or_(
            Payment.status.in_(("in_revisione", "non_abbinato", "respinto")),
            sa.and_(Payment.status == "riconciliato", Payment.credit_cents > 0),
        ),
    )
    return int(session.scalar(scoped(stmt, Payment, principal)) or 0)


@cache
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def _text(parent: Any, tag: str, value: Any) -> None:
    if value is None or value == "":
        return
    el = etree.SubElement(parent, f"{{{NS}}}{tag}")
    el.text = str(value)


def _text_cell(value: Any) -> str:
    return "" if value is None else escape_formula(str(value))


def _day(value: dt.datetime) -> str:
    return value.astimezone(ROME).date().isoformat()


def write_files(
    session: Session,
    principal: Principal,
    ente: Ente,
    dal: dt.date,
    al: dt.date,
    csv_out: io.TextIOBase | Any,
    xml_path: str,
    *,
    produced: dt.datetime,
) -> dict[str, int]:
    """Write the CSV (to `csv_out`) and the XML (to `xml_path`) in one pass over the rows."""
    summary = list(session.execute(summary_stmt(principal, ente.id, dal, al)).mappings())
    total = sum(int(r["importo_cents"]) for r in summary)
    count = sum(int(r["movimenti"]) for r in summary)
    unallocated = unallocated_cents(session, principal, ente.id, dal, al)
    writer = csv.writer(csv_out, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADER)
    with etree.xmlfile(xml_path, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{NS}}}riversamento", nsmap={None: NS}, versione=VERSION):
            head = etree.Element(f"{{{NS}}}testata")
            for tag, value in (
                ("ente", ente.code),
                ("codiceFiscaleEnte", ente.codice_fiscale),
                ("denominazioneEnte", ente.name),
                ("periodoDal", dal.isoformat()),
                ("periodoAl", al.isoformat()),
                ("dataOraProduzione", produced.astimezone(ROME).isoformat(timespec="seconds")),
                ("numeroMovimenti", count),
                ("importoTotale", cents_to_machine(total)),
                ("importoNonAttribuito", cents_to_machine(unallocated)),
            ):
                _text(head, tag, value)
            xf.write(head)
            with xf.element(f"{{{NS}}}riepilogo"):
                for row in summary:
                    voce = etree.Element(f"{{{NS}}}voce")
                    _text(voce, "capitolo", row["capitolo"])
                    _text(voce, "codiceEntrata", row["codice_entrata"])
                    _text(voce, "annoRiferimento", row["anno_riferimento"])
                    _text(voce, "componente", row["componente"])
                    _text(voce, "numeroMovimenti", row["movimenti"])
                    _text(voce, "importo", cents_to_machine(int(row["importo_cents"])))
                    xf.write(voce)
            with xf.element(f"{{{NS}}}dettaglio"):
                rows = session.execute(
                    detail_stmt(principal, ente.id, dal, al).execution_options(yield_per=5000)
                ).mappings()
                for row in rows:
                    amount = cents_to_machine(int(row["importo_cents"]))
                    writer.writerow(
                        (
                            _text_cell(ente.code),
                            dal.isoformat(),
                            al.isoformat(),
                            row["id_movimento"],
                            _day(row["booked_dt"]),
                            row["data_pagamento"].isoformat(),
                            _text_cell(row["canale"]),
                            _text_cell(row["id_pagamento"]),
                            _text_cell(row["iuv"]),
                            _text_cell(row["codice_fiscale"]),
                            _text_cell(row["id_posizione"]),
                            _text_cell(row["codice_entrata"]),
                            _text_cell(row["capitolo"]),
                            row["anno_riferimento"],
                            _text_cell(row["componente"]),
                            amount,
                            row["storno_di"] or "",
                        )
                    )
                    mov = etree.Element(f"{{{NS}}}movimento")
                    for tag, value in (
                        ("idMovimento", row["id_movimento"]),
                        ("dataContabile", _day(row["booked_dt"])),
                        ("dataPagamento", row["data_pagamento"].isoformat()),
                        ("canale", row["canale"]),
                        ("idPagamento", row["id_pagamento"]),
                        ("iuv", row["iuv"]),
                        ("codiceFiscale", row["codice_fiscale"]),
                        ("idPosizione", row["id_posizione"]),
                        ("codiceEntrata", row["codice_entrata"]),
                        ("capitolo", row["capitolo"]),
                        ("annoRiferimento", row["anno_riferimento"]),
                        ("componente", row["componente"]),
                        ("importo", amount),
                        ("stornoDi", row["storno_di"]),
                    ):
                        _text(mov, tag, value)
                    xf.write(mov)
    return {"allocations": count, "total_cents": total, "unallocated_cents": unallocated}


def produce_riversamento(
    session: Session,
    principal: Principal,
    actor: Actor,
    *,
    ente_id: int,
    dal: dt.date,
    al: dt.date,
    file_store: str,
    produced: dt.datetime | None = None,
) -> Riversamento:
    """Write the riversamento of the period, validate the XML, keep both files and record the flow."""
    from app.jobs.files import store_path

    if ente_id not in principal.ente_ids:
        raise DomainError("Ente fuori dalle competenze dell'utente.")
    ente = session.get(Ente, ente_id)
    if ente is None:
        raise DomainError("Ente non trovato.")
    produced = produced or dt.datetime.now(dt.UTC)
    os.makedirs(file_store, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=file_store) as tmp:
        csv_path, xml_path = os.path.join(tmp, "riversamento.csv"), os.path.join(tmp, "riversamento.xml")
        with open(csv_path, "w", encoding="utf-8", newline="") as out:
            totals = write_files(session, principal, ente, dal, al, out, xml_path, produced=produced)
        validated = False
        if os.path.getsize(xml_path) <= VALIDATE_MAX_BYTES:
            doc = etree.parse(
                xml_path, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
            )
            if not schema().validate(doc):
                raise DomainError(f"Riversamento non conforme allo schema: {schema().error_log.last_error}")
            validated = True
        stored_csv = store_path(file_store, csv_path)
        stored_xml = store_path(file_store, xml_path)
    row = Riversamento(
        ente_id=ente.id,
        period_from=dal,
        period_to=al,
        allocations_count=totals["allocations"],
        total_cents=totals["total_cents"],
        unallocated_cents=totals["unallocated_cents"],
        csv_sha256=stored_csv.sha256,
        csv_path=stored_csv.relative_path,
        xml_sha256=stored_xml.sha256,
        xml_path=stored_xml.relative_path,
        xml_validated=validated,
        created_by_id=actor.user_id,
        actor_label=actor.label[:120],
    )
    session.add(row)
    session.flush()
    return row


def read_document(file_store: str, row: Riversamento, kind: str) -> Iterator[bytes]:
    """The stored CSV or XML, re-checked against its SHA-256 while it streams."""
    import hashlib

    from app.jobs.files import path_of

    relative, expected = (row.csv_path, row.csv_sha256) if kind == "csv" else (row.xml_path, row.xml_sha256)
    digest = hashlib.sha256()
    with open(path_of(file_store, relative), "rb") as handle:
        chunks = list(iter(lambda: handle.read(1 << 20), b""))
    for chunk in chunks:
        digest.update(chunk)
    if digest.hexdigest() != expected:
        raise DomainError("Il file archiviato non corrisponde più alla sua impronta SHA-256.")
    yield from chunks
