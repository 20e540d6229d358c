from datetime import date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from app.reports.exports import XSD_PATH, Column, ExportSpec, write_xml
from app.reports.formatting import money_to_cents


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


PARSERS = {
    "text": str,
    "int": int,
    "money": lambda text: money_to_cents(Decimal(text)),
    "date": date.fromisoformat,
    "datetime": datetime.fromisoformat,
    "percent": Decimal,
}


def read_back(document):
    """The rows of an XML export as dicts of Python values, using the declared column kinds."""
    kinds = {column.get("key"): column.get("kind") for column in document.find("columns")}
    rows = []
    for row in document.find("rows"):
        values = dict.fromkeys(kinds)
        for field in row:
            assert field.tag == kinds[field.get("name")], "the element is named after the column kind"
            values[field.get("name")] = PARSERS[field.tag](field.text or "")
        rows.append(values)
    return rows


def test_xml_validates_against_the_published_xsd(schema, spec, sample_rows, generated_at):
    data = b"".join(write_xml(iter(sample_rows), spec, generated_at=generated_at))
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    document = etree.fromstring(data)
    schema.assertValid(document)
    assert document.get("title") == "Posizioni da verificare"
    assert document.get("generated_at") == "2025-06-30T12:00:00+00:00"
    assert [(c.get("key"), c.get("kind"), c.get("header")) for c in document.find("columns")] == [
        (column.key, column.kind, column.header) for column in spec.columns
    ]


def test_xml_round_trips_every_value(spec, sample_rows):
    document = etree.fromstring(b"".join(write_xml(iter(sample_rows), spec)))
    assert read_back(document) == sample_rows


def test_xml_amounts_and_dates_are_machine_formatted(spec, sample_rows):
    document = etree.fromstring(b"".join(write_xml(sample_rows[:12], spec)))
    amounts = [field.text for field in document.iterfind("rows/row/money")]
    assert "1234.57" in amounts  # 123456 cents + 1
    assert "-0.03" in amounts  # -5 cents + 2
    assert all(len(a.rsplit(".", 1)[1]) == 2 for a in amounts)
    assert document.find("rows/row/date").text == "2024-04-06"


def test_xml_totals(spec, sample_rows, totals_of):
    document = etree.fromstring(b"".join(write_xml(sample_rows, spec)))
    totals = totals_of(sample_rows)
    assert [(f.tag, f.get("name")) for f in document.find("totals")] == [
        ("int", "installments"),
        ("money", "amount_cents"),
    ]
    assert int(document.find("totals/int").text) == totals["installments"]
    assert money_to_cents(Decimal(document.find("totals/money").text)) == totals["amount_cents"]


def test_xml_without_totals_has_no_totals_element(schema):
    spec = ExportSpec("T", [Column("a", "A")], "t")
    document = etree.fromstring(b"".join(write_xml([("x",)], spec)))
    schema.assertValid(document)
    assert document.find("totals") is None


def test_xml_drops_characters_xml_cannot_carry(schema):
    spec = ExportSpec("Titolo\x0b", [Column("a", "Testo\x01")], "t")
    document = etree.fromstring(b"".join(write_xml([("nul\x00 bell\x07 ok\r\n",)], spec)))
    schema.assertValid(document)
    assert document.get("title") == "Titolo"
    assert document.find("columns/column").get("header") == "Testo"
    assert document.find("rows/row/text").text == "nul bell ok\r\n"


def test_the_schema_rejects_a_badly_formatted_amount(schema, spec, sample_rows):
    document = etree.fromstring(b"".join(write_xml(sample_rows[:3], spec)))
    document.find("rows/row/money").text = "1234,56"
    assert not schema.validate(document)


def test_the_schema_rejects_a_value_for_an_undeclared_column(schema, spec, sample_rows):
    document = etree.fromstring(b"".join(write_xml(sample_rows[:3], spec)))
    document.find("rows/row/money").set("name", "nope")
    assert not schema.validate(document)


def test_xml_streams_in_batches(spec, row_factory):
    read = 0

    def rows():
        nonlocal read
        for row in row_factory(3500):
            read += 1
            yield row

    chunks = write_xml(rows(), spec)
    first = next(chunks)
    assert first.startswith(b"<?xml") and read <= 1000
    assert len(list(chunks)) >= 3
    assert read == 3500
