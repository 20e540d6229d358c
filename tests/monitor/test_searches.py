"""Searches of positions and the carico totals (issue 15 point 1): filters, isolation between enti, totals to
the cent against a direct SQL sum, exports in every format."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
from app.reports.exports import FORMATS


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize(
    ("query", "r01_finds", "r02_finds"),
    [
        ({"cf": MARIO_ROSSI_CF}, True, False),
        ({"nome": "rossi mario"}, True, False),
        ({"nome": "Rossi", "nascita": "1980-01-01"}, True, False),
        ({"indirizzo": "via del corso roma"}, True, False),
        ({"cf": SECOND_ENTE_CF}, False, True),
        ({"nome": "verdi giuseppe", "nascita": "1975-03-15"}, False, True),
    ],
)
def test_positions_by_taxpayer_and_the_isolation_of_enti(personas, query, r01_finds, r02_finds) -> None:
    for username, finds in (("regione", r01_finds), ("regione2", r02_finds)):
        client = personas.client(username)
        html = client.get("/monitor/posizioni", query_string=query).get_data(as_text=True)
        rows = _csv(client.get("/monitor/posizioni.csv", query_string=query))
        expected_ente = "R01" if username == "regione" else "R02"
        if finds:
            assert rows, (username, query)
            assert {r["Ente"] for r in rows} == {expected_ente}
            assert 'data-testid="search-results"' in html
        else:
            assert rows == [], (username, query)  # a Regione user sees nothing of the other ente
            assert "Nessuna posizione trovata" in html


def _first_carico(session, ente: str = "R01"):
    from app.carichi.models import Carico
    from app.enti.models import Ente

    return session.scalars(
        sa.select(Carico).join(Ente, Ente.id == Carico.ente_id).where(Ente.code == ente).order_by(Carico.id)
    ).first()


def test_search_by_carico_and_entrata_and_state(app, personas) -> None:
    from app.enti.models import Entrata
    from app.extensions import db
    from app.positions.models import Position

    with app.app_context():  # closed before the requests: a shared context would share the logged-in user
        session = db.session
        carico = _first_carico(session)
        entrata = session.get(Entrata, carico.entrata_id)
        expected = session.scalar(sa.select(sa.func.count()).where(Position.carico_id == carico.id))
        carico_id, entrata_code = carico.id, entrata.code
    client = personas.client("regione")
    rows = _csv(
        client.get("/monitor/posizioni.csv", query_string={"carico": carico_id, "entrata": entrata_code})
    )
    assert len(rows) == expected > 0
    assert {r["Entrata"] for r in rows} == {entrata_code}
    # the other ente's carico: nothing
    assert (
        _csv(personas.client("regione2").get("/monitor/posizioni.csv", query_string={"carico": carico_id}))
        == []
    )
    state = rows[0]["Stato"]
    by_state = _csv(client.get("/monitor/posizioni.csv", query_string={"carico": carico_id, "stato": state}))
    assert by_state and {r["Stato"] for r in by_state} == {state}


def test_a_search_needs_a_criterion_and_refuses_bad_parameters(personas) -> None:
    client = personas.client("regione")
    assert "Indica almeno un criterio" in client.get("/monitor/posizioni").get_data(as_text=True)
    assert client.get("/monitor/posizioni.csv").status_code == 400
    assert client.get("/monitor/posizioni", query_string={"carico": "x"}).status_code == 400
    assert client.get("/monitor/posizioni", query_string={"stato": "nessuno"}).status_code == 400


def _ledger_sums(session, carico_id: int) -> dict[str, int]:
    """The carico's figures summed directly in SQL (what the page must show)."""
    rows = session.execute(
        sa.text(
            "SELECT m.kind, p.state, COALESCE(SUM(m.amount_cents), 0) FROM movements m "
            "JOIN positions p ON p.id = m.position_id WHERE p.carico_id = :c GROUP BY m.kind, p.state"
        ),
        {"c": carico_id},
    ).all()
    sums = {"caricato": 0, "sgravato": 0, "riscosso": 0, "residuo": 0, "rateizzato": 0, "sospeso": 0}
    for kind, state, total in rows:
        total = int(total)
        sums["residuo"] += total
        sums["caricato"] += total if kind == "carico" else 0
        sums["sgravato"] -= total if kind == "sgravio" else 0
        sums["riscosso"] -= total if kind in ("pagamento", "rimborso") else 0
        sums["rateizzato"] += total if state == "in_rateazione" else 0
        sums["sospeso"] += total if state == "sospesa" else 0
    return sums


def test_carico_totals_equal_a_direct_sql_sum_to_the_cent(app, personas) -> None:
    from app.extensions import db
    from app.positions.models import Movement, Position

    with app.app_context():
        session = db.session
        carico = _first_carico(session)
        positions = session.scalars(
            sa.select(Position).where(Position.carico_id == carico.id).order_by(Position.id).limit(3)
        ).all()
        positions[0].state, positions[1].state = "in_rateazione", "sospesa"  # direct: a test of the sums only
        session.add(
            Movement(
                position_id=positions[2].id,
                component="capitale",
                kind="sgravio",
                amount_cents=-1234,
                value_date=positions[2].due_date,
                source="test: sgravio",
            )
        )
        session.commit()
        expected = _ledger_sums(session, carico.id)
        carico_id = carico.id
    assert expected["rateizzato"] and expected["sospeso"] and expected["sgravato"] >= 1234

    client = personas.client("regione")
    rows = _csv(client.get("/monitor/carichi.csv", query_string={"carico": carico_id}))
    assert len(rows) == 1
    row = rows[0]

    def cents(text: str) -> int:
        return int(text.replace(".", ""))  # CSV money: "1234.56"

    got = {
        "caricato": cents(row["Caricato"]),
        "sgravato": cents(row["Sgravato"]),
        "riscosso": cents(row["Riscosso"]),
        "residuo": cents(row["Residuo"]),
        "rateizzato": cents(row["di cui in rateazione"]),
        "sospeso": cents(row["di cui sospeso"]),
    }
    assert got == expected
    html = client.get("/monitor/carichi", query_string={"carico": carico_id}).get_data(as_text=True)
    assert f'data-carico="{carico_id}"' in html
    # isolation: the R02 user sees neither this carico nor any other of R01
    other = _csv(personas.client("regione2").get("/monitor/carichi.csv"))
    assert other and {r["Ente"] for r in other} == {"R02"}
    assert {r["Ente"] for r in _csv(client.get("/monitor/carichi.csv"))} == {"R01"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_searches_export_in_every_format(personas, fmt) -> None:
    client = personas.client("regione")
    for url, query in (("/monitor/carichi", {}), ("/monitor/posizioni", {"cf": MARIO_ROSSI_CF})):
        response = client.get(f"{url}.{fmt}", query_string=query)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert len(response.data) > 100


def test_no_export_links_nor_exports_for_the_call_center(personas) -> None:
    client = personas.client("callcenter")
    html = client.get("/monitor/carichi").get_data(as_text=True)
    assert 'data-testid="carico-totals"' in html and 'data-testid="export-links"' not in html
    assert client.get("/monitor/carichi.csv").status_code == 403
