from collections import namedtuple
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.reports.export_formats.spec import Totals, iter_values, sheet_name, xml_safe_text
from app.reports.exports import Column, ExportSpec, ExportTooLarge

SMALL = ExportSpec(
    title="Prova",
    filename_stem="prova",
    columns=[Column("name", "Nome"), Column("amount", "Importo", "money"), Column("day", "Giorno", "date")],
    totals=["amount"],
)


def test_column_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        Column("x", "X", "currency")


def test_column_default_width_fits_the_header():
    assert Column("x", "Un'intestazione molto lunga", "int").display_width == 29
    assert Column("x", "X", "money").display_width == 16
    assert Column("x", "X", width=7).display_width == 7


def test_spec_is_immutable_and_keeps_tuples():
    spec = ExportSpec("T", [Column("a", "A")], "t")
    assert spec.columns == (Column("a", "A"),)
    with pytest.raises(AttributeError):
        spec.title = "other"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"columns": []}, "at least one column", id="no-columns"),
        pytest.param({"columns": [Column("a", "A"), Column("a", "B")]}, "duplicated", id="duplicated-keys"),
        pytest.param({"filename_stem": "../etc/passwd"}, "filename_stem", id="path-in-stem"),
        pytest.param({"filename_stem": "posizioni aperte"}, "filename_stem", id="space-in-stem"),
        pytest.param({"filename_stem": 'a"b'}, "filename_stem", id="quote-in-stem"),
        pytest.param({"totals": ["a"]}, "not a money or int column", id="total-of-text"),
        pytest.param({"totals": ["missing"]}, "not a money or int column", id="total-of-unknown-key"),
        pytest.param({"title": "  "}, "title", id="blank-title"),
    ],
)
def test_spec_validates(kwargs, message):
    arguments = {"title": "T", "columns": [Column("a", "A"), Column("n", "N", "int")], "filename_stem": "t"}
    with pytest.raises(ValueError, match=message):
        ExportSpec(**(arguments | kwargs))


def test_rows_may_be_mappings_sequences_or_objects():
    Row = namedtuple("Row", "name amount day")

    class Position:
        name = "oggetto"
        amount = 5
        day = None

    rows = [
        {"name": "dict", "amount": 100, "day": date(2025, 1, 2), "ignored": "extra keys are fine"},
        ("tuple", -1, None),
        Row("namedtuple", Decimal("2.50"), date(2025, 1, 3)),
        Position(),
    ]
    assert list(iter_values(rows, SMALL)) == [
        ("dict", 100, date(2025, 1, 2)),
        ("tuple", -1, None),
        ("namedtuple", 250, date(2025, 1, 3)),
        ("oggetto", 5, None),
    ]


def test_iter_values_is_lazy():
    consumed = []

    def rows():
        for i in range(10):
            consumed.append(i)
            yield ("x", i, None)

    values = iter_values(rows(), SMALL)
    assert next(values) == ("x", 0, None)
    assert consumed == [0]


def test_a_float_amount_is_refused_with_row_and_column():
    with pytest.raises(TypeError, match=r"row 2: column 'amount'.*float"):
        list(iter_values([("a", 1, None), ("b", 1.5, None)], SMALL))


def test_a_fraction_of_a_cent_is_refused():
    with pytest.raises(ValueError, match="row 1: column 'amount'"):
        list(iter_values([("a", Decimal("1.005"), None)], SMALL))


def test_a_missing_key_is_an_error():
    with pytest.raises(KeyError):
        list(iter_values([{"name": "a", "amount": 1}], SMALL))


def test_a_short_tuple_is_an_error():
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        list(iter_values([("a", 1)], SMALL))


def test_a_datetime_in_a_date_column_gives_the_italian_date():
    (values,) = iter_values([("a", 1, datetime(2025, 6, 30, 23, 0, tzinfo=UTC))], SMALL)
    assert values[2] == date(2025, 7, 1)


def test_a_string_in_a_date_column_is_refused():
    with pytest.raises(TypeError, match="expected a date"):
        list(iter_values([("a", 1, "2025-01-01")], SMALL))


def test_text_columns_accept_any_value_as_its_string():
    (values,) = iter_values([(42, 1, None)], SMALL)
    assert values[0] == "42"


def test_totals_sum_integer_cents_and_skip_none():
    totals = Totals(SMALL)
    for values in iter_values([("a", 10**17, None), ("b", None, None), ("c", -5, None)], SMALL):
        totals.add(values)
    assert totals.row() == ("Totale", 10**17 - 5, None)


def test_totals_label_goes_to_the_first_column_not_summed():
    spec = ExportSpec("T", [Column("n", "N", "int"), Column("a", "A")], "t", totals=["n"])
    assert Totals(spec).row() == (0, "Totale")


def test_export_too_large_speaks_italian():
    assert str(ExportTooLarge("PDF", max_rows=20_000, rows=25_000)) == (
        "Troppe righe per il PDF (25.000): usare CSV o XLSX"
    )
    assert (
        str(ExportTooLarge("PDF", max_rows=20_000))
        == "Troppe righe per il PDF (oltre 20.000): usare CSV o XLSX"
    )


def test_xml_safe_text_drops_control_characters_only():
    assert xml_safe_text("a\x00b\x01c\x1fd\te\nf\rg\ud800h\ufffei€😀") == "abcd\te\nf\rgh" + "i€😀"


def test_sheet_name_is_valid_for_spreadsheets():
    assert sheet_name("Posizioni [2025]: 1/2 *?") == "Posizioni  2025   1 2"
    assert len(sheet_name("x" * 50)) == 31
    assert sheet_name("'''") == "Esportazione"
