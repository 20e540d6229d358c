"""Exports of the seeded positions in every format open in LibreOffice and hold the screen's rows and
totals."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
import sqlalchemy as sa
from lxml import etree

from app.reports.formatting import format_eur

LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


def screen_rows(app, persona_enti: list[str]) -> list[dict]:
    """What the position list screen shows (all pages) for a user of these enti."""
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.extensions import db
    from app.positions.amounts import today_rome, with_amount_due
    from app.positions.queries import position_rows_stmt

    with app.app_context():
        ids = frozenset(db.session.scalars(sa.select(Ente.id).where(Ente.code.in_(persona_enti))))
        rows = (dict(r) for r in db.session.execute(position_rows_stmt(Principal("regione", ids))).mappings())
        return list(with_amount_due(db.session, rows, today_rome()))  # the amount due, interest included


def libreoffice_to_csv(tmp_path: Path, name: str, content: bytes) -> list[list[str]]:
    """Convert with LibreOffice (raw values, ';'-separated, UTF-8): proves the file opens there."""
    assert LIBREOFFICE, "LibreOffice is required: `make test` installs it"
    source = tmp_path / name
    source.write_bytes(content)
    profile = f"file:///tmp/esattoria-lo-{uuid.uuid4().hex}"
    subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,false,false",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    text = (tmp_path / (source.stem + ".csv")).read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def cents(text: str) -> int:
    return int((Decimal(text.replace(",", ".")) * 100).to_integral_value())


@pytest.fixture(scope="module")
def expected(app) -> dict:
    rows = screen_rows(app, ["R01"])
    return {
        "ids": sorted(r["id_posizione"] for r in rows),
        "due": sum(r["due_cents"] for r in rows),
        "paid": sum(r["paid_cents"] for r in rows),
        "original": sum(r["original_cents"] for r in rows),
    }


def test_csv_export(personas, expected) -> None:
    response = personas.client("regione").get("/posizioni/esporta.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header, body = rows[0], [r for r in rows[1:] if r and r[0] != "Totale"]
    assert sorted(r[header.index("Id posizione")] for r in body) == expected["ids"]
    assert sum(cents(r[header.index("Dovuto")]) for r in body) == expected["due"]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_spreadsheet_exports_open_in_libreoffice(personas, expected, tmp_path, fmt) -> None:
    response = personas.client("regione").get(f"/posizioni/esporta.{fmt}")
    assert response.status_code == 200
    rows = libreoffice_to_csv(tmp_path, f"posizioni.{fmt}", response.get_data())
    header_at = next(i for i, r in enumerate(rows) if "Id posizione" in r)
    header = rows[header_at]
    body = [r for r in rows[header_at + 1 :] if r and r[header.index("Id posizione")]]
    assert sorted(r[header.index("Id posizione")] for r in body) == expected["ids"]
    assert sum(cents(r[header.index("Dovuto")]) for r in body) == expected["due"]
    total_row = next(r for r in rows[header_at + 1 :] if "Totale" in r)
    assert cents(total_row[header.index("Dovuto")]) == expected["due"]


def test_pdf_export(personas, expected, tmp_path) -> None:
    response = personas.client("regione").get("/posizioni/esporta.pdf")
    assert response.status_code == 200 and response.get_data()[:5] == b"%PDF-"
    pdf = pypdfium2.PdfDocument(response.get_data())
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Posizioni debitorie" in text
    assert format_eur(expected["due"]).replace("\xa0", " ") in text.replace("\xa0", " ")
    for external in expected["ids"][:5]:
        assert external in text
    converted = libreoffice_check_pdf(tmp_path, response.get_data())
    assert converted


def libreoffice_check_pdf(tmp_path: Path, content: bytes) -> bool:
    """pdftotext (poppler) reads the PDF as a second, independent reader."""
    path = tmp_path / "p.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "Posizioni debitorie" in out


def test_xml_export(personas, expected) -> None:
    response = personas.client("regione").get("/posizioni/esporta.xml")
    root = etree.fromstring(
        response.get_data(), parser=etree.XMLParser(resolve_entities=False, no_network=True)
    )
    schema = etree.XMLSchema(
        etree.parse(str(Path(__file__).resolve().parents[2] / "templates/exports/export.xsd"))
    )
    schema.assertValid(root)
    values = [dict((f.get("name"), f.text) for f in row) for row in root.iter("{*}row")] or [
        dict((f.get("name"), f.text) for f in row) for row in root.iter("row")
    ]
    assert sorted(v["id_posizione"] for v in values) == expected["ids"]
    assert sum(cents(v["due_cents"]) for v in values) == expected["due"]


def test_card_export_matches_the_card_totals(app, personas, tmp_path) -> None:
    from app.demo.seed import MARIO_ROSSI_CF
    from tests.test_access import taxpayer_id

    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
    client = personas.client("sportello")
    card = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    rows = libreoffice_to_csv(
        tmp_path, "scheda.xlsx", client.get(f"/contribuenti/{mario}/posizioni.xlsx").get_data()
    )
    header_at = next(i for i, r in enumerate(rows) if "Dovuto" in r)
    total_row = next(r for r in rows[header_at + 1 :] if "Totale" in r)
    due = cents(total_row[rows[header_at].index("Dovuto")])
    assert f'data-testid="card-total-due">{format_eur(due)}<' in card
