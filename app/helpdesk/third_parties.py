"""Coordination of third parties (R-D3): a ticket that needs someone outside the Gestore and the Regione's
desk (Poste, ACI/PRA, a bank, the ente's own office) involves them by e-mail with the request; the clock
pauses (status `in_attesa`) until their answer is recorded, then the ticket is back in charge. Never
commits."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from app.core.audit import Actor
from app.core.errors import DomainError
from app.helpdesk.models import Ticket, TicketMail
from app.helpdesk.services import (
    MAX_TEXT,
    TRANSFERABLE,
    _event,
    _move,
    add_comment,
    queue_mail,
    reply_subject,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def involve(
    session: Session, ticket: Ticket, *, party: str, email: str, request: str, actor: Actor, now: dt.datetime
) -> TicketMail:
    """Ask a third party: the request goes to them by e-mail (reference in the subject, so their reply threads
    on the ticket), the ticket waits for them (clock paused), an event names them."""
    party, email, text = party.strip(), email.strip(), request.strip()
    if not party:
        raise DomainError("Terzo coinvolto: indica chi è (es. «Poste Italiane – ufficio recapiti»).")
    if not _EMAIL.match(email):
        raise DomainError(f"E-mail del terzo non valida: {email or '(vuota)'}.")
    if not text:
        raise DomainError("Richiesta al terzo: obbligatoria.")
    if ticket.status not in TRANSFERABLE:
        raise DomainError("Si coinvolgono terzi soltanto su una segnalazione aperta.")
    _move(session, ticket, "in_attesa", actor, now, f"In attesa di {party}"[:1000])
    _event(session, ticket, actor, "third_party", now, text[:1000], detail={"party": party, "email": email})
    return queue_mail(
        session,
        ticket,
        "third_party",
        email,
        f"Richiesta di collaborazione {reply_subject(ticket)}",
        f"Gentile {party},\n\nper la segnalazione {ticket.reference} ({ticket.subject}) le chiediamo:\n\n"
        f"{text[:MAX_TEXT]}\n\n--\nPer rispondere, lasciare il riferimento {ticket.reference} nell'oggetto.",
    )


def record_answer(
    session: Session, ticket: Ticket, *, party: str, answer: str, actor: Actor, now: dt.datetime
) -> None:
    """The third party's answer: kept as an internal note naming them, and the ticket back in charge."""
    party, text = party.strip(), answer.strip()
    if not party or not text:
        raise DomainError("Risposta del terzo: indica chi ha risposto e che cosa.")
    if ticket.status != "in_attesa":
        raise DomainError("La segnalazione non è in attesa di terzi.")
    add_comment(session, ticket, f"Risposta di {party}:\n{text}", actor, now=now, internal=True)
    _event(session, ticket, actor, "third_party_answer", now, text[:1000], detail={"party": party})
    _move(session, ticket, "in_carico", actor, now, f"Risposta di {party} registrata"[:1000])
