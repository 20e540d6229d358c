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
