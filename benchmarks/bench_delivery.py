"""Delivery's pure hot paths (no database): a print batch of N two-page acts (address pre-check, PDFs merged
with pikepdf, CSV + XML manifest, ZIP), the reading of an outcome file of 100 x N lines, and the rendering of
N / 10 postal messages' letters (Typst, app/crm/messages/postal.py: what a rules run sending by post adds per
message).

    python benchmarks/bench_delivery.py [--n 1000]

Last line: JSON with acts_per_s, lines_per_s and letters_per_s."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import time
from types import SimpleNamespace

import pikepdf

from app.atti.delivery.addresses import PostalAddress
from app.atti.delivery.outcomes_file import read_outcomes
from app.atti.delivery.printflow import PrintItem, build_batch, precheck
from app.crm.messages.postal import letter_data, render_letter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    n = parser.parse_args().n
    doc = pikepdf.Pdf.new()
    doc.add_blank_page()
    doc.add_blank_page()
    out = io.BytesIO()
    doc.save(out)
    pdf = out.getvalue()
    address = PostalAddress("Via Roma 1", "00184", "Roma", "RM")
    items = [
        PrintItem(i, f"R01-2026-{i:07d}", "RSSMRA80A01H501U", "Mario Rossi", address, pdf)
        for i in range(1, n + 1)
    ]
    start = time.perf_counter()
    good, _ = precheck(items)
    built = build_batch("R01-20261203-001", good, dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    batch_s = time.perf_counter() - start
    lines = 100 * n
    data = (
        "id_atto;esito;data_esito;data_cad\n"
        + "".join(f"{i};compiuta_giacenza;2026-12-20;2026-12-05\n" for i in range(1, lines + 1))
    ).encode()
    start = time.perf_counter()
    read_outcomes(data)
    read_s = time.perf_counter() - start
    letters = max(1, n // 10)
    body = "Gentile Mario Rossi,\n\n" + "le comunichiamo quanto segue. " * 30 + "\n\nRegione di esempio"
    ente = SimpleNamespace(name="Regione di esempio", codice_fiscale="80000000001")
    on = dt.date(2026, 12, 3)
    render_letter(
        letter_data(
            ente=ente,
            name="Mario Rossi",
            address=address,
            protocol="R01-2026-0000000",
            on=on,
            subject="Promemoria",
            body=body,
        )
    )  # fonts loaded once, as in a worker
    start = time.perf_counter()
    for i in range(1, letters + 1):
        data = letter_data(
            ente=ente,
            name="Mario Rossi",
            address=address,
            protocol=f"R01-2026-{i:07d}",
            on=on,
            subject="Promemoria",
            body=body,
        )
        render_letter(data)
    letters_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "acts": n,
                "batch_seconds": round(batch_s, 2),
                "acts_per_s": round(n / batch_s, 1),
                "zip_mb": round(len(built.zip_bytes) / 1e6, 2),
                "outcome_lines": lines,
                "read_seconds": round(read_s, 2),
                "lines_per_s": round(lines / read_s, 1),
                "letters": letters,
                "letters_seconds": round(letters_s, 2),
                "letters_per_s": round(letters / letters_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
