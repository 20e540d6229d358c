"""The taxpayer card: anagrafica, addresses/contacts with history, balances from the ledger, timeline."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from tests.test_access import taxpayer_id


def test_card_shows_positions_with_balances_from_the_ledger_and_the_timeline(app, personas) -> None:
    from app.extensions import db
    from app.positions.models import Movement, Position
    from app.reports.formatting import format_eur

    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
        total = db.session.scalar(
            sa.select(sa.func.sum(Movement.amount_cents)).join(Position).where(Position.taxpayer_id == mario)
        )
        externals = db.session.scalars(
            sa.select(Position.external_id).where(Position.taxpayer_id == mario)
        ).all()
    html = personas.client("sportello").get(f"/contribuenti/{mario}").get_data(as_text=True)
    assert format_eur(int(total)).replace("\xa0", " ") in html.replace("\xa0", " ")
    for external in externals:
        assert external in html
    assert "Via del Corso 12" in html and "mario.rossi@pec.esempio.it" in html
    assert "Posizione caricata" in html  # the timeline


def test_a_changed_address_keeps_the_old_one_and_the_card_shows_it_as_of_a_past_date(app, personas) -> None:
    from app.core.audit import Actor
    from app.extensions import db
    from app.taxpayers.models import Taxpayer
    from app.taxpayers.services import AddressData, set_address

    with app.app_context():
        taxpayer = db.session.scalars(
            sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).one()
        future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        set_address(
            db.session,
            Actor.system("test"),
            taxpayer,
            AddressData(
                kind="residenza", street="Piazza Navona 1", cap="00186", comune="Roma", provincia="RM"
            ),
            source="lista di carico 99",
            now=future,
        )
        taxpayer.surname = "Rossini"
        db.session.commit()
        mario = taxpayer.id
    client = personas.client("backoffice")
    now_html = client.get(f"/contribuenti/{mario}?al={(future + dt.timedelta(days=1)).date()}").get_data(True)
    assert "Piazza Navona 1" in now_html and "lista di carico 99" in now_html
    past_html = client.get(f"/contribuenti/{mario}?al={dt.date.today() - dt.timedelta(days=1)}").get_data(
        True
    )
    assert "Rossini" not in past_html.split("Anagrafica")[1].split("Indirizzi")[0]
    assert "Piazza Navona 1" not in past_html
    current = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    assert "Rossini" in current and "Via del Corso 12" in current  # history kept, marked as such
    with app.app_context():
        from app.core.history import RowVersion

        version = db.session.scalars(
            sa.select(RowVersion).where(RowVersion.table_name == "taxpayers", RowVersion.row_id == mario)
        ).one()
        assert version.before["surname"] == "Rossi" and version.changed == ["surname"]


def test_card_fragment_for_htmx(personas, app) -> None:
    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
    html = (
        personas.client("sportello")
        .get(f"/contribuenti/{mario}", headers={"HX-Request": "true"})
        .get_data(True)
    )
    assert "Posizioni debitorie" in html and "<html" not in html


def test_taxpayer_sees_only_their_own_positions(app, personas) -> None:
    html = personas.client("contribuente").get("/self-service/").get_data(as_text=True)
    assert MARIO_ROSSI_CF in html and "Verdi" not in html
