"""Point 4 of issue 9: the header search finds a position by codice avviso (with or without spaces) or IUV,
and a taxpayer by phone number or e-mail, normalised ("+39 06 5551234" is a phone number, not a bad
partita IVA)."""

from __future__ import annotations

import pytest

from app.demo.seed import MARIO_ROSSI_CF
from app.extensions import db
from app.taxpayers.identifiers import phone_variants
from tests.screens.support import mario_position


@pytest.fixture
def mario(app):
    with app.app_context():
        return mario_position(db.session)


def _search(personas, persona: str, query: str) -> str:
    response = personas.client(persona).get("/contribuenti/", query_string={"q": query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["+39 06 5551234", "39 06 5551234", "06 5551234", "+39-06-555.1234", "0039 065551234"]
)
def test_a_phone_number_finds_its_taxpayer(personas, query) -> None:
    html = _search(personas, "callcenter", query)
    assert MARIO_ROSSI_CF in html, query
    assert "Partita IVA" not in html and "non valid" not in html


@pytest.mark.parametrize("query", ["mario.rossi@pec.esempio.it", "  Mario.Rossi@PEC.esempio.it "])
def test_an_email_address_finds_its_taxpayer(personas, query) -> None:
    assert MARIO_ROSSI_CF in _search(personas, "callcenter", query)


def test_a_codice_avviso_with_or_without_spaces_and_an_iuv_find_the_position(personas, mario) -> None:
    for query in (
        mario.notice_number,
        " ".join(mario.notice_number[i : i + 4] for i in range(0, 18, 4)),
        mario.iuv,
    ):
        html = _search(personas, "sportello", query)
        assert 'data-testid="search-positions"' in html, query
        assert f'href="/posizioni/{mario.id}"' in html and mario.external_id in html
        assert f'href="/contribuenti/{mario.taxpayer_id}"' in html


def test_the_search_by_avviso_phone_or_email_stays_in_scope(personas, mario) -> None:
    # regione2 sees only R02: Mario Rossi owes R01 only
    for query in (mario.notice_number, mario.iuv, "+39 06 5551234", "mario.rossi@pec.esempio.it"):
        html = _search(personas, "regione2", query)
        assert MARIO_ROSSI_CF not in html and mario.external_id not in html, query


def test_phone_variants() -> None:
    assert phone_variants("+39 06 5551234")[:2] == ["065551234", "+39065551234"]
    assert phone_variants("RSSMRA80A01H501U") == [] and phone_variants("12345") == []
    assert phone_variants("+44 20 7946 0958") == ["+442079460958", "00442079460958"]
