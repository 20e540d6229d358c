from datetime import date, datetime
from decimal import Decimal

from app.reports.exports import Column, ExportSpec, write_csv
from app.reports.formatting import cents_to_machine


def machine_row(row, *, escape=True):
    def text(value):
        if value is None:
            return ""
        return "'" + value if escape and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value

    created = row["created_dt"]
    return [
        text(row["code"]),
        text(row["taxpayer"]),
        "" if row["installments"] is None else str(row["installments"]),
        "" if row["amount_cents"] is None else cents_to_machine(row["amount_cents"]),
        "" if row["due_date"] is None else row["due_date"].isoformat(),
        "" if created is None else created.isoformat(timespec="seconds"),
        "" if row["rate"] is None else format(row["rate"], "f"),
    ]


def test_csv_starts_with_a_bom_and_uses_semicolons(spec, sample_rows):
    data = b"".join(write_csv(iter(sample_rows), spec))
    assert data.startswith(b"\xef\xbb\xbf")
    first_line = data[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert first_line == "Codice posizione;Contribuente;Rate;Importo;Scadenza;Creato il;Tasso"


def test_csv_round_trips_every_row_as_machine_values(spec, sample_rows, parse_csv):
    parsed = parse_csv(b"".join(write_csv(iter(sample_rows), spec)))
    assert parsed[0] == [column.header for column in spec.columns]
    assert parsed[1:] == [machine_row(row) for row in sample_rows]


def test_csv_values_are_machine_formatted(parse_csv):
    spec = ExportSpec(
        "T",
        [
            Column("a", "Importo", "money"),
            Column("d", "Data", "date"),
            Column("t", "Ora", "datetime"),
            Column("p", "Tasso", "percent"),
            Column("n", "Numero", "int"),
        ],
        "t",
    )
    rows = [(123456, date(2025, 6, 30), datetime(2025, 6, 30, 14, 5, 9, 123), Decimal("0.0525"), 1234567)]
    assert parse_csv(b"".join(write_csv(rows, spec)))[1] == [
        "1234.56",
        "2025-06-30",
        "2025-06-30T14:05:09",
        "0.0525",
        "1234567",
    ]


def test_csv_neutralises_formulas_in_text_unless_asked_not_to(spec, sample_rows, parse_csv):
    escaped = parse_csv(b"".join(write_csv(sample_rows, spec)))
    raw = parse_csv(b"".join(write_csv(sample_rows, spec, escape_formulas=False)))
    formula_row = next(i for i, row in enumerate(sample_rows, start=1) if row["taxpayer"] == "=SOMMA(A1:A2)")
    assert escaped[formula_row][1] == "'=SOMMA(A1:A2)"
    assert raw[formula_row][1] == "=SOMMA(A1:A2)"
    assert raw[1:] == [machine_row(row, escape=False) for row in sample_rows]


def test_csv_negative_amounts_are_numbers_not_escaped_text(spec, sample_rows, parse_csv):
    parsed = parse_csv(b"".join(write_csv(sample_rows, spec)))
    negatives = [
        (row, line)
        for row, line in zip(sample_rows, parsed[1:], strict=True)
        if (row["amount_cents"] or 0) < 0
    ]
    assert negatives
    for row, line in negatives:
        assert line[3] == cents_to_machine(row["amount_cents"])
        assert line[3].startswith("-")


def test_csv_totals_row_is_optional(spec, sample_rows, parse_csv, totals_of):
    without = parse_csv(b"".join(write_csv(sample_rows, spec)))
    with_totals = parse_csv(b"".join(write_csv(sample_rows, spec, include_totals=True)))
    assert len(without) == len(sample_rows) + 1
    assert with_totals[:-1] == without
    totals = totals_of(sample_rows)
    assert with_totals[-1] == [
        "Totale",
        "",
        str(totals["installments"]),
        cents_to_machine(totals["amount_cents"]),
        "",
        "",
        "",
    ]


def test_csv_streams_in_batches_without_reading_ahead(spec, row_factory):
    read = 0

    def rows():
        nonlocal read
        for row in row_factory(5000):
            read += 1
            yield row

    chunks = write_csv(rows(), spec)
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbf")
    assert read <= 1001
    rest = list(chunks)
    assert len(rest) >= 4
    assert read == 5000


def test_csv_of_no_rows_is_just_the_header(spec, parse_csv):
    assert parse_csv(b"".join(write_csv([], spec, include_totals=True))) == [
        [column.header for column in spec.columns],
        ["Totale", "", "0", "0.00", "", "", ""],
    ]
