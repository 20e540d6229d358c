"""ODT (a report document): the package LibreOffice opens, the title, the rows as Italian text with a "Totale"
row, the row count, and the cap beyond which a document is refused in Italian."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from app.reports.export_formats.odt_writer import write_odt
from app.reports.exports import Column, ExportSpec, ExportTooLarge, write_export
from tests.reports.readers import column_values

SPEC = ExportSpec(
    title="Posizioni <aperte> & chiuse",
    filename_stem="posizioni",
    columns=[
        Column("name", "Contribuente"),
        Column("amount", "Dovuto", "money"),
        Column("due", "Scadenza", "date"),
        Column("state", "Stato", labels={"aperta": "Aperta", "pagata": "Pagata"}),
    ],
    totals=["amount"],
)
ROWS = [
    {"name": "Rossi  Mario", "amount": 123456, "due": dt.date(2026, 12, 31), "state": "aperta"},
    {"name": "Bianchi & figli", "amount": 5, "due": None, "state": "pagata"},
]


def test_the_package_starts_with_its_stored_mimetype_and_reads_back_as_a_table():
    data = b"".join(write_export(iter(ROWS), SPEC, "odt"))
    assert data[30:38] == b"mimetype" and data[38:77] == b"application/vnd.oasis.opendocument.text"
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    # the reader does not expand <text:s/> (kept spaces): LibreOffice's reading below checks them
    assert column_values("odt", data, "Contribuente", "name") == ["Rossi Mario", "Bianchi & figli"]
    assert column_values("odt", data, "Dovuto", "amount") == ["1.234,56 €", "0,05 €"]
    assert column_values("odt", data, "Stato", "state") == ["Aperta", "Pagata"]


def test_libreoffice_opens_it_and_reads_title_rows_total_and_count(tmp_path: Path):
    source = tmp_path / "report.odt"
    source.write_bytes(b"".join(write_odt(iter(ROWS), SPEC)))
    subprocess.run(  # noqa: S603 - fixed arguments, a file the test wrote
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "txt:Text",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = (tmp_path / "report.txt").read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "Posizioni <aperte> & chiuse"
    assert lines[1].startswith("Prodotto il ")
    for expected in (
        "Rossi  Mario",
        "1.234,56 €",
        "31/12/2026",
        "Aperta",
        "Bianchi & figli",
        "Totale",
        "1.234,61 €",
    ):
        assert expected in lines, expected
    assert lines[-1] == "2 righe."


def test_a_document_past_its_cap_is_refused_in_italian_before_any_byte():
    rows = ({"name": f"R{i}", "amount": i, "due": None, "state": "aperta"} for i in range(11))
    with pytest.raises(ExportTooLarge, match=r"Troppe righe per il ODT \(oltre 10\): usare CSV, XLSX o ODS"):
        b"".join(write_odt(rows, SPEC, max_rows=10))
