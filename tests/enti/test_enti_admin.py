"""Enti and entrate on screen (issue 15 point 7): create and edit, each change an event and a version in the
history shown on the page; the entrata's rate table and regimes come from the parameter tables; other roles
and other enti are refused."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import csrf_token

LIST = "/amministrazione/enti/"


def _post(client, url: str, **data: str):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def test_an_administrator_creates_and_edits_an_ente_with_history(app, personas) -> None:
    from app.core.audit import Event
    from app.core.history import RowVersion
    from app.enti.models import Ente
    from app.extensions import db

    client = personas.client("admin")
    data = {
        "code": "R09",
        "name": "Regione Nona",
        "codice_fiscale": "80012345678",
        "segregation_code": "09",
        "postal_account": "",
    }
    bad = _post(client, "/amministrazione/enti/nuovo", **{**data, "codice_fiscale": "8001"})
    assert bad.status_code == 200 and "11 cifre" in bad.get_data(as_text=True)
    response = _post(client, "/amministrazione/enti/nuovo", **data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/amministrazione/enti/R09")
    assert "R09 – Regione Nona" in client.get(LIST).get_data(as_text=True)
    response = _post(
        client,
        "/amministrazione/enti/R09",
        **{**data, "name": "Regione Nona (nuova)", "postal_account": "001234567890"},
    )
    assert response.status_code == 302
    page = client.get("/amministrazione/enti/R09").get_data(as_text=True)
    assert "name era «Regione Nona»" in page
    with app.app_context():
        ente = db.session.scalars(sa.select(Ente).where(Ente.code == "R09")).one()
        assert (ente.name, ente.postal_account) == ("Regione Nona (nuova)", "001234567890")
        version = db.session.scalars(
            sa.select(RowVersion).where(RowVersion.table_name == "enti", RowVersion.row_id == ente.id)
        ).one()
        assert set(version.changed) == {"name", "postal_account"}
        kinds = list(
            db.session.scalars(sa.select(Event.kind).where(Event.ente_id == ente.id).order_by(Event.id))
        )
        assert kinds == ["ente.created", "ente.updated"]


def test_an_entrata_is_created_and_edited_with_choices_from_the_parameters(app, personas) -> None:
    from app.core.history import RowVersion
    from app.enti.models import Ente, Entrata
    from app.extensions import db

    client = personas.client("admin")
    form = client.get("/amministrazione/enti/R01/entrate/nuova").get_data(as_text=True)
    assert (
        '<option value="legale">' in form
        and '<option value="l160">' in form
        and '<option value="5y">' in form
    )
    data = {
        "code": "BOLLO_NAUTICO",
        "name": "Tassa nautica",
        "capitolo": "E1010",
        "interest_rate_table": "legale",
        "prescription_regime": "5y",
        "installment_regime": "l160",
    }
    assert (
        _post(
            client, "/amministrazione/enti/R01/entrate/nuova", **{**data, "interest_rate_table": "x"}
        ).status_code
        == 200
    )
    response = _post(client, "/amministrazione/enti/R01/entrate/nuova", **data)
    assert response.status_code == 302
    url = "/amministrazione/enti/R01/entrate/BOLLO_NAUTICO"
    assert _post(client, url, **{**data, "capitolo": "E2020"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "capitolo era «E1010»" in page
    with app.app_context():
        r01 = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        entrata = db.session.scalars(
            sa.select(Entrata).where(Entrata.ente_id == r01.id, Entrata.code == "BOLLO_NAUTICO")
        ).one()
        assert entrata.capitolo == "E2020"
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    RowVersion.table_name == "entrate", RowVersion.row_id == entrata.id
                )
            )
            == 1
        )
    # an existing entrata shows its rules (amount-due rule) from the parameter rows
    assert "regola_dovuto" in client.get("/amministrazione/enti/R01/entrate/TASSA_AUTO").get_data(
        as_text=True
    )


def test_enti_screens_are_refused_to_other_roles(personas) -> None:
    for username in ("backoffice", "regione"):
        client = personas.client(username)
        assert client.get(LIST).status_code == 403
        assert client.get("/amministrazione/enti/R01").status_code == 403
