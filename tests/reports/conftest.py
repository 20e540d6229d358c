"""Fixtures for the export tests: one fixed spec, 500 awkward rows, and a LibreOffice round trip."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.reports.exports import Column, ExportSpec, write_ods, write_xlsx
from app.reports.formatting import (
    format_date_it,
    format_datetime_it,
    format_eur,
    format_int,
    format_percent_it,
)

GENERATED_AT = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)

SPEC = ExportSpec(
    title="Posizioni da verificare",
    filename_stem="posizioni_da_verificare",
    columns=[
        Column("code", "Codice posizione"),
        Column("taxpayer", "Contribuente", width=30),
        Column("installments", "Rate", "int"),
        Column("amount_cents", "Importo", "money"),
        Column("due_date", "Scadenza", "date"),
        Column("created_dt", "Creato il", "datetime"),
        Column("rate", "Tasso", "percent"),
    ],
    totals=["installments", "amount_cents"],
)

TEXTS = [
    "Rossi Mario",
    'Società "Alfa"; S.r.l.',
    "Caffè <&> Più & C.",
    "=SOMMA(A1:A2)",
    "  doppi  spazi ",
    "riga uno\nriga due",
    "D'Annunzio Gabriele",
    "Ünïcödé ẞ € ½",
    "+39 333 1234567",
    "-meno",
    "@chiocciola",
    "tab\tinterno",
]
AMOUNTS = [0, 123456, -5, -123456, 1, 99, 100, 100_000_000, 123_456_789_012, -99, 250_075]
RATES = [Decimal("0.0525"), Decimal("0"), Decimal("1"), Decimal("0.1"), Decimal("-0.025"), Decimal("0.0001")]


def make_rows(count: int = 500) -> Iterator[dict[str, Any]]:
    """``count`` deterministic rows with accents, separators, markup, formulas, negatives and ``None``s."""
    rome_start = datetime(2025, 3, 29, 22, 30, tzinfo=UTC)  # crosses the switch to summer time
    for i in range(count):
        created = rome_start + timedelta(hours=7 * i)
        yield {
            "code": f"POS-{i:05d}",
            "taxpayer": TEXTS[i % len(TEXTS)] if i % 17 else None,
            "installments": (i * 7) % 48 - 5 if i % 13 else None,
            "amount_cents": AMOUNTS[i % len(AMOUNTS)] + i if i % 19 else None,
            "due_date": date(2024, 2, 29) + timedelta(days=(i * 37) % 900) if i % 23 else None,
            "created_dt": (created if i % 2 else created.replace(tzinfo=None)) if i % 29 else None,
            "rate": RATES[i % len(RATES)] if i % 31 else None,
        }


def expected_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {
        key: sum(row[key] for row in rows if row[key] is not None) for key in ("installments", "amount_cents")
    }


def display_row(row: dict[str, Any]) -> list[str]:
    """The row as people see it in Italian (what LibreOffice shows for the XLSX and ODS cells)."""
    return [
        row["code"],
        row["taxpayer"] or "",
        format_int(row["installments"]),
        format_eur(row["amount_cents"]),
        format_date_it(row["due_date"]),
        format_datetime_it(row["created_dt"]),
        format_percent_it(row["rate"]),
    ]


@pytest.fixture(scope="session")
def spec() -> ExportSpec:
    return SPEC


@pytest.fixture
def sample_rows() -> list[dict[str, Any]]:
    return list(make_rows())


@pytest.fixture(scope="session")
def display() -> Callable[[dict[str, Any]], list[str]]:
    return display_row


@pytest.fixture(scope="session")
def totals_of() -> Callable[[list[dict[str, Any]]], dict[str, int]]:
    return expected_totals


@pytest.fixture(scope="session")
def generated_at() -> datetime:
    return GENERATED_AT


@pytest.fixture(scope="session")
def row_factory() -> Callable[[int], Iterator[dict[str, Any]]]:
    return make_rows


def libreoffice_to_csv(files: list[Path], outdir: Path) -> dict[str, list[list[str]]]:
    """Convert spreadsheets to CSV with headless LibreOffice, cells "as shown" in Italian.

    One LibreOffice run converts every file (it takes seconds to start). The private profile avoids the lock
    of a shared one; ``LC_ALL=it_IT.UTF-8`` makes LibreOffice format numbers and dates the Italian way.
    """
    profile = Path("/tmp") / f"lo_profile_{uuid.uuid4().hex}"
    # Tokens: separator ",", quote '"', UTF-8, from line 1, no column formats, Italian, ..., cells as shown.
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,1040,false,true,true,false"
    command = [
        "libreoffice",
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        csv_filter,
        "--outdir",
        str(outdir),
        *map(str, files),
    ]
    env = {**os.environ, "LC_ALL": "it_IT.UTF-8", "LANG": "it_IT.UTF-8"}
    try:
        done = subprocess.run(command, capture_output=True, timeout=180, env=env, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    converted = {}
    for file in files:
        target = outdir / f"{file.stem}.csv"
        assert target.exists(), f"LibreOffice did not convert {file.name}: {done.stdout!r} {done.stderr!r}"
        with target.open(encoding="utf-8", newline="") as handle:
            converted[file.suffix.lstrip(".")] = list(csv.reader(handle))
    return converted


@pytest.fixture(scope="session")
def libreoffice_csv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[str]]]:
    """The 500 sample rows as XLSX and ODS, read back through LibreOffice: ``{"xlsx": rows, "ods": rows}``."""
    if shutil.which("libreoffice") is None:
        pytest.skip("LibreOffice is not installed")
    folder = tmp_path_factory.mktemp("libreoffice")
    xlsx = folder / "sample_xlsx.xlsx"
    ods = folder / "sample_ods.ods"
    xlsx.write_bytes(b"".join(write_xlsx(make_rows(), SPEC, generated_at=GENERATED_AT)))
    ods.write_bytes(b"".join(write_ods(make_rows(), SPEC, generated_at=GENERATED_AT)))
    outdir = folder / "csv"
    outdir.mkdir()
    return libreoffice_to_csv([xlsx, ods], outdir)


@pytest.fixture
def parse_csv() -> Callable[[bytes], list[list[str]]]:
    def parse(data: bytes) -> list[list[str]]:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))

    return parse


@pytest.fixture
def reports_queue(app: Any) -> Iterator[Any]:
    """The "reports" RQ queue, emptied before and after the test (the export jobs' tests)."""
    from app.core.jobs import queue

    with app.app_context():
        q = queue("reports")
        q.empty()
    yield q
    with app.app_context():
        q.empty()
