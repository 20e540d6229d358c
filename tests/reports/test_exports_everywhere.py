"""Every table a user sees exports through the one mechanism (issue 15 point 6): the liste di carico, the
jobs, a position's ledger, the payments review queue, the legal parameters, the batch runs; the links are on
the pages for the roles with the export permission and the routes refuse the others."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa


def _position_id(app) -> int:
    from app.extensions import db
    from app.positions.models import Movement

    with app.app_context():
        return db.session.scalar(sa.select(Movement.position_id).order_by(Movement.id).limit(1))


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize(
    ("username", "page", "export", "header"),
    [
        ("backoffice", "/carichi/", "/carichi/esporta.csv", ["N.", "Ente", "Entrata", "File"]),
        ("backoffice", "/elaborazioni/", "/elaborazioni/esporta.csv", ["N.", "Tipo", "File", "Ente"]),
        (
            "admin",
            "/amministrazione/parametri",
            "/amministrazione/parametri/esporta.csv",
            ["Tipo", "Codice", "Dal", "Al", "Valore", "Fonte", "Verifica"],
        ),
        ("admin", "/amministrazione/batch/", "/amministrazione/batch/esecuzioni.csv", ["Lavoro", "Avvio"]),
    ],
)
def test_lists_export_what_they_show(personas, username: str, page: str, export: str, header: list) -> None:
    client = personas.client(username)
    html = client.get(page).get_data(as_text=True)
    assert f'href="{export}"' in html and 'data-export-format="xlsx"' in html
    rows = _csv(client.get(export))
    assert rows[0][: len(header)] == header
    xlsx = client.get(export.replace(".csv", ".xlsx"))
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_parameters_export_has_every_row_with_its_source(personas, session) -> None:
    from app.enti.models import Parameter, RatePeriod

    rows = _csv(personas.client("admin").get("/amministrazione/parametri/esporta.csv"))[1:]
    expected = session.scalar(sa.select(sa.func.count(RatePeriod.id))) + session.scalar(
        sa.select(sa.func.count(Parameter.id))
    )
    data = [r for r in rows if r and r[0] and (r[0].startswith("Tasso") or r[0] == "Parametro")]
    assert len(data) == expected
    legale = [r for r in data if r[1] == "legale" and r[2] == "2022-01-01"]
    assert legale and legale[0][4] == "1,25%" and legale[0][5]


def test_a_positions_ledger_exports_its_movements(app, personas) -> None:
    from app.extensions import db
    from app.positions.models import Movement

    position_id = _position_id(app)
    client = personas.client("backoffice")
    assert f"/posizioni/{position_id}/movimenti.csv" in client.get(f"/posizioni/{position_id}").get_data(True)
    rows = _csv(client.get(f"/posizioni/{position_id}/movimenti.csv"))
    assert rows[0][:4] == ["N.", "Data valuta", "Registrato", "Tipo"]
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).where(Movement.position_id == position_id))
    assert len([r for r in rows[1:] if r and r[0].isdigit()]) == count
    # the call center reads positions but has no export: no link, and the route refuses it
    callcenter = personas.client("callcenter")
    assert "movimenti.csv" not in callcenter.get(f"/posizioni/{position_id}").get_data(as_text=True)
    assert callcenter.get(f"/posizioni/{position_id}/movimenti.csv").status_code == 403


def test_the_review_queue_exports_every_page(app, personas) -> None:
    from app.extensions import db
    from app.payments.models import ReviewItem

    client = personas.client("backoffice")
    rows = _csv(client.get("/pagamenti/revisione/esporta.csv"))
    assert rows[0][:3] == ["Pagamento", "Data", "Importo"]
    with app.app_context():
        open_items = db.session.scalar(sa.select(sa.func.count()).where(ReviewItem.status == "aperta"))
    assert len([r for r in rows[1:] if r and r[0] and not r[0].startswith("Total")]) == open_items


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("regione", "/carichi/esporta.csv"),
        ("callcenter", "/elaborazioni/esporta.csv"),
        ("backoffice", "/amministrazione/parametri/esporta.csv"),
        ("backoffice", "/amministrazione/batch/esecuzioni.csv"),
        ("sportello", "/pagamenti/revisione/esporta.csv"),
    ],
)
def test_exports_are_refused_without_the_permission(personas, username: str, url: str) -> None:
    assert personas.client(username).get(url).status_code == 403
