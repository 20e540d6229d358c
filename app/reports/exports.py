"""The one export mechanism every list and report uses: a column spec plus rows, in six formats.

Usage in a route (rows stream from the database into a spooled file; nothing is materialised in memory
except for the PDF)::

    SPEC = ExportSpec(
        title="Posizioni aperte",
        filename_stem="posizioni_aperte",
        columns=[
            Column("taxpayer_name", "Contribuente"),
            Column("residual_cents", "Residuo", "money"),
            Column("due_date", "Scadenza", "date"),
        ],
        totals=["residual_cents"],
    )

    def open_positions(session, principal, params):  # a source (app/reports/export_jobs.py)
        return from_statement(session, SPEC, list_open_positions_query(principal))

    @bp.get("/positions/export.<fmt>")
    def positions_export(fmt):
        return export_list(open_positions, fmt, {})  # app/reports/routes.py: in the request, or a job

A list with potentially many rows always goes through ``export_list`` (large exports become jobs); a small
fixed table may call ``export_response(rows, SPEC, fmt)`` directly.

The writers (:func:`write_export` and ``write_<fmt>``) are plain generators of bytes: they need no Flask app,
so a job can write a large export to a file with them. Money values are integer cents (or ``Decimal``
euros); see :mod:`app.reports.export_formats.spec` for every kind.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from app.reports.export_formats.csv_writer import write_csv
from app.reports.export_formats.ods_writer import write_ods
from app.reports.export_formats.odt_writer import write_odt
from app.reports.export_formats.pdf_writer import PDF_MAX_ROWS, write_pdf
from app.reports.export_formats.spec import KINDS, Column, ExportSpec, ExportTooLarge, Kind
from app.reports.export_formats.xlsx_writer import write_xlsx
from app.reports.export_formats.xml_writer import XSD_PATH, write_xml
from app.reports.formatting import to_local_naive

__all__ = [
    "FORMATS",
    "FORMAT_LABELS",
    "KINDS",
    "MIMETYPES",
    "PDF_MAX_ROWS",
    "XSD_PATH",
    "Column",
    "ExportSpec",
    "ExportTooLarge",
    "Kind",
    "UnknownExportFormat",
    "export_filename",
    "export_response",
    "write_csv",
    "write_export",
    "write_ods",
    "write_odt",
    "write_pdf",
    "write_xlsx",
    "write_xml",
]

FORMATS = ("csv", "xlsx", "ods", "odt", "pdf", "xml")

#: Labels for the export menu, in the order of FORMATS.
FORMAT_LABELS = {
    "csv": "CSV (dati, separatore ;)",
    "xlsx": "Excel (XLSX)",
    "ods": "LibreOffice (ODS)",
    "odt": "Documento (ODT)",
    "pdf": "PDF (stampa)",
    "xml": "XML",
}

MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "pdf": "application/pdf",
    "xml": "application/xml",
}

_SPOOL_MAX = 16 * 1024 * 1024
_CHUNK = 64 * 1024

_WRITERS = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "ods": write_ods,
    "odt": write_odt,
    "pdf": write_pdf,
    "xml": write_xml,
}


class UnknownExportFormat(ValueError):
    """``fmt`` is not one of :data:`FORMATS`."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        super().__init__(f"Formato di esportazione non supportato: {fmt!r}")


def write_export(
    rows: Iterable[Any],
    spec: ExportSpec,
    fmt: str,
    *,
    generated_at: datetime | None = None,
    pdf_max_rows: int = PDF_MAX_ROWS,
) -> Iterator[bytes]:
    """The export of ``rows`` in ``fmt`` as a generator of bytes chunks; no app context needed.

    CSV and XML yield as they go; XLSX and ODS build the file in a spooled temporary file and yield it at the
    end (memory stays flat either way); PDF holds at most ``pdf_max_rows`` formatted rows and yields once.

    :raise UnknownExportFormat: ``fmt`` is not in :data:`FORMATS` (raised at once, not on iteration).
    :raise ExportTooLarge: on iteration, for a PDF over ``pdf_max_rows`` rows or an XLSX over a sheet's rows.
    """
    if fmt not in _WRITERS:
        raise UnknownExportFormat(fmt)
    generated_at = generated_at or datetime.now(UTC)
    if fmt == "csv":
        return write_csv(rows, spec)
    if fmt == "pdf":
        return write_pdf(rows, spec, generated_at=generated_at, max_rows=pdf_max_rows)
    return _WRITERS[fmt](rows, spec, generated_at=generated_at)


def export_filename(spec: ExportSpec, fmt: str, generated_at: datetime) -> str:
    """``<stem>_<YYYYmmdd>.<fmt>``, dated in Italian local time."""
    return f"{spec.filename_stem}_{to_local_naive(generated_at):%Y%m%d}.{fmt}"


def export_response(
    rows: Iterable[Any],
    spec: ExportSpec,
    fmt: str,
    *,
    generated_at: datetime | None = None,
    pdf_max_rows: int = PDF_MAX_ROWS,
) -> Any:
    """A Flask response that downloads the export of ``rows`` in ``fmt`` as an attachment.

    Every row is read here, in the view, while the request's database session is open: the file is written to
    a spooled temporary file (in memory up to 16 MiB, then on disk) and the response streams that file. Rows
    may come from a server-side cursor (``yield_per``): Flask tears the request's session down as soon as the
    view returns (before a streamed body is read), which closes such a cursor, so a body that read the
    database lazily would break after its first batch. An error (:class:`ExportTooLarge`, a bad value) is
    therefore always raised here, where the route can turn it into a message.

    :raise 400: ``fmt`` is not in :data:`FORMATS` (``abort(400)`` with an Italian description).
    :raise ExportTooLarge: see :func:`write_export`.
    """
    from flask import Response, abort

    if fmt not in FORMATS:
        abort(400, description=f"Formato di esportazione non supportato: {fmt}")
    generated_at = generated_at or datetime.now(UTC)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX)  # noqa: SIM115 - closed by the body
    try:
        for chunk in write_export(rows, spec, fmt, generated_at=generated_at, pdf_max_rows=pdf_max_rows):
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    headers = {
        "Content-Disposition": f'attachment; filename="{export_filename(spec, fmt, generated_at)}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Length": str(spool.tell()),
    }
    spool.seek(0)
    return Response(_read_and_close(spool), mimetype=MIMETYPES[fmt], headers=headers)


def _read_and_close(spool: Any) -> Iterator[bytes]:
    try:
        while chunk := spool.read(_CHUNK):
            yield chunk
    finally:
        spool.close()
