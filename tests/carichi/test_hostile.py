"""Hostile inputs are refused with a clear Italian error and nothing is kept (the job records the refusal)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
import sqlalchemy as sa

from app.carichi.models import Carico
from app.extensions import db
from app.positions.models import Position
from app.taxpayers.models import Taxpayer
from tests.carichi.support import csv_bytes, errors_of, row, run_file, xlsx_bytes, xml_bytes


def _counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Carico, Position, Taxpayer)
    )


def _refused(app, content: bytes, *, layout: str | None = None, name: str = "file.csv") -> tuple[str, list]:
    before = _counts()
    job = run_file(app, content, layout=layout, name=name)
    assert job.status == "failed" and job.result["status"] == "rifiutato", job.result
    assert _counts() == before  # nothing kept
    return job.error_message, errors_of(job.id)


def _zip_bomb() -> bytes:
    """A structurally valid XLSX whose sheet expands ~1000 times (50 MB of zeros)."""
    buffer = io.BytesIO(xlsx_bytes([row(1)]))
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with target.open(item.filename, "w") as member:
                    chunk = b"0" * (1 << 20)
                    for _ in range(50):
                        member.write(chunk)
            else:
                target.writestr(item, source.read(item.filename))
    return out.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_decompressing(ctx) -> None:
    bomb = _zip_bomb()
    assert len(bomb) < 1024 * 1024
    message, errors = _refused(ctx, bomb, layout="canonico-xlsx", name="bomba.xlsx")
    assert "zip bomb" in message and "xl/worksheets/sheet1.xml" in message
    assert errors[0][2] == message


@pytest.mark.parametrize(
    "prolog",
    [
        pytest.param(
            '<!DOCTYPE lista_di_carico [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', id="external-entity"
        ),
        pytest.param(
            '<!DOCTYPE lista_di_carico [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
            id="billion-laughs",
        ),
    ],
)
def test_xml_with_entities_is_refused(ctx, prolog: str) -> None:
    content = xml_bytes([row(1, cognome="&xxe;" if "xxe" in prolog else "&lol3;")], prolog=prolog)
    content = content.replace(b"&amp;", b"&")
    message, _ = _refused(ctx, content, layout="canonico-xml", name="entita.xml")
    assert "DOCTYPE" in message and "non è ammessa" in message


def test_a_csv_with_a_10_mb_line_is_refused_naming_the_line(ctx) -> None:
    content = csv_bytes([row(1)]) + b"A" * (10 * 1024 * 1024) + b"\n" + csv_bytes([row(2)]).split(b"\n", 1)[1]
    message, errors = _refused(ctx, content)
    assert message.startswith("La riga 3 supera la lunghezza massima consentita (65.536 byte)")
    assert errors[0][0] == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "un'immagine PNG", id="png"),
        pytest.param(b"PK\x03\x04" + os.urandom(2000), "un archivio ZIP", id="zip"),
        pytest.param(b"%PDF-1.7\n" + os.urandom(2000), "un documento PDF", id="pdf"),
        pytest.param(
            b"id_posizione;codice_fiscale\n" + bytes(range(256)) * 8,
            "dati binari (byte nullo alla riga 2)",
            id="nul-bytes",
        ),
    ],
)
def test_a_binary_file_renamed_csv_is_refused_by_its_content(ctx, content: bytes, expected: str) -> None:
    message, _ = _refused(ctx, content, name="dati.csv")
    assert expected in message


def test_an_xlsx_renamed_csv_is_refused_as_an_archive(ctx) -> None:
    message, _ = _refused(ctx, xlsx_bytes([row(1)]), name="lista.csv")
    assert "il contenuto è un archivio ZIP (ad esempio un file Excel XLSX" in message


def test_an_empty_file_is_refused(ctx) -> None:
    message, _ = _refused(ctx, b"")
    assert message == "Il file è vuoto."


def test_a_header_only_file_is_refused(ctx) -> None:
    message, _ = _refused(ctx, csv_bytes([]))
    assert message == "Il file non contiene righe da caricare."


# --- issue 10 point 8: XLSX in bounded memory --------------------------------------------------------------


def test_an_xlsx_whose_shared_strings_inflate_hugely_is_refused_in_bounded_memory(tmp_path) -> None:
    """2.7 MB inflating to ~300 MB of shared strings, compression ratio ~115 (under the 200 limit): openpyxl
    loaded every string (+338 MB); now refused from the archive's directory, before any parsing."""
    from tests.carichi.xlsx_bomb import read_in_subprocess, write_xlsx

    bomb = write_xlsx(tmp_path / "bomba.xlsx", big_strings=300_000)
    assert bomb.stat().st_size < 4 * 1024 * 1024
    with zipfile.ZipFile(bomb) as archive:
        member = archive.getinfo("xl/sharedStrings.xml")
        assert member.file_size > 256 * 1024**2 and member.file_size / member.compress_size < 200
    out = read_in_subprocess(bomb)
    assert out["message"] == (
        "Il file XLSX è stato rifiutato: l'elemento «xl/sharedStrings.xml» decompresso occuperebbe 297 MB "
        "(limite 256 MB)."
    )
    assert out["growth_mb"] < 100, out


