"""Payment files: the canonical CSV of formats.md §2 and bank/postal layouts (tracciati)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.payments.models import Payment, PaymentFlow, PaymentLayout
from app.payments.parsing import FlowRefused, detect_format, parse_amount
from app.payments.services import import_flow
from app.positions.models import Position
from tests.payments.support import ACTOR, CSV_HEADER, SAMPLES, csv_file, euro, open_positions


@pytest.mark.parametrize(
    "text,cents",
    [
        ("1234,56", 123456),
        ("1234.56", 123456),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("12,5", 1250),
        ("7", 700),
        ("1.234.567", 123456700),
        ("0,01", 1),
    ],
)
def test_amounts_with_either_decimal_separator(text, cents) -> None:
    assert parse_amount(text) == cents


def test_format_detection() -> None:
    assert detect_format((SAMPLES / "fdr_1_0_5.xml").read_bytes()) == "fdr"
    assert detect_format(b"\xef\xbb\xbf  <?xml version='1.0'?><a/>") == "fdr"
    assert detect_format(csv_file()) == "csv"


def test_canonical_csv_matched_by_codice_avviso_with_bom_and_italian_dates(session) -> None:
    a, b = open_positions(session, 2)
    data = b"\xef\xbb\xbf" + csv_file(
        f"BP-1;18/11/2026;19/11/2026;{euro(a.due)};{a.notice};;bollo;bollettino",
        f"BP-2;2026-11-18;;{b.due / 100:.2f};{b.notice};{b.codice_fiscale};;",
    )
    summary = import_flow(
        session, data, ACTOR, fmt="csv"
    )  # the ente comes from the notices' segregation code
    assert summary.as_json()["matched"] == 2 and summary.total_cents == a.due + b.due
    flow = session.get(PaymentFlow, summary.flow_id)
    assert flow.report["encoding"] == "utf-8-bom" and flow.ente.code == "R01"
    p2 = session.scalars(sa.select(Payment).where(Payment.external_id == "BP-2")).one()
    assert p2.channel == "bonifico" and p2.value_date == p2.paid_date  # defaults from the layout


def test_windows_1252_is_detected_and_reported(session) -> None:
    (p,) = open_positions(session)
    data = (
        csv_file(f"W-1;2026-11-18;;{euro(p.due)};{p.notice};;Città di Forlì;bonifico")
        .decode()
        .encode("cp1252")
    )
    summary = import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    flow = session.get(PaymentFlow, summary.flow_id)
    assert flow.report["encoding"] == "cp1252"
    assert (
        session.scalars(sa.select(Payment.causale).where(Payment.external_id == "W-1")).one()
        == "Città di Forlì"
    )


def test_duplicate_id_pagamento_in_the_file_and_across_files(session) -> None:
    (p,) = open_positions(session)
    first = import_flow(
        session,
        csv_file(f"D-1;2026-11-18;;10,00;{p.notice};;;", f"D-1;2026-11-18;;10,00;{p.notice};;;"),
        ACTOR,
        fmt="csv",
        ente_code="R01",
        file_name="a.csv",
    )
    assert (first.payments, first.duplicates, first.total_cents) == (1, 1, 2000)
    second = import_flow(
        session,
        csv_file(f"D-1;2026-11-18;;10,00;{p.notice};;;", f"D-2;2026-11-18;;5,00;{p.notice};;;"),
        ACTOR,
        fmt="csv",
        ente_code="R01",
        file_name="b.csv",
    )
    assert (second.payments, second.duplicates, second.matched) == (1, 1, 1)
    flow = session.get(PaymentFlow, second.flow_id)
    assert flow.duplicates == 1 and flow.report["duplicates"][0]["key"] == "D-1"


def test_the_same_file_twice_is_refused(session) -> None:
    (p,) = open_positions(session)
    data = csv_file(f"S-1;2026-11-18;;10,00;{p.notice};;;")
    import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    with pytest.raises(FlowRefused, match="già importato"):
        import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")


def test_invalid_codice_avviso_and_cf_are_warnings_not_errors(session) -> None:
    data = csv_file("V-1;2026-11-18;;10,00;301000000000000099;RSSMRA80A01H501X;;")
    summary = import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    assert summary.unmatched == 1 and {w["column"] for w in summary.warnings} == {
        "codice_avviso",
        "codice_fiscale",
    }


def test_bank_layout(session) -> None:
    (p,) = open_positions(session)
    data = (
        "Data operazione;Data valuta;Importo;Causale;Riferimento operazione;Codice fiscale ordinante;Saldo\n"
        f"18/11/2026;19/11/2026;{euro(p.due)};BOLLO AUTO AVVISO {p.notice};CRO0001;"
        f"{p.codice_fiscale};999,00\n"
    ).encode()
    summary = import_flow(session, data, ACTOR, fmt="csv", layout="banca-csv", ente_code="R01")
    assert summary.matched == 1
    payment = session.scalars(sa.select(Payment).where(Payment.external_id == "CRO0001")).one()
    assert payment.source_key == "csv:banca-csv" and payment.notice_number == p.notice


def test_postal_fixed_width_layout(session) -> None:
    (p,) = open_positions(session)

    def record(kind: str, body: str) -> str:
        return (kind + body).ljust(140)

    detail = (
        "BP00000000000123"
        + "20261118"
        + "20261119"
        + f"{p.due:012d}"
        + p.notice
        + p.codice_fiscale.ljust(16)
        + "TASSA AUTO".ljust(60)
    )
    text = "\n".join([record("H", "TESTATA POSTE"), record("D", detail), record("T", "CODA")]) + "\n"
    summary = import_flow(
        session, text.encode(), ACTOR, fmt="csv", layout="poste-bollettini", ente_code="R01"
    )
    assert summary.matched == 1 and session.get(Position, p.id).state == "pagata"
    payment = session.scalars(sa.select(Payment).where(Payment.external_id == "BP00000000000123")).one()
    assert payment.channel == "bollettino postale" and payment.amount_cents == p.due


def test_a_configured_layout_row_maps_other_column_names(session) -> None:
    (p,) = open_positions(session)
    session.add(
        PaymentLayout(
            name="tesoreria-x",
            format="csv",
            separator=",",
            decimal_separator=".",
            date_formats=["AAAA-MM-GG"],
            channel="tesoreria",
            options={},
            columns={
                "id_pagamento": "ID",
                "data_pagamento": "DATA",
                "importo": "EUR",
                "codice_avviso": "AVVISO",
            },
        )
    )
    session.flush()
    data = f"ID,DATA,EUR,AVVISO\nT-1,2026-11-18,{p.due / 100:.2f},{p.notice}\n".encode()
    summary = import_flow(session, data, ACTOR, fmt="csv", layout="tesoreria-x", ente_code="R01")
    assert summary.matched == 1
    with pytest.raises(FlowRefused, match="separatore decimale"):
        import_flow(
            session,
            b'ID,DATA,EUR,AVVISO\nT-2,2026-11-18,"1,50",\n',
            ACTOR,
            fmt="csv",
            layout="tesoreria-x",
            ente_code="R01",
        )


def test_a_file_with_only_a_header_is_refused(session) -> None:
    with pytest.raises(FlowRefused, match="non contiene pagamenti"):
        import_flow(session, (CSV_HEADER + "\n").encode(), ACTOR, fmt="csv", ente_code="R01")


def test_a_missing_published_spec_fails_in_ci_and_skips_elsewhere() -> None:
    """Without ../shared a CI run fails instead of skipping the comparison of the copies."""
    import pytest

    from tests.payments.support import shared_file

    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        shared_file("data/nothing-here.xsd", environ={"CI": "true"})
    with pytest.raises(pytest.skip.Exception):
        shared_file("data/nothing-here.xsd", environ={})


def test_a_payments_layout_is_checked_before_it_is_saved() -> None:
    from app.payments.layouts import check

    base = {
        "date_formats": ["GG/MM/AAAA"],
        "format": "csv",
        "options": {},
        "columns": {"id_pagamento": "ID", "data_pagamento": "DATA", "importo": "IMPORTO"},
    }
    assert check(base) == []
    assert check({**base, "columns": {**base["columns"], "importo_lordo": "X"}}) == [
        "Campi sconosciuti: importo_lordo."
    ]
    assert check({**base, "columns": {**base["columns"], "causale": "id"}}) == [
        "Colonne associate a più campi: id."
    ]
    fixed = {
        **base,
        "format": "fixed",
        "options": {"record_length": 20},
        "columns": [
            {"field": "id_pagamento", "start": 1, "length": 10},
            {"field": "data_pagamento", "start": 8, "length": 8},
            {"field": "importo", "start": 16, "length": 8},
        ],
    }
    assert check(fixed) == [
        "importo: posizioni 16-23 fuori dal record di 20 caratteri.",
        "I campi id_pagamento e data_pagamento si sovrappongono (posizione 8).",
    ]
