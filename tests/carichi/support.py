"""Builders of import files and a helper that runs an import the way the worker does."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from stdnum.it.codicefiscale import calc_check_digit

from app.carichi.validation import CARICO_FIELDS

HEADER = list(CARICO_FIELDS)
_LETTERS = "BCDFGHLMNPRSTVZ"


def make_cf(n: int, *, female: bool = False, year: int = 80) -> str:
    """A valid personal codice fiscale, different for each n (synthetic surname/name letters)."""
    letters = ""
    for _ in range(6):
        n, r = divmod(n, len(_LETTERS))
        letters += _LETTERS[r]
    body = f"{letters}{year:02d}A{(41 if female else 1):02d}H501"
    return body + calc_check_digit(body)


def row(n: int = 1, **overrides: Any) -> dict[str, str]:
    """A valid canonical row (PF), with `overrides` applied."""
    values = {
        "id_posizione": f"TEST-{n:06d}",
        "codice_fiscale": make_cf(n),
        "tipo_soggetto": "",
        "cognome": "Bianchi",
        "nome": "Anna",
        "ragione_sociale": "",
        "data_nascita": "1980-01-01",
        "comune_nascita": "Roma",
        "indirizzo": "Via Roma 1",
        "cap": "00100",
        "comune": "Roma",
        "provincia": "RM",
        "pec": "",
        "email": "",
        "telefono": "",
        "anno_riferimento": "2022",
        "codice_entrata": "TASSA_AUTO",
        "descrizione": "Tassa automobilistica 2022",
        "riferimento": "AB123CD",
        "capitale": "100,00",
        "sanzioni": "30,00",
        "interessi": "",
        "spese": "5,88",
        "data_scadenza": "2023-01-31",
        "data_notifica": "",
    }
    values.update(overrides)
    return values


def csv_text(rows: list[dict[str, str]], *, delimiter: str = ";", header: list[str] | None = None) -> str:
    """Proper CSV (values holding the delimiter or quotes are quoted), LF line ends."""
    import csv

    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(h, "") for h in header])
    return out.getvalue()


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8", **kw: Any) -> bytes:
    return csv_text(rows, **kw).encode(encoding)


def xlsx_bytes(rows: list[dict[str, Any]], header: list[str] | None = None) -> bytes:
    import xlsxwriter

    header = header or HEADER
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Carico")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, header)
    for i, r in enumerate(rows, start=1):
        for j, h in enumerate(header):
            value = r.get(h, "")
            if isinstance(value, dt.date):
                sheet.write_datetime(i, j, value, date_format)
            elif value != "":
                sheet.write(i, j, value)
    workbook.close()
    return buffer.getvalue()


def xml_bytes(rows: list[dict[str, str]], *, prolog: str = "") -> bytes:
    from xml.sax.saxutils import escape

    parts = ['<?xml version="1.0" encoding="UTF-8"?>', prolog, '<lista_di_carico versione="1.0">']
    for r in rows:
        parts.append("  <posizione>")
        parts += [f"    <{k}>{escape(v)}</{k}>" for k, v in r.items() if v != ""]
        parts.append("  </posizione>")
    parts.append("</lista_di_carico>")
    return ("\n".join(p for p in parts if p) + "\n").encode("utf-8")


# The published ruolo-290 positions written out again on purpose, not imported from
# app.carichi.layouts.RUOLO_290: these records stand for a Regione's file, so a position shifted in the app
# fails the fixed-width tests instead of moving on both sides.
RUOLO = [
    ("id_posizione", 2, 20),
    ("codice_fiscale", 22, 16),
    ("tipo_soggetto", 38, 2),
    ("cognome", 40, 24),
    ("nome", 64, 20),
    ("ragione_sociale", 84, 40),
    ("data_nascita", 124, 8),
    ("comune_nascita", 132, 20),
    ("indirizzo", 152, 30),
    ("cap", 182, 5),
    ("comune", 187, 20),
    ("provincia", 207, 2),
    ("anno_riferimento", 209, 4),
    ("codice_entrata", 213, 10),
    ("riferimento", 223, 10),
    ("capitale", 233, 10),
    ("sanzioni", 243, 10),
    ("interessi", 253, 10),
    ("spese", 263, 10),
    ("data_scadenza", 273, 8),
    ("data_notifica", 281, 8),
]


def fixed_record(values: dict[str, str], kind: str = "D") -> str:
    """A 290-character record of the ruolo-290 layout; amounts in cents, dates AAAAMMGG."""
    record = [" "] * 290
    record[0] = kind
    for name, start, length in RUOLO:
        value = values.get(name, "")
        if name in ("capitale", "sanzioni", "interessi", "spese"):
            value = value.rjust(length, "0")
        text = value[:length].ljust(length)
        record[start - 1 : start - 1 + length] = list(text)
    return "".join(record)


def run_file(
    app: Any,
    content: bytes,
    *,
    name: str = "lista.csv",
    ente: str = "R01",
    entrata: str | None = "TASSA_AUTO",
    layout: str | None = None,
    actor_label: str = "test",
    tmp_dir: Path | None = None,
) -> Any:
    """Store `content`, create the job and run it synchronously like the worker. Returns the job."""
    from app.carichi import services
    from app.carichi.tasks import run_import
    from app.core.audit import Actor
    from app.extensions import db
    from app.jobs.files import store_stream
    from app.jobs.models import BatchJob

    target = services.resolve_target(db.session, ente_code=ente, entrata_code=entrata, layout_name=layout)
    stored = store_stream(app.config["FILE_STORE"], io.BytesIO(content))
    job = services.create_import_job(
        db.session, Actor.system(actor_label), target, stored, name, enqueue=False
    )
    db.session.commit()
    run_import(job.id)
    db.session.expire_all()
    return db.session.get(BatchJob, job.id)


def errors_of(job_id: int) -> list[tuple]:
    """(line, column, reason, kind) of the job's report, in line order."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.jobs.models import BatchJobError

    return [
        tuple(r)
        for r in db.session.execute(
            sa.select(BatchJobError.line, BatchJobError.column, BatchJobError.reason, BatchJobError.kind)
            .where(BatchJobError.batch_job_id == job_id)
            .order_by(BatchJobError.line, BatchJobError.id)
        )
    ]
