"""Encodings (UTF-8, UTF-8 with BOM, Windows-1252, refused ones), the fixed-width ruolo layout, XLSX, XML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from app.carichi.reading import FileRefused, scan_text
from app.carichi.validation import CARICO_FIELDS
from tests.carichi.support import csv_bytes, fixed_record, make_cf, row, xlsx_bytes, xml_bytes
from tests.carichi.test_validation import spec_of, validate

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "lista_di_carico.xsd"


def _stage_values(tmp_path: Path, content: bytes, spec=None, suffix: str = ".csv") -> list[list[str | None]]:
    from app.carichi import pipeline
    from app.carichi.validation import parse_copy_line
    from tests.carichi.test_validation import context

    spec = spec or spec_of()
    path = tmp_path / f"f{suffix}"
    path.write_bytes(content)
    prepared = pipeline.prepare(path, spec, context(spec), job_id=1, expected_sha256=None)
    prepared.stage.seek(0)
    rows = [parse_copy_line(line.decode()) for line in prepared.stage]
    prepared.close()
    return rows


# --- encodings -------------------------------------------------------------------------------------

ACCENTED = row(
    1, cognome="D'Àmico", nome="Nicolò", indirizzo="Via Università 3", comune="Forlì", provincia="FC"
)


@pytest.mark.parametrize(
    ("encoding", "prefix", "detected"),
    [
        pytest.param("utf-8", b"", "utf-8", id="utf-8"),
        pytest.param("utf-8", b"\xef\xbb\xbf", "utf-8", id="utf-8-bom"),
        pytest.param("cp1252", b"", "cp1252", id="windows-1252"),
    ],
)
def test_each_encoding_is_detected_and_read(
    tmp_path: Path, encoding: str, prefix: bytes, detected: str
) -> None:
    content = prefix + csv_bytes([ACCENTED, row(2)], encoding=encoding)
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    facts = scan_text(path)
    assert facts.encoding == detected and facts.bom == len(prefix)
    staged = _stage_values(tmp_path, content)
    assert (staged[0][4], staged[0][5], staged[0][7], staged[0][10], staged[0][12]) == (
        "D'Àmico",
        "Nicolò",
        "D'AMICO NICOLO",
        "Via Università 3",
        "Forlì",
    )


def test_a_file_mixing_utf8_and_windows_1252_is_refused_naming_both_lines(tmp_path: Path) -> None:
    content = (
        csv_bytes([ACCENTED]) + csv_bytes([row(2, cognome="Società")], encoding="cp1252").split(b"\n", 1)[1]
    )
    with pytest.raises(
        FileRefused, match="Codifica mista: la riga 2 è in UTF-8, la riga 3 in Windows-1252"
    ) as info:
        validate(tmp_path, content)
    assert info.value.line == 3


def test_an_undecodable_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    content = (
        csv_bytes([row(1), row(2)])
        + csv_bytes([row(3, cognome="Ro\x81ssi")], encoding="latin-1").split(b"\n", 1)[1]
    )
    with pytest.raises(
        FileRefused,
        match="Riga 4: il file non è leggibile né come UTF-8 né come Windows-1252 "
        r"\(byte 0x81\)",
    ) as info:
        validate(tmp_path, content)
    assert info.value.line == 4


def test_a_layout_forcing_utf8_refuses_windows_1252(tmp_path: Path) -> None:
    content = csv_bytes([ACCENTED], encoding="cp1252")
    with pytest.raises(FileRefused, match="Riga 2: il testo non è UTF-8 valido"):
        validate(tmp_path, content, spec_of(encoding="utf-8"))


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_is_refused(tmp_path: Path, bom: bytes) -> None:
    with pytest.raises(FileRefused, match="UTF-16"):
        validate(tmp_path, bom + "id_posizione".encode("utf-16-le"))


# --- fixed width (ruolo-290) -----------------------------------------------------------------------


def _fixed_values(n: int, **changes: str) -> dict[str, str]:
    values = {
        **row(n),
        "capitale": "10000",
        "sanzioni": "3000",
        "interessi": "",
        "spese": "588",
        "data_nascita": "19800101",
        "data_scadenza": "20230131",
        "data_notifica": "00000000",
    }
    values.update(changes)
    return values


def test_the_fixed_width_layout_reads_290_character_records(tmp_path: Path) -> None:
    records = [
        "H" + "TESTATA RUOLO 2024".ljust(289),
        fixed_record(_fixed_values(1)),
        fixed_record(
            _fixed_values(
                2,
                codice_fiscale="01234560017",
                cognome="",
                nome="",
                ragione_sociale="Trasporti Demo S.r.l.",
                data_nascita="",
            )
        ).rstrip(),
        fixed_record(_fixed_values(3, cap="ABCDE")),
        "T" + "0000000003".ljust(289),
    ]
    assert all(len(r) == 290 for i, r in enumerate(records) if i != 2)
    content = ("\r\n".join(records) + "\r\n").encode("cp1252")
    spec = spec_of("ruolo-290")
    valid, errors = validate(tmp_path, content, spec, suffix=".txt")
    assert valid == 2
    assert errors == [(4, "cap (pos. 182-186)", "CAP non valido: attese 5 cifre")]
    staged = _stage_values(tmp_path, content, spec, suffix=".txt")
    first, company = staged
    assert (first[1], first[2], first[8], first[21], first[22], first[24], first[25], first[26]) == (
        "TEST-000001",
        make_cf(1),
        "1980-01-01",
        "10000",
        "3000",
        "588",
        "2023-01-31",
        None,
    )
    assert (company[3], company[6]) == ("PG", "Trasporti Demo S.r.l.")


def test_a_fixed_record_of_the_wrong_length_or_type_is_rejected(tmp_path: Path) -> None:
    records = [fixed_record(_fixed_values(1)), fixed_record(_fixed_values(2)) + "XX", "Z" + " " * 289]
    valid, errors = validate(
        tmp_path, ("\n".join(records) + "\n").encode(), spec_of("ruolo-290"), suffix=".txt"
    )
    assert valid == 1
    assert errors == [
        (2, None, "lunghezza del record errata: attesi 290 caratteri, trovati 292"),
        (3, "tipo_record", "tipo di record «Z» sconosciuto (atteso D)"),
    ]


def test_the_ruolo_layout_documents_its_positions() -> None:
    from app.carichi.layouts import RUOLO_290, RUOLO_290_DESCRIPTION

    assert (
        "124-131: data_nascita" in RUOLO_290_DESCRIPTION and "289-290: riempimento" in RUOLO_290_DESCRIPTION
    )
    end = max(start + length - 1 for _, start, length in RUOLO_290)
    assert end == 288


# --- XLSX ------------------------------------------------------------------------------------------


def test_an_xlsx_sheet_is_read_with_typed_cells(tmp_path: Path) -> None:
    rows = [
        row(
            1,
            capitale=123.45,
            sanzioni=30,
            anno_riferimento=2022,
            cap=186,
            data_scadenza=dt.datetime(2023, 1, 31),
            data_nascita=dt.date(1980, 1, 1),
        ),
        row(2, cap="ABC"),
    ]
    spec = spec_of("canonico-xlsx")
    valid, errors = validate(tmp_path, xlsx_bytes(rows), spec, suffix=".xlsx")
    assert valid == 1 and errors == [(3, "cap", "CAP non valido: attese 5 cifre")]
    staged = _stage_values(tmp_path, xlsx_bytes(rows[:1]), spec, suffix=".xlsx")
    assert (staged[0][11], staged[0][17], staged[0][21], staged[0][22], staged[0][25]) == (
        "00186",
        "2022",
        "12345",
        "3000",
        "2023-01-31",
    )


def test_an_xlsx_with_an_unknown_column_is_refused(tmp_path: Path) -> None:
    header = list(CARICO_FIELDS) + ["colore"]
    with pytest.raises(FileRefused, match="colonne sconosciute"):
        validate(tmp_path, xlsx_bytes([row(1)], header=header), spec_of("canonico-xlsx"), suffix=".xlsx")


def test_a_csv_given_to_the_xlsx_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="non è un foglio Excel XLSX"):
        validate(tmp_path, csv_bytes([row(1)]), spec_of("canonico-xlsx"), suffix=".xlsx")


# --- XML -------------------------------------------------------------------------------------------


def test_an_xml_file_is_read_and_conforms_to_the_published_schema(tmp_path: Path) -> None:
    rows = [
        row(1),
        row(2, cap="ABC"),
        row(
            3,
            codice_fiscale="01234560017",
            cognome="",
            nome="",
            ragione_sociale="Trasporti & Co. S.r.l.",
            data_nascita="",
        ),
    ]
    content = xml_bytes(rows)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.fromstring(content)
    assert not schema.validate(document)  # "ABC" is not a CAP: the schema says so too
    assert schema.validate(etree.fromstring(xml_bytes([rows[0], rows[2]]))), schema.error_log
    valid, errors = validate(tmp_path, content, spec_of("canonico-xml"), suffix=".xml")
    assert valid == 2 and errors == [(23, "<cap>", "CAP non valido: attese 5 cifre")]


def test_the_schema_lists_exactly_the_canonical_fields() -> None:
    tree = etree.parse(str(SCHEMA))
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    names = tree.xpath("//xs:complexType[@name='Posizione']/xs:all/xs:element/@name", namespaces=ns)
    assert names == list(CARICO_FIELDS)


def test_an_unknown_or_repeated_xml_element_rejects_the_row(tmp_path: Path) -> None:
    content = xml_bytes([row(1)]).replace(b"<cap>00100</cap>", b"<cap>00100</cap><colore>blu</colore>")
    content = content.replace(
        b"</lista_di_carico>",
        b"<posizione><id_posizione>A</id_posizione>"
        b"<id_posizione>B</id_posizione></posizione>\n</lista_di_carico>",
    )
    valid, errors = validate(tmp_path, content, spec_of("canonico-xml"), suffix=".xml")
    assert valid == 0
    assert [(e[1], e[2]) for e in errors] == [
        ("<colore>", "elemento sconosciuto nella posizione"),
        ("<id_posizione>", "elemento ripetuto"),
    ]


def test_malformed_xml_is_refused_naming_the_line(tmp_path: Path) -> None:
    content = xml_bytes([row(1)]).replace(b"</cap>", b"</capp>")
    with pytest.raises(FileRefused, match="XML non valido alla riga 11") as info:
        validate(tmp_path, content, spec_of("canonico-xml"), suffix=".xml")
    assert info.value.line == 11


def test_a_wrong_xml_root_is_refused(tmp_path: Path) -> None:
    content = xml_bytes([row(1)]).replace(b"lista_di_carico", b"ruolo")
    with pytest.raises(FileRefused, match="Elemento radice «ruolo»: atteso «lista_di_carico»"):
        validate(tmp_path, content, spec_of("canonico-xml"), suffix=".xml")
