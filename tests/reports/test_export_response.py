import io
import zipfile
from datetime import UTC, datetime

import pytest
from flask import Flask, g

from app.reports.exports import (
    FORMAT_LABELS,
    FORMATS,
    MIMETYPES,
    ExportTooLarge,
    UnknownExportFormat,
    export_filename,
    export_response,
    write_export,
)

LATE_EVENING = datetime(2025, 6, 30, 22, 30, tzinfo=UTC)  # already 1 July in Italy


@pytest.fixture
def client(spec, row_factory):
    app = Flask(__name__)
    app.config["TESTING"] = True

    def rows_needing_the_request_context(count):
        # Stands for a query on the request's database session: it needs the context while streaming.
        for row in row_factory(count):
            assert g.export_marker == "set in the view"
            yield row

    @app.get("/export/<fmt>")
    def export(fmt):
        g.export_marker = "set in the view"
        return export_response(rows_needing_the_request_context(1500), spec, fmt, generated_at=LATE_EVENING)

    @app.get("/export-pdf-capped")
    def export_pdf_capped():
        try:
            return export_response(row_factory(50), spec, "pdf", pdf_max_rows=10)
        except ExportTooLarge as error:
            return str(error), 413

    return app.test_client()


def test_formats_have_labels_and_mimetypes():
    assert FORMATS == ("csv", "xlsx", "ods", "odt", "pdf", "xml")
    assert list(FORMAT_LABELS) == list(FORMATS)
    assert set(MIMETYPES) == set(FORMATS)


@pytest.mark.parametrize(
    ("fmt", "content_type", "magic"),
    [
        ("csv", "text/csv; charset=utf-8", b"\xef\xbb\xbfCodice posizione;"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("ods", "application/vnd.oasis.opendocument.spreadsheet", b"PK\x03\x04"),
        ("pdf", "application/pdf", b"%PDF-"),
        ("xml", "application/xml; charset=utf-8", b"<?xml"),
    ],
)
def test_export_response_downloads_each_format(client, fmt, content_type, magic):
    response = client.get(f"/export/{fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="posizioni_da_verificare_20250701.{fmt}"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(magic)


def test_spreadsheet_downloads_are_complete_zips(client):
    for fmt in ("xlsx", "ods"):
        package = zipfile.ZipFile(io.BytesIO(client.get(f"/export/{fmt}").data))
        assert package.testzip() is None


def test_csv_download_streams_all_rows(client):
    response = client.get("/export/csv")
    assert response.is_streamed
    lines = response.data.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("Codice posizione;")
    assert sum(line.startswith("POS-") for line in lines) == 1500


def test_unknown_format_is_a_bad_request(client):
    response = client.get("/export/docx")
    assert response.status_code == 400
    assert "Formato di esportazione non supportato" in response.get_data(as_text=True)


def test_too_large_pdf_is_raised_before_the_response_starts(client):
    response = client.get("/export-pdf-capped")
    assert response.status_code == 413
    assert response.get_data(as_text=True) == "Troppe righe per il PDF (oltre 10): usare CSV o XLSX"


def test_write_export_needs_no_app_and_checks_the_format_at_once(spec, row_factory):
    with pytest.raises(UnknownExportFormat):
        write_export(row_factory(1), spec, "docx")
    assert b"".join(write_export(row_factory(3), spec, "csv")).count(b"POS-") == 3


def test_export_filename_uses_the_italian_date(spec):
    assert export_filename(spec, "xlsx", LATE_EVENING) == "posizioni_da_verificare_20250701.xlsx"
