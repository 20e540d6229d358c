"""Search by codice fiscale / partita IVA (validated, omocodia), by name (prefix, accents), by reference."""

from __future__ import annotations

import pytest

from app.demo.seed import COMPANY_CF, MARIO_ROSSI_CF


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("RSSMRA80A01H501X", "il carattere di controllo non corrisponde"),
        ("RSSMRA80A01H5O1U", "formato errato"),
        ("01234560018", "la cifra di controllo non corrisponde"),
        ("RSSMRA80Z01H501U", "formato errato"),
    ],
)
def test_a_malformed_codice_fiscale_gets_an_italian_message_not_an_error_page(
    personas, query, message
) -> None:
    response = personas.client("sportello").get(f"/contribuenti/?q={query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Codice fiscale non valido" in html or "Partita IVA" in html
    assert message in html


def test_exact_codice_fiscale_finds_the_taxpayer(personas) -> None:
    html = (
        personas.client("sportello").get(f"/contribuenti/?q={MARIO_ROSSI_CF.lower()}").get_data(as_text=True)
    )
    assert "Rossi Mario" in html


def test_partita_iva_finds_the_company(personas) -> None:
    assert "Trasporti Demo S.r.l." in personas.client("sportello").get(
        f"/contribuenti/?q={COMPANY_CF}"
    ).get_data(True)


def test_an_omocode_codice_fiscale_is_accepted(app, personas) -> None:
    """Omocodia: digits replaced right to left by letters (0→L ... 9→V); the check character is recomputed."""
    from stdnum.it import codicefiscale

    from app.core.audit import Actor
    from app.extensions import db
    from app.taxpayers.services import TaxpayerData, register_taxpayer

    base = "BNCLRD70C15F205"  # Bianchi Leonardo, 15/03/1970, Milano; last digit 5 -> R (omocodia)
    omocode = base[:14] + "R"
    omocode += codicefiscale.calc_check_digit(omocode)
    with app.app_context():
        from app.enti.queries import get_ente_by_code

        register_taxpayer(
            db.session,
            Actor.system(),
            TaxpayerData(codice_fiscale=omocode, surname="Bianchi", given_name="Leonardo"),
            source="test",
            ente_id=get_ente_by_code(db.session, "R01").id,
        )
        db.session.commit()
    assert "Bianchi Leonardo" in personas.client("sportello").get(f"/contribuenti/?q={omocode}").get_data(
        True
    )


def test_name_prefix_is_accent_and_case_insensitive(app, personas) -> None:
    from stdnum.it import codicefiscale

    from app.core.audit import Actor
    from app.enti.queries import get_ente_by_code
    from app.extensions import db
    from app.taxpayers.services import TaxpayerData, register_taxpayer

    cf = "DMCNCL81M10F839" + codicefiscale.calc_check_digit("DMCNCL81M10F839")
    with app.app_context():
        register_taxpayer(
            db.session,
            Actor.system(),
            TaxpayerData(codice_fiscale=cf, surname="D'Àmico", given_name="Nicolò"),
            source="test",
            ente_id=get_ente_by_code(db.session, "R01").id,
        )
        db.session.commit()
    client = personas.client("callcenter")
    for query in ("d'amico nic", "D'AMICO", "d'àmico nicolò"):
        assert "D&#39;Àmico Nicolò" in client.get(f"/contribuenti/?q={query}").get_data(as_text=True), query
    assert "Àmico" not in client.get("/contribuenti/?q=amico").get_data(as_text=True)


def test_htmx_request_gets_the_fragment_only(personas) -> None:
    response = personas.client("sportello").get(
        f"/contribuenti/?q={MARIO_ROSSI_CF}", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert "Rossi Mario" in html and "<html" not in html
