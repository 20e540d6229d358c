"""Every validation rule of formats.md §1, each with the rejected row's line, column and Italian reason.

Runs phase 1 of the pipeline (reading + validation) without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import _import_models
from app.carichi import pipeline
from app.carichi.layouts import DEFAULT_LAYOUTS, LayoutSpec
from app.carichi.models import ImportLayout
from app.carichi.reading import FileRefused
from app.carichi.validation import CARICO_FIELDS, RowContext
from tests.carichi.support import csv_bytes, make_cf, row

_import_models()  # the layout rows are built without an app: every mapped class must be known
TODAY = "2026-11-26"


def spec_of(name: str = "canonico", **changes) -> LayoutSpec:
    data = next(d for d in DEFAULT_LAYOUTS if d["name"] == name)
    layout = ImportLayout(
        id=1,
        name=data["name"],
        flow=data["flow"],
        format=data["format"],
        encoding="auto",
        separator="auto",
        decimal_separator=data.get("decimal_separator", "auto"),
        date_formats=data.get("date_formats"),
        columns=data["columns"],
        options=data.get("options", {}),
        default_entrata=None,
        max_error_rate=5,
        ignore_unknown_columns=False,
        description="",
    )
    for key, value in changes.items():
        setattr(layout, key, value)
    return LayoutSpec.of(layout)


def context(spec: LayoutSpec, entrata: str | None = "TASSA_AUTO") -> RowContext:
    return RowContext(
        flow=spec.flow,
        formats=spec.formats,
        labels=dict(spec.columns),
        ente_code="R01",
        entrate={"TASSA_AUTO": 1, "SANZIONI": 2},
        entrata_code=entrata,
        year_min=1986,
        year_max=2026,
        today=TODAY,
        mapped=spec.mapped_fields,
    )


def validate(
    tmp_path: Path,
    content: bytes,
    spec: LayoutSpec | None = None,
    *,
    entrata: str | None = "TASSA_AUTO",
    suffix: str = ".csv",
) -> tuple[int, list[tuple]]:
    """(valid rows, [(line, column, reason)]) of a file."""
    spec = spec or spec_of()
    path = tmp_path / f"file{suffix}"
    path.write_bytes(content)
    prepared = pipeline.prepare(path, spec, context(spec, entrata), job_id=1, expected_sha256=None)
    try:
        return prepared.valid, [(e["line"], e["column"], e["reason"]) for e in prepared.errors.rows()]
    finally:
        prepared.close()


def one_bad_row(tmp_path: Path, **overrides: str) -> list[tuple]:
    valid, errors = validate(tmp_path, csv_bytes([row(1), row(2, **overrides)]))
    assert valid == 1
    return errors


RULES = [
    pytest.param({"id_posizione": ""}, "id_posizione", "campo obbligatorio mancante", id="id-missing"),
    pytest.param(
        {"id_posizione": "X" * 61}, "id_posizione", "lunghezza massima 60 caratteri", id="id-too-long"
    ),
    pytest.param({"codice_fiscale": ""}, "codice_fiscale", "campo obbligatorio mancante", id="cf-missing"),
    pytest.param(
        {"codice_fiscale": "RSSMRA80A01H501X"},
        "codice_fiscale",
        "Codice fiscale non valido (RSSMRA80A01H501X): il carattere di controllo non corrisponde.",
        id="cf-checksum",
    ),
    pytest.param(
        {"codice_fiscale": "RSSMRA80A01H50"},
        "codice_fiscale",
        "Codice fiscale non valido (RSSMRA80A01H50): sono attesi 16 caratteri (persona fisica) o 11 cifre "
        "(persona giuridica).",
        id="cf-length",
    ),
    pytest.param(
        {"codice_fiscale": "RSSMRA80Z01H501U"},
        "codice_fiscale",
        "Codice fiscale non valido (RSSMRA80Z01H501U): formato errato.",
        id="cf-format",
    ),
    pytest.param(
        {"codice_fiscale": "RSSMRA80B30H501" + "X"}, "codice_fiscale", None, id="cf-impossible-date"
    ),
    pytest.param(
        {
            "codice_fiscale": "01234560018",
            "tipo_soggetto": "PG",
            "cognome": "",
            "nome": "",
            "ragione_sociale": "Ditta",
        },
        "codice_fiscale",
        "Partita IVA / codice fiscale numerico non valido (01234560018): la cifra di controllo non "
        "corrisponde.",
        id="piva-checksum",
    ),
    pytest.param(
        {"tipo_soggetto": "XX"},
        "tipo_soggetto",
        "valore non ammesso: PF (persona fisica) o PG (persona giuridica)",
        id="tipo-value",
    ),
    pytest.param(
        {"tipo_soggetto": "PG", "ragione_sociale": "Ditta"},
        "tipo_soggetto",
        "tipo PG incompatibile con un codice fiscale di 16 caratteri (persona fisica)",
        id="tipo-pg-16",
    ),
    pytest.param(
        {"tipo_soggetto": "PF", "codice_fiscale": "01234560017"},
        "tipo_soggetto",
        "tipo PF incompatibile con un codice fiscale numerico di 11 cifre (persona giuridica)",
        id="tipo-pf-11",
    ),
    pytest.param({"cognome": ""}, "cognome", "campo obbligatorio per le persone fisiche", id="pf-cognome"),
    pytest.param({"nome": ""}, "nome", "campo obbligatorio per le persone fisiche", id="pf-nome"),
    pytest.param(
        {"codice_fiscale": "01234560017", "cognome": "", "nome": ""},
        "ragione_sociale",
        "campo obbligatorio per le persone giuridiche",
        id="pg-ragione-sociale",
    ),
    pytest.param(
        {"data_nascita": "1980/01/01"},
        "data_nascita",
        "data non valida: attesa nel formato AAAA-MM-GG o GG/MM/AAAA",
        id="birth-format",
    ),
    pytest.param(
        {"data_nascita": "31/02/1980"}, "data_nascita", "data inesistente (31/02/1980)", id="birth-not-real"
    ),
    pytest.param(
        {"data_nascita": "2030-01-01"}, "data_nascita", "data di nascita nel futuro", id="birth-future"
    ),
    pytest.param({"indirizzo": ""}, "indirizzo", "campo obbligatorio mancante", id="indirizzo-missing"),
    pytest.param({"cap": ""}, "cap", "campo obbligatorio mancante", id="cap-missing"),
    pytest.param({"cap": "0010"}, "cap", "CAP non valido: attese 5 cifre", id="cap-4-digits"),
    pytest.param({"comune": ""}, "comune", "campo obbligatorio mancante", id="comune-missing"),
    pytest.param({"provincia": ""}, "provincia", "campo obbligatorio mancante", id="provincia-missing"),
    pytest.param(
        {"provincia": "ROM"},
        "provincia",
        "sigla della provincia non valida: attese 2 lettere",
        id="provincia-3",
    ),
    pytest.param(
        {"provincia": "R1"},
        "provincia",
        "sigla della provincia non valida: attese 2 lettere",
        id="provincia-digit",
    ),
    pytest.param({"pec": "anna-at-pec"}, "pec", "indirizzo PEC non valido", id="pec"),
    pytest.param({"email": "anna@"}, "email", "indirizzo e-mail non valido", id="email"),
    pytest.param(
        {"telefono": "chiamare ore pasti"},
        "telefono",
        "numero di telefono non valido (cifre, spazi e + ( ) . / -, al massimo 30 caratteri)",
        id="tel",
    ),
    pytest.param(
        {"anno_riferimento": ""}, "anno_riferimento", "campo obbligatorio mancante", id="anno-missing"
    ),
    pytest.param(
        {"anno_riferimento": "22"}, "anno_riferimento", "anno non valido: attese 4 cifre", id="anno-2"
    ),
    pytest.param(
        {"anno_riferimento": "1900"},
        "anno_riferimento",
        "anno non plausibile: atteso tra 1986 e 2026",
        id="anno-too-old",
    ),
    pytest.param(
        {"anno_riferimento": "2027"},
        "anno_riferimento",
        "anno non plausibile: atteso tra 1986 e 2026",
        id="anno-future",
    ),
    pytest.param(
        {"codice_entrata": ""}, "codice_entrata", "campo obbligatorio mancante", id="entrata-missing"
    ),
    pytest.param(
        {"codice_entrata": "BOLLO_NAUTICO"},
        "codice_entrata",
        "entrata «BOLLO_NAUTICO» non prevista per l'ente R01",
        id="entrata-unknown",
    ),
    pytest.param(
        {"codice_entrata": "SANZIONI"},
        "codice_entrata",
        "entrata «SANZIONI» diversa da quella scelta per l'importazione (TASSA_AUTO)",
        id="entrata-other",
    ),
    pytest.param(
        {"descrizione": "d" * 251}, "descrizione", "lunghezza massima 250 caratteri", id="descr-long"
    ),
    pytest.param({"riferimento": "r" * 61}, "riferimento", "lunghezza massima 60 caratteri", id="rif-long"),
    pytest.param({"capitale": ""}, "capitale", "campo obbligatorio mancante", id="capitale-missing"),
    pytest.param(
        {"capitale": "-10,00"},
        "capitale",
        "importo negativo: sono ammessi solo importi maggiori o uguali a zero",
        id="amount-negative",
    ),
    pytest.param(
        {"sanzioni": "10,005"}, "sanzioni", "importo con più di due decimali", id="amount-3-decimals"
    ),
    pytest.param({"interessi": "dieci"}, "interessi", "importo non numerico", id="amount-text"),
    pytest.param(
        {"spese": "1.234,56"},
        "spese",
        "importo non valido: separatore delle migliaia non ammesso (scrivere ad esempio 1234,56)",
        id="amount-thousands",
    ),
    pytest.param(
        {"capitale": "1000000000"},
        "capitale",
        "importo fuori scala (massimo 999.999.999,99 euro)",
        id="amount-huge",
    ),
    pytest.param(
        {"capitale": "0", "sanzioni": "", "spese": "0,00"},
        "capitale",
        "importo complessivo pari a zero: nessun debito da caricare",
        id="amount-zero-total",
    ),
    pytest.param({"data_scadenza": ""}, "data_scadenza", "campo obbligatorio mancante", id="due-missing"),
    pytest.param(
        {"data_scadenza": "2023-13-01"}, "data_scadenza", "data inesistente (2023-13-01)", id="due-not-real"
    ),
    pytest.param(
        {"data_scadenza": "gennaio 2023"},
        "data_scadenza",
        "data non valida: attesa nel formato AAAA-MM-GG o GG/MM/AAAA",
        id="due-text",
    ),
    pytest.param(
        {"data_notifica": "2023-02-30"},
        "data_notifica",
        "data inesistente (2023-02-30)",
        id="notified-not-real",
    ),
]


@pytest.mark.parametrize(("overrides", "column", "reason"), RULES)
def test_each_rule_rejects_the_row_with_line_column_and_reason(
    tmp_path: Path, overrides, column, reason
) -> None:
    errors = one_bad_row(tmp_path, **overrides)
    assert [(line, col) for line, col, _ in errors] == [(3, column)]
    if reason is not None:
        assert errors[0][2] == reason
    else:
        assert errors[0][2].startswith("Codice fiscale non valido")


def test_a_row_with_several_errors_reports_each(tmp_path: Path) -> None:
    errors = one_bad_row(tmp_path, cap="1", provincia="", capitale="x")
    assert [(e[0], e[1]) for e in errors] == [(3, "cap"), (3, "provincia"), (3, "capitale")]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"codice_fiscale": "CCCFBA85D03L21VE", "cognome": "Rossi", "nome": "Mario"}, id="omocodia"
        ),
        pytest.param({"codice_fiscale": " rssmra80a01h501u "}, id="lowercase-spaces"),
        pytest.param({"tipo_soggetto": ""}, id="tipo-derived-pf"),
        pytest.param({"tipo_soggetto": "pf"}, id="tipo-lowercase"),
        pytest.param(
            {"codice_fiscale": "01234560017", "cognome": "", "nome": "", "ragione_sociale": "Ditta Srl"},
            id="tipo-derived-pg",
        ),
        pytest.param({"capitale": "100", "sanzioni": "0.5", "spese": "1,1"}, id="amount-shapes"),
        pytest.param({"data_scadenza": "31/01/2023", "data_nascita": "01/01/1980"}, id="italian-dates"),
        pytest.param({"capitale": "0", "sanzioni": "12,00"}, id="only-sanctions"),
        pytest.param({"cognome": "D'Àmico", "nome": "Nicolò"}, id="accents"),
    ],
)
def test_valid_variants_are_accepted(tmp_path: Path, overrides) -> None:
    valid, errors = validate(tmp_path, csv_bytes([row(1, **overrides)]))
    assert (valid, errors) == (1, [])


def test_entrata_left_out_of_a_layout_comes_from_the_import(tmp_path: Path) -> None:
    columns = {f: f for f in CARICO_FIELDS if f != "codice_entrata"}
    spec = spec_of(columns=columns)
    header = [f for f in CARICO_FIELDS if f != "codice_entrata"]
    valid, errors = validate(tmp_path, csv_bytes([row(1)], header=header), spec)
    assert (valid, errors) == (1, [])


def test_a_record_with_the_wrong_number_of_fields_is_rejected(tmp_path: Path) -> None:
    text = csv_bytes([row(1)]).decode() + "A;B;C\n"
    valid, errors = validate(tmp_path, text.encode())
    assert valid == 1 and errors == [(3, None, "numero di campi errato: attesi 25, trovati 3")]


def test_blank_lines_are_not_rows(tmp_path: Path) -> None:
    text = csv_bytes([row(1)]).decode() + "\n;;;;;;;;;;;;;;;;;;;;;;;;\n\n"
    assert validate(tmp_path, text.encode()) == (1, [])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        pytest.param(
            list(CARICO_FIELDS) + ["colore"],
            "Riga 1: colonne sconosciute nell'intestazione: «colore»",
            id="unknown",
        ),
        pytest.param(
            [f for f in CARICO_FIELDS if f != "capitale"],
            "Riga 1: colonne obbligatorie assenti dall'intestazione: «capitale».",
            id="missing",
        ),
        pytest.param(list(CARICO_FIELDS) + ["cap"], "Riga 1: la colonna «cap» compare due volte", id="twice"),
    ],
)
def test_a_bad_header_refuses_the_file(tmp_path: Path, header, message) -> None:
    with pytest.raises(FileRefused, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        validate(tmp_path, csv_bytes([row(1)], header=header))
    assert info.value.line == 1


def test_unknown_columns_are_ignored_when_the_layout_says_so(tmp_path: Path) -> None:
    spec = spec_of(ignore_unknown_columns=True)
    header = list(CARICO_FIELDS) + ["colore"]
    assert validate(tmp_path, csv_bytes([row(1, colore="blu")], header=header), spec) == (1, [])


def test_header_names_are_matched_without_case_and_spaces(tmp_path: Path) -> None:
    header = [f" {f.upper()} " for f in CARICO_FIELDS]
    content = csv_bytes([{f" {k.upper()} ": v for k, v in row(1).items()}], header=header)
    assert validate(tmp_path, content) == (1, [])


def test_quoted_fields_with_separators_and_newlines_are_one_record(tmp_path: Path) -> None:
    content = csv_bytes([row(1, descrizione="Tassa; anno 2022\nseconda riga"), row(2)])
    valid, errors = validate(tmp_path, content)
    assert (valid, errors) == (2, [])


def test_a_big_file_is_validated_in_parallel_with_the_same_outcome(tmp_path: Path) -> None:
    rows = [row(n) for n in range(1, 3001)] + [row(3001, cap="x")]
    content = csv_bytes(rows)
    spec = spec_of()
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    results = []
    for workers in (1, 2):
        prepared = pipeline.prepare(
            path, spec, context(spec), job_id=1, expected_sha256=None, workers=workers, parallel_min_bytes=0
        )
        prepared.stage.seek(0)
        results.append(
            (
                prepared.valid,
                prepared.rejected,
                prepared.stage.read(),
                [(e["line"], e["column"]) for e in prepared.errors.rows()],
            )
        )
        prepared.close()
    assert results[0] == results[1]
    assert results[0][0] == 3000 and results[0][3] == [(3002, "cap")]


def test_a_tampered_stored_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes([row(1)]))
    spec = spec_of()
    with pytest.raises(FileRefused, match="alterato"):
        pipeline.prepare(path, spec, context(spec), job_id=1, expected_sha256="0" * 64)


def test_make_cf_gives_valid_codes() -> None:
    from app.taxpayers.identifiers import validate_codice_fiscale

    assert all(validate_codice_fiscale(make_cf(n)) == make_cf(n) for n in range(50))
