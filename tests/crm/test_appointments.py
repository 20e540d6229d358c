"""The appointment calendar (issue 12, point 1): slots from each sportello's rules (national holidays closed),
booking by phone from the card and by the taxpayer in self-service, the confirmation recorded as an outgoing
contact, an event per booking and cancellation, and no double booking under concurrency (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
from tests.crm.support import csrf_of, ids

ROME = ZoneInfo("Europe/Rome")


def _next_working_day(weekday: int = 1) -> dt.date:
    """A day at least a week ahead on `weekday` (0 = Monday) that is no national holiday."""
    from app.core.calendar import is_italian_holiday

    day = dt.date.today() + dt.timedelta(days=7)
    while day.weekday() != weekday or is_italian_holiday(day):
        day += dt.timedelta(days=1)
    return day


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ROME).astimezone(dt.UTC)


def _sportello(code: str = "ROMA1"):  # type: ignore[no-untyped-def]
    from app.crm.contacts.models import Sportello
    from app.extensions import db

    return db.session.scalars(sa.select(Sportello).where(Sportello.code == code)).one()


def test_slots_follow_the_rules_and_holidays_are_closed(app) -> None:
    from app.crm.contacts.queries import slots_of_day

    with app.app_context():
        sportello = _sportello()
        tuesday = _next_working_day(1)
        slots = slots_of_day(sportello, tuesday)
        starts = [s.local_start.strftime("%H:%M") for s in slots]
        assert starts[:2] == ["09:00", "09:30"] and "12:00" in starts and "12:30" not in starts
        assert "14:30" in starts and "16:00" in starts  # Tuesday afternoon
        assert slots[0].capacity == 2
        assert slots_of_day(sportello, _next_working_day(5)) == []  # Saturday: no rule
        assert slots_of_day(sportello, dt.date(2027, 6, 2)) == []  # Festa della Repubblica (a Wednesday)


def test_an_operator_books_by_phone_from_the_card(app, personas) -> None:
    from app.core.audit import Event
    from app.crm.contacts.models import Appointment, Contact
    from app.extensions import db

    client = personas.client("callcenter")
    day = _next_working_day(1)
    with app.app_context():
        taxpayer_id, _ = ids(MARIO_ROSSI_CF)
        sportello_id = _sportello().id
    fragment = client.get(
        f"/crm/contribuenti/{taxpayer_id}/appuntamenti",
        query_string={"sportello": sportello_id, "giorno": day},
    ).get_data(as_text=True)
    assert "Prenota 09:00" in fragment and "(2 posti)" in fragment
    start = _at(day, 9)
    response = client.post(
        f"/crm/contribuenti/{taxpayer_id}/appuntamenti",
        data={
            "csrf_token": csrf_of(client, "/"),
            "sportello": str(sportello_id),
            "inizio": start.isoformat(),
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#contatti")
    with app.app_context():
        appointment = db.session.scalars(sa.select(Appointment).where(Appointment.start_dt == start)).one()
        assert appointment.booked_via == "operatore" and appointment.seat == 1
        confirmation = db.session.get(Contact, appointment.confirmation_contact_id)
        assert confirmation.direction == "out" and confirmation.outcome == "appuntamento"
        assert (
            "Conferma dell'appuntamento" in confirmation.notes
            and "Via Cristoforo Colombo" in confirmation.notes
        )
        kinds = set(db.session.scalars(sa.select(Event.kind).where(Event.taxpayer_id == taxpayer_id)))
        assert {"appointment.booked", "contact.recorded"} <= kinds
    day_view = client.get(f"/crm/sportelli/{sportello_id}", query_string={"giorno": day}).get_data(True)
    assert "Rossi Mario" in day_view and "1 di 2" in day_view
    # the same taxpayer twice in one slot: refused in Italian
    again = client.post(
        f"/crm/contribuenti/{taxpayer_id}/appuntamenti",
        data={
            "csrf_token": csrf_of(client, "/"),
            "sportello": str(sportello_id),
            "inizio": start.isoformat(),
        },
        follow_redirects=True,
    )
    assert "già un appuntamento in questo orario" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda: _at(_next_working_day(1), 9, 10), "Orario non disponibile"),  # not a slot start
        (lambda: _at(_next_working_day(5), 9), "Orario non disponibile"),  # Saturday
        (lambda: _at(dt.date(2027, 6, 2), 9), "Orario non disponibile"),  # a national holiday
    ],
)
def test_a_time_that_is_no_slot_is_refused(app, personas, when, message) -> None:
    client = personas.client("sportello")
    with app.app_context():
        taxpayer_id, _ = ids(MARIO_ROSSI_CF)
        sportello_id = _sportello().id
    response = client.post(
        f"/crm/contribuenti/{taxpayer_id}/appuntamenti",
        data={
            "csrf_token": csrf_of(client, "/"),
            "sportello": str(sportello_id),
            "inizio": when().isoformat(),
        },
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True)


def test_a_sportello_of_another_ente_is_not_bookable(app, personas) -> None:
    """The R02 sportello for an R01-only taxpayer: not found (the taxpayer is not of that ente)."""
    client = personas.client("callcenter")
    with app.app_context():
        taxpayer_id, _ = ids(MARIO_ROSSI_CF)
        milano = _sportello("MILANO1").id
    response = client.post(
        f"/crm/contribuenti/{taxpayer_id}/appuntamenti",
        data={
            "csrf_token": csrf_of(client, "/"),
            "sportello": str(milano),
            "inizio": _at(_next_working_day(1), 9).isoformat(),
        },
    )
    assert response.status_code == 404


def test_the_taxpayer_books_and_cancels_in_self_service(app, personas) -> None:
    from app.crm.contacts.models import Appointment, Contact
    from app.extensions import db

    client = personas.client("contribuente")
    day = _next_working_day(3)
    with app.app_context():
        sportello_id = _sportello().id
        milano = _sportello("MILANO1").id
    page = client.get("/self-service/appuntamenti", query_string={"sportello": sportello_id, "giorno": day})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Prenota 09:00" in html
    assert "Milano" not in html  # Mario Rossi owes R01 only: R02's sportello is not offered
    start = _at(day, 10)
    response = client.post(
        "/self-service/appuntamenti",
        data={
            "csrf_token": csrf_of(client, "/self-service/appuntamenti"),
            "sportello": str(sportello_id),
            "inizio": start.isoformat(),
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Appuntamento prenotato" in html and 'data-testid="my-appointments"' in html
    with app.app_context():
        appointment = db.session.scalars(sa.select(Appointment).where(Appointment.start_dt == start)).one()
        assert appointment.booked_via == "self_service"
        from app.crm.messages.models import Message

        message = db.session.scalars(
            sa.select(Message).where(Message.dedup_key == f"appuntamento:{appointment.id}")
        ).one()
        assert message.purpose == "appuntamento" and message.status == "in_coda"
        assert "alle ore 10:00" in message.body or "ore 10:00" in message.body
        confirmation = db.session.get(Contact, appointment.confirmation_contact_id)
        assert confirmation.channel == message.channel and f"messaggio n. {message.id}" in confirmation.notes
        appointment_id = appointment.id
    refused = client.post(
        "/self-service/appuntamenti",
        data={
            "csrf_token": csrf_of(client, "/self-service/appuntamenti"),
            "sportello": str(milano),
            "inizio": _at(day, 9).isoformat(),
        },
    )
    assert refused.status_code == 404
    cancelled = client.post(
        f"/self-service/appuntamenti/{appointment_id}/annulla",
        data={"csrf_token": csrf_of(client, "/self-service/appuntamenti")},
        follow_redirects=True,
    )
    assert "Appuntamento annullato" in cancelled.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Appointment, appointment_id).status == "cancelled"


def test_a_taxpayer_cannot_cancel_someone_elses_appointment(app, personas) -> None:
    from app.auth.models import User
    from app.core.access import principal_of
    from app.core.audit import Actor
    from app.crm.contacts import services
    from app.crm.contacts.models import Appointment
    from app.extensions import db

    with app.app_context():
        verdi, _ = ids(SECOND_ENTE_CF, "R02")
        user = db.session.scalars(sa.select(User).where(User.username == "callcenter")).one()
        from app.crm.messages.models import CHANNELS as MESSAGE_CHANNELS
        from app.crm.messages.services import record_consent
        from app.taxpayers.models import Taxpayer

        for channel in MESSAGE_CHANNELS:  # Verdi refuses every channel: the confirmation cannot be sent
            record_consent(
                db.session,
                db.session.get(Taxpayer, verdi),
                channel=channel,
                granted=False,
                source="test",
                actor=Actor(user.id, user.display_name),
            )
        appointment = services.book_appointment(
            db.session,
            principal_of(user),
            Actor(user.id, user.display_name),
            sportello_id=_sportello("MILANO1").id,
            taxpayer_id=verdi,
            start_dt=_at(_next_working_day(2), 11),
        )
        db.session.commit()
        appointment_id = appointment.id
    client = personas.client("contribuente")
    response = client.post(
        f"/self-service/appuntamenti/{appointment_id}/annulla",
        data={"csrf_token": csrf_of(client, "/self-service/appuntamenti")},
    )
    assert response.status_code == 404
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        assert appointment.status == "booked"
        # the message was refused: the contact says why, on the booking's channel (the call)
        from app.crm.contacts.models import Contact
        from app.crm.messages.models import Message

        message = db.session.scalars(
            sa.select(Message).where(Message.dedup_key == f"appuntamento:{appointment_id}")
        ).one()
        confirmation = db.session.get(Contact, appointment.confirmation_contact_id)
        assert message.status == "rifiutato"
        assert (
            confirmation.channel == "telefono"
            and f"messaggio non inviato ({message.reason})" in confirmation.notes
        )


def test_the_last_seat_booked_by_two_operators_at_once_goes_to_one(app, database_url) -> None:
    """Two transactions on their own connections (outside the test's rolled-back one): the first books the
    only seat and holds its transaction open; the second blocks on the unique index, then is refused once
    the first commits. One appointment, one clear refusal."""
    from app.auth.models import User
    from app.core.access import principal_of
    from app.core.audit import Actor, Event
    from app.core.errors import DomainError
    from app.crm.contacts import services
    from app.crm.contacts.models import Appointment, Contact, SlotRule, Sportello
    from app.enti.models import Ente
    from app.taxpayers.models import TaxpayerEnte

    engine = sa.create_engine(database_url)
    context = app.app_context()  # the confirmation message reads the app's configuration
    context.push()
    day = _next_working_day(4)
    start = _at(day, 10)
    try:
        with Session(engine) as setup:
            ente_id = setup.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
            sportello = services.ensure_sportello(
                setup,
                ente_id,
                code="CONC",
                name="Sportello di prova",
                address="Via Prova 1",
                hours=[(day.weekday(), dt.time(10), dt.time(11), 30, 1)],
            )
            first, second = setup.scalars(
                sa.select(TaxpayerEnte.taxpayer_id).where(TaxpayerEnte.ente_id == ente_id).limit(2)
            ).all()
            user = setup.scalars(sa.select(User).where(User.username == "callcenter")).one()
            principal, actor = principal_of(user), Actor(user.id, user.display_name)
            sportello_id = sportello.id
            setup.commit()
        outcome: dict[str, object] = {}
        a = Session(engine)
        services.book_appointment(
            a, principal, actor, sportello_id=sportello_id, taxpayer_id=first, start_dt=start
        )
        a.flush()  # seat 1 taken, not committed

        def other() -> None:
            with Session(engine) as b:
                try:
                    services.book_appointment(
                        b, principal, actor, sportello_id=sportello_id, taxpayer_id=second, start_dt=start
                    )
                    b.commit()
                    outcome["b"] = "booked"
                except DomainError as exc:
                    b.rollback()
                    outcome["b"] = exc.message

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the second booking should wait for the first transaction"
        a.commit()
        a.close()
        thread.join(timeout=10)
        assert outcome["b"] == "Orario al completo: scegline un altro."
        with Session(engine) as check:
            booked = check.scalars(
                sa.select(Appointment).where(
                    Appointment.sportello_id == sportello_id, Appointment.status == "booked"
                )
            ).all()
            assert [(x.taxpayer_id, x.seat) for x in booked] == [(first, 1)]
    finally:
        with Session(engine) as cleanup:
            sportello_ids = cleanup.scalars(sa.select(Sportello.id).where(Sportello.code == "CONC")).all()
            appointments = cleanup.scalars(
                sa.select(Appointment).where(Appointment.sportello_id.in_(sportello_ids))
            ).all()
            contact_ids = [x.confirmation_contact_id for x in appointments if x.confirmation_contact_id]
            for x in appointments:
                cleanup.delete(x)
            cleanup.flush()
            cleanup.execute(
                sa.delete(Event).where(
                    Event.kind.in_(["appointment.booked", "contact.recorded"]),
                    Event.occurred_dt >= dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
                    Event.summary.contains("Sportello di prova")
                    | Event.payload["contact_id"].as_integer().in_(contact_ids),
                )
            )
            cleanup.execute(sa.delete(Contact).where(Contact.id.in_(contact_ids)))
            cleanup.execute(sa.delete(SlotRule).where(SlotRule.sportello_id.in_(sportello_ids)))
            cleanup.execute(sa.delete(Sportello).where(Sportello.id.in_(sportello_ids)))
            from app.crm.messages.models import Message

            cleanup.execute(
                sa.delete(Event).where(Event.kind.like("message.%"), Event.taxpayer_id.in_([first, second]))
            )
            cleanup.execute(
                sa.delete(Message).where(
                    Message.dedup_key.in_([f"appuntamento:{x.id}" for x in appointments])
                )
            )
            cleanup.commit()
        engine.dispose()
        context.pop()
