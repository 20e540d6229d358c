"""The contact log (issue 12, point 1): a contact registered from the card (one HTMX form), its event on the
timeline, its links, the refusals in Italian, the roles, the scoping, and the header search by phone number
and by the notes' full text."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
from tests.crm.support import csrf_of, ids, topic_id


def _post_contact(app, client, cf: str = MARIO_ROSSI_CF, **fields):  # type: ignore[no-untyped-def]
    with app.app_context():
        taxpayer_id, ente_id = ids(cf, "R01" if cf == MARIO_ROSSI_CF else "R02")
        topic = topic_id(ente_id, fields.pop("topic", "rateazione"))
    data = {
        "csrf_token": csrf_of(client, f"/contribuenti/{taxpayer_id}"),
        "ente": str(ente_id),
        "canale": "telefono",
        "direzione": "in",
        "argomento": str(topic),
        "esito": "da_richiamare",
        "durata": "7",
        "note": "Vuole rateizzare il bollo auto: richiamare lunedì.",
    }
    data.update(fields)
    response = client.post(
        f"/crm/contribuenti/{taxpayer_id}/contatti", data=data, headers={"HX-Request": "true"}
    )
    return taxpayer_id, response


def test_a_call_registered_from_the_card_is_listed_and_on_the_timeline(app, personas) -> None:
    client = personas.client("callcenter")
    taxpayer_id, response = _post_contact(app, client)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="contact-recorded"' in html
    assert "Vuole rateizzare il bollo auto" in html and "7 min" in html and "Da richiamare" in html
    assert "<html" not in html  # a fragment for the section, not a page
    card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert 'id="contatti"' in card
    assert "Telefono in entrata · Rateazione · Da richiamare" in card  # the timeline's event
    from app.core.audit import Event
    from app.crm.contacts.models import Contact
    from app.extensions import db

    with app.app_context():
        contact = db.session.scalars(sa.select(Contact).order_by(Contact.id.desc())).first()
        assert contact.duration_seconds == 420 and contact.operator_label == "Carla Call Center"
        event = db.session.scalars(
            sa.select(Event).where(Event.kind == "contact.recorded").order_by(Event.id.desc())
        ).first()
        assert event.payload["contact_id"] == contact.id and event.taxpayer_id == taxpayer_id


def test_links_to_positions_and_documents_of_the_taxpayer(app, personas) -> None:
    from app.crm.contacts.models import Contact
    from app.extensions import db
    from app.positions.models import Position

    client = personas.client("sportello")
    with app.app_context():
        taxpayer_id, ente_id = ids(MARIO_ROSSI_CF)
        position = db.session.scalars(
            sa.select(Position.id).where(Position.taxpayer_id == taxpayer_id, Position.ente_id == ente_id)
        ).first()
    _, response = _post_contact(app, client, posizioni=str(position), canale="sportello")
    assert 'data-testid="contact-recorded"' in response.get_data(as_text=True)
    with app.app_context():
        contact = db.session.scalars(sa.select(Contact).order_by(Contact.id.desc())).first()
        assert [link.position_id for link in contact.position_links] == [position]


def test_another_taxpayers_position_is_refused_with_an_italian_message(app, personas) -> None:
    from app.extensions import db
    from app.positions.models import Position

    with app.app_context():
        other, _ = ids(SECOND_ENTE_CF, "R02")
        position = db.session.scalars(sa.select(Position.id).where(Position.taxpayer_id == other)).first()
    client = personas.client("backoffice")
    _, response = _post_contact(app, client, posizioni=str(position))
    html = response.get_data(as_text=True)
    assert "contact-recorded" not in html
    assert "Not a valid choice" in html or "non" in html  # the select offers only this taxpayer's positions


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"durata": "-3"}, "La durata è un numero di minuti da 0 a 1440."),
        ({"durata": "99999"}, "La durata è un numero di minuti da 0 a 1440."),
        ({"note": "x" * 4001}, "Al massimo 4000 caratteri."),
        ({"esito": ""}, "Scegli l&#39;esito."),
    ],
)
def test_bad_input_names_the_field_and_keeps_nothing(app, personas, fields, message) -> None:
    from app.crm.contacts.models import Contact
    from app.extensions import db

    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Contact.id)))
    _, response = _post_contact(app, personas.client("callcenter"), **fields)
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == before


def test_a_closed_topic_is_refused(app) -> None:
    from app.auth.models import User
    from app.core.access import principal_of
    from app.core.audit import Actor
    from app.core.errors import DomainError
    from app.crm.contacts import services
    from app.crm.contacts.models import ContactTopic
    from app.extensions import db

    with app.app_context():
        taxpayer_id, ente_id = ids(MARIO_ROSSI_CF)
        old = ContactTopic(
            ente_id=ente_id,
            code="vecchio",
            label="Vecchio",
            valid_from=dt.date(2020, 1, 1),
            valid_to=dt.date(2021, 12, 31),
        )
        db.session.add(old)
        db.session.flush()
        user = db.session.scalars(sa.select(User).where(User.username == "callcenter")).one()
        with pytest.raises(DomainError, match="Argomento non valido"):
            services.record_contact(
                db.session,
                principal_of(user),
                Actor(user.id, user.display_name),
                services.ContactInput(taxpayer_id, ente_id, "telefono", "in", old.id, "risolto"),
            )


def test_regione_reads_the_section_but_cannot_register(app, personas) -> None:
    client = personas.client("regione")
    with app.app_context():
        taxpayer_id, ente_id = ids(MARIO_ROSSI_CF)
    section = client.get(f"/crm/contribuenti/{taxpayer_id}/contatti")
    assert section.status_code == 200
    html = section.get_data(as_text=True)
    assert "Pagamento allo sportello" in html  # a demo contact
    assert "contact-form" not in html and "Prenota un appuntamento" not in html
    response = client.post(
        f"/crm/contribuenti/{taxpayer_id}/contatti",
        data={"csrf_token": csrf_of(client, "/"), "ente": str(ente_id)},
    )
    assert response.status_code == 403


def test_another_entes_taxpayer_is_not_found(app, personas) -> None:
    """regione (R01) cannot read or write the contacts of an R02-only taxpayer."""
    client = personas.client("regione")
    with app.app_context():
        taxpayer_id, _ = ids(SECOND_ENTE_CF, "R02")
    assert client.get(f"/crm/contribuenti/{taxpayer_id}/contatti").status_code == 404


def test_a_taxpayer_account_cannot_reach_the_contact_log(app, personas) -> None:
    client = personas.client("contribuente")
    with app.app_context():
        taxpayer_id, _ = ids(MARIO_ROSSI_CF)
    assert client.get(f"/crm/contribuenti/{taxpayer_id}/contatti").status_code == 403
    assert client.get("/crm/statistiche").status_code == 403


def test_contacts_are_scoped_per_ente(app) -> None:
    from app.auth.models import User
    from app.core.access import principal_of
    from app.crm.contacts import queries
    from app.extensions import db

    with app.app_context():
        verdi, _ = ids(SECOND_ENTE_CF, "R02")
        regione = db.session.scalars(sa.select(User).where(User.username == "regione")).one()
        regione2 = db.session.scalars(sa.select(User).where(User.username == "regione2")).one()
        assert queries.list_contacts_of_taxpayer(db.session, principal_of(regione), verdi) == []
        assert queries.list_contacts_of_taxpayer(db.session, principal_of(regione2), verdi)


@pytest.mark.parametrize("query", ["+39 06 5551234", "06-5551234", "0039 06 555 1234", "065551234"])
def test_the_header_search_finds_the_taxpayer_by_phone_number(personas, query) -> None:
    html = personas.client("callcenter").get("/contribuenti/", query_string={"q": query}).get_data(True)
    assert "Rossi Mario" in html, query


def test_the_header_search_finds_contact_notes_by_full_text(personas) -> None:
    """The words in any order (full text, not a substring): "veicolo venduto" finds "venduto il veicolo"."""
    html = (
        personas.client("callcenter")
        .get("/contribuenti/", query_string={"q": "veicolo venduto"})
        .get_data(True)
    )
    assert 'data-testid="search-contacts"' in html
    assert "Verdi Giuseppe" in html and "venduto il veicolo" in html


def test_the_notes_search_is_scoped(personas) -> None:
    html = (
        personas.client("regione").get("/contribuenti/", query_string={"q": "veicolo venduto"}).get_data(True)
    )
    assert "venduto il veicolo" not in html  # an R02 taxpayer's contact, regione sees R01 only
    html = (
        personas.client("regione")
        .get("/contribuenti/", query_string={"q": "quietanza sportello"})
        .get_data(True)
    )
    assert "Rossi Mario" in html
