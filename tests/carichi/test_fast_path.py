"""The shortcuts of the hot loop accept nothing the full rules would refuse, and produce the same rows."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.it.codicefiscale import calc_check_digit

from app.carichi.validation import (
    CARICO_FIELDS,
    Formats,
    RowContext,
    fast_carico,
    fast_codice_fiscale,
    validate_carico,
)
from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale
from tests.carichi.support import row

OMOCODIA = "LMNPQRSTUV"
CTX = RowContext(
    flow="carico",
    formats=Formats(),
    labels={},
    entrate={"TASSA_AUTO": 1, "SANZIONI": 2},
    entrata_code="TASSA_AUTO",
    ente_code="R01",
    year_min=1986,
    year_max=2026,
    today="2026-11-26",
    mapped=frozenset(CARICO_FIELDS),
)


def _stdnum_ok(code: str) -> bool:
    try:
        return validate_codice_fiscale(code) == code
    except InvalidIdentifier:
        return False


@st.composite
def codes(draw: st.DrawFn) -> str:
    """Valid codes, omocodes, and codes with one character changed."""
    letters = draw(st.text(string.ascii_uppercase, min_size=6, max_size=6))
    digits = string.digits + OMOCODIA
    year = draw(st.text(digits, min_size=2, max_size=2))
    month = draw(st.sampled_from("ABCDEHLMPRST"))
    day = draw(st.text(digits, min_size=2, max_size=2))
    place = draw(st.sampled_from(string.ascii_uppercase)) + draw(st.text(digits, min_size=3, max_size=3))
    body = letters + year + month + day + place
    code = body + calc_check_digit(body)
    if draw(st.booleans()):
        position = draw(st.integers(0, 15))
        code = (
            code[:position]
            + draw(st.sampled_from(string.ascii_uppercase + string.digits))
            + code[position + 1 :]
        )
    return code


@settings(max_examples=1200, deadline=None)
@given(codes())
def test_the_fast_codice_fiscale_check_agrees_with_stdnum(code: str) -> None:
    assert fast_codice_fiscale(code) == _stdnum_ok(code)


@settings(max_examples=800, deadline=None)
@given(st.text(string.digits, min_size=11, max_size=11))
def test_the_fast_partita_iva_check_agrees_with_stdnum(code: str) -> None:
    assert fast_codice_fiscale(code) == _stdnum_ok(code)


FIELD_VALUES = {
    "codice_fiscale": st.sampled_from(
        [
            "RSSMRA80A01H501U",
            "CCCFBA85D03L21VE",
            "01234560017",
            "rssmra80a01h501u",
            "RSSMRA80A01H501X",
            "",
            "0123456001",
        ]
    ),
    "tipo_soggetto": st.sampled_from(["", "PF", "PG", "pf", "X"]),
    "cognome": st.sampled_from(["Rossi", "", "D'Àmico", "rossi  de", "x" * 121]),
    "nome": st.sampled_from(["Mario", "", "Nicolò"]),
    "ragione_sociale": st.sampled_from(["", "Ditta Srl"]),
    "data_nascita": st.sampled_from(
        ["", "1980-01-01", "01/01/1980", "2030-01-01", "1980-02-30", "1980/01/01"]
    ),
    "cap": st.sampled_from(["00100", "0010", "", "ABCDE", "１２３４５"]),
    "provincia": st.sampled_from(["RM", "rm", "R1", "", "ROM"]),
    "pec": st.sampled_from(["", "a@pec.it", "nope"]),
    "telefono": st.sampled_from(["", "+39 06 1234", "abc"]),
    "anno_riferimento": st.sampled_from(["2022", "1900", "2027", "22", ""]),
    "codice_entrata": st.sampled_from(["TASSA_AUTO", "SANZIONI", "tassa_auto", "", "ALTRO"]),
    "capitale": st.sampled_from(
        ["100", "100,00", "100.5", "0", "", "-1", "1.000,00", "1,234", "99999999999"]
    ),
    "sanzioni": st.sampled_from(["", "0", "30,00", "x"]),
    "spese": st.sampled_from(["", "5,88", "5.888"]),
    "data_scadenza": st.sampled_from(["2023-01-31", "31/01/2023", "", "2023-02-30", "20230131"]),
    "data_notifica": st.sampled_from(["", "2023-05-01", "2023-13-01"]),
}


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=FIELD_VALUES))
def test_the_fast_row_path_accepts_only_what_the_full_rules_accept(changes: dict[str, str]) -> None:
    values = tuple(row(1, **changes)[f] for f in CARICO_FIELDS)
    fast = fast_carico(values, 7, CTX)
    errors: list = []
    full = validate_carico(values, 7, CTX, errors)
    if fast is not None:
        assert errors == [] and full == fast
