"""Coordination of third parties: the request goes out by e-mail with the reference, the clock stands still
while the ticket waits for them, their answer is an internal note and the ticket is back in charge; bad input
is refused in Italian. Through the screen too (agents only; the Regione referent reads)."""

from __future__ import annotations

import pytest

from app.core.audit import Actor
from app.core.errors import DomainError
from tests.conftest import csrf_token
from tests.helpdesk.conftest import new_ticket, rome

AGENT = Actor(user_id=None, label="Agente di prova")


def test_a_third_party_is_asked_the_clock_pauses_and_their_answer_brings_the_ticket_back(session) -> None:
    from app.helpdesk import sla, third_parties
    from app.helpdesk.models import TicketMail

    ticket = new_ticket(session, now=rome(2026, 12, 14, 9))
    with pytest.raises(DomainError, match="E-mail del terzo non valida"):
        third_parties.involve(
            session,
            ticket,
            party="Poste",
            email="poste",
            request="Esito?",
            actor=AGENT,
            now=rome(2026, 12, 14, 9, 10),
        )
    mail = third_parties.involve(
        session,
        ticket,
        party="Poste Italiane – recapiti",
        email="recapiti@poste.invalid",
        request="Esito della raccomandata 123456789012?",
        actor=AGENT,
        now=rome(2026, 12, 14, 9, 10),
    )
    assert ticket.status == "in_attesa" and ticket.resolution_due_dt is None  # the clock stands still
    assert session.get(TicketMail, mail.id).purpose == "third_party" and ticket.reference in mail.subject
    third_parties.record_answer(
        session,
        ticket,
        party="Poste Italiane",
        answer="Consegnata il 10/12/2026.",
        actor=AGENT,
        now=rome(2026, 12, 15, 9, 10),
    )
    assert ticket.status == "in_carico"
    kinds = [e.kind for e in ticket.events]
    assert "third_party" in kinds and "third_party_answer" in kinds
    note = ticket.comments[-1]
    assert note.internal and note.body.startswith("Risposta di Poste Italiane:")
    # the day waiting (14/12 09:10 to 15/12 09:10) is not counted: the deadline moved by one business day
    clocks = sla.evaluate(session, ticket, rome(2026, 12, 15, 9, 10))
    assert clocks  # evaluated without error on a ticket that paused and resumed
    with pytest.raises(DomainError, match="non è in attesa di terzi"):
        third_parties.record_answer(
            session, ticket, party="Poste", answer="Di nuovo", actor=AGENT, now=rome(2026, 12, 15, 10)
        )


def test_the_screen_involves_a_third_party_and_the_regione_referent_cannot(app, personas) -> None:
    from app.extensions import db

    with app.app_context():
        ticket_id = new_ticket(db.session).id
        db.session.commit()
    page = f"/assistenza/{ticket_id}"
    regione = personas.client("regione")  # reads the ticket, does not move it
    refused = regione.post(
        f"{page}/terzi",
        data={"csrf_token": csrf_token(regione, page), "party": "ACI", "email": "a@b.it", "request": "x"},
    )
    assert refused.status_code == 403
    admin = personas.client("admin")
    token = csrf_token(admin, page)
    response = admin.post(
        f"{page}/terzi",
        data={
            "csrf_token": token,
            "party": "ACI – PRA",
            "email": "pra@aci.invalid",
            "request": "Visura del veicolo",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "in attesa di terzi" in html and "Richiesta a terzi" in html
    response = admin.post(
        f"{page}/terzi/risposta",
        data={"csrf_token": token, "party": "ACI – PRA", "answer": "Veicolo intestato al contribuente."},
        follow_redirects=True,
    )
    assert "Risposta del terzo registrata" in response.get_data(as_text=True)