def test_an_xlsx_lying_about_its_sizes_is_refused_in_bounded_memory(tmp_path) -> None:
    """The directory declares 1 MB for a shared strings table that inflates to ~100 MB: every check on the
    declared sizes passes, the reading stops at the declared size and refuses the file (in Italian)."""
    from tests.carichi.xlsx_bomb import declare_size, read_in_subprocess, write_xlsx

    bomb = write_xlsx(tmp_path / "bugiardo.xlsx", big_strings=100_000, zip64=False)
    declare_size(bomb, "xl/sharedStrings.xml", 1024 * 1024)
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size == 1024 * 1024
    out = read_in_subprocess(bomb)
    assert out["message"] == "Il file XLSX non è leggibile (archivio ZIP danneggiato).", out
    assert out["growth_mb"] < 50, out


def test_a_large_shared_strings_table_under_the_limit_is_read_in_bounded_memory(tmp_path) -> None:
    """~150 MB of shared strings, accepted: streamed to a temporary file, looked up by index (openpyxl's list
    took +168 MB)."""
    from tests.carichi.xlsx_bomb import big_text, read_in_subprocess, write_xlsx

    path = write_xlsx(tmp_path / "grande.xlsx", big_strings=150_000, rows=3000)
    out = read_in_subprocess(path)
    assert out["message"] is None and out["rows"] == 3000
    assert out["last"] == big_text(2999)[:8]
    assert out["growth_mb"] < 50, out  # 7 MB measured (openpyxl's list: 118-168 MB)


def test_an_unreadable_xlsx_is_refused_in_italian_without_the_server_path(ctx, store) -> None:
    """openpyxl's message names the stored file's absolute path ("could not read workbook from /srv/...")."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes([row(1)]))) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data[: len(data) // 2]  # broken XML
            target.writestr(item, data)
    message, errors = _refused(ctx, buffer.getvalue(), layout="canonico-xlsx", name="rotto.xlsx")
    assert message == "Il file XLSX non è leggibile (contenuto XML non valido)."
    assert str(store) not in message and "/" not in message
    assert all(str(store) not in (e[2] or "") for e in errors)


def test_a_utf32_file_is_called_utf32(ctx) -> None:
    content = b"\xff\xfe\x00\x00" + csv_bytes([row(1)]).decode().encode("utf-32-le")
    message, _ = _refused(ctx, content, name="utf32.csv")
    assert "un testo UTF-32 (little endian), non supportato" in message


def _xlsx_with(change) -> bytes:
    """The canonical XLSX of one row with each member passed through `change(name, data)` (None drops it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes([row(1)]))) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = change(item.filename, source.read(item.filename))
            if data is not None:
                target.writestr(item, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda n, d: None if n.endswith("sheet1.xml") else d,
            "Il file XLSX non contiene fogli di lavoro.",
            id="no-sheet",
        ),
        pytest.param(
            lambda n, d: d[: len(d) // 2] if n.endswith("sharedStrings.xml") else d,
            "Il file XLSX è danneggiato: la tabella dei testi (xl/sharedStrings.xml) non è XML valido",
            id="broken-shared-strings",
        ),
        pytest.param(
            lambda n, d: b"<x" if n.endswith("styles.xml") else d,
            "Il file XLSX non è leggibile (contenuto XML non valido).",
            id="broken-styles",
        ),
    ],
)
def test_a_broken_xlsx_is_refused_in_italian_not_an_internal_error(ctx, store, change, expected) -> None:
    message, _ = _refused(ctx, _xlsx_with(change), layout="canonico-xlsx", name="rotto.xlsx")
    assert message.startswith(expected) and str(store) not in message


def test_a_quoted_field_beyond_the_csv_limit_rejects_its_row_in_italian(ctx) -> None:
    """Three 60 KB lines (each under the line limit) inside one quoted field: the csv module's English
    "field larger than field limit (131072)" was the row's reason."""
    field = "\n".join(["Y" * 60_000] * 3)
    content = csv_bytes([row(1), row(2)]).replace(b"TEST-000002", f'"{field}"'.encode(), 1)
    job = run_file(ctx, content)
    (error,) = errors_of(job.id)
    assert error[0] == 3
    assert error[2] == "riga CSV malformata: un campo supera 131.072 caratteri (virgolette non chiuse?)"


def test_a_sheet_beyond_excels_last_row_is_refused(ctx) -> None:
    import re

    def move_row_2(name: str, data: bytes) -> bytes:
        if not name.endswith("sheet1.xml"):
            return data
        data = re.sub(rb'r="([A-Z]+)2"', rb'r="\g<1>1048577"', data)
        data = re.sub(rb'<dimension ref="A1:([A-Z]+)2"', rb'<dimension ref="A1:\g<1>1048577"', data)
        return data.replace(b'<row r="2"', b'<row r="1048577"')

    message, errors = _refused(ctx, _xlsx_with(move_row_2), layout="canonico-xlsx", name="lunghissimo.xlsx")
    assert message == "Il foglio supera il numero massimo di righe di Excel (1.048.576): riga 1.048.577."
    assert errors[0][0] == 1048577


@pytest.mark.parametrize(
    ("codec", "bom", "name"),
    [("utf-32-le", b"\xff\xfe\x00\x00", "little endian"), ("utf-32-be", b"\x00\x00\xfe\xff", "big endian")],
)
def test_a_utf32_xml_is_called_utf32(ctx, codec, bom, name) -> None:
    content = bom + xml_bytes([row(1)]).decode().encode(codec)
    message, _ = _refused(ctx, content, layout="canonico-xml", name="utf32.xml")
    assert message == f"Il file XML è un testo UTF-32 ({name}), non supportato: salvarlo in UTF-8."
