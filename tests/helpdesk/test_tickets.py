"""Tickets on PostgreSQL: the workflow with its history and pauses, the SLA check (warning, breach at the
exact minute, idempotent), and reference numbers unique and gap-free under concurrent creation."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor
from app.core.errors import DomainError
from tests.helpdesk.conftest import ente_id, new_ticket, rome

AGENT = Actor(user_id=None, label="Agente")


def test_a_ticket_gets_its_reference_and_starts_both_clocks(session) -> None:
    ticket = new_ticket(session)
    assert ticket.reference.startswith("TT-2026-") and len(ticket.reference) == len("TT-2026-000001")
    assert ticket.status == "nuovo"
    # alta: 60 minutes to respond, 480 to resolve, on Monday 14 December from 9:00 (lunch 13-14)
    assert ticket.response_due_dt == rome(2026, 12, 14, 10)
    assert ticket.resolution_due_dt == rome(2026, 12, 14, 18)
    assert [e.kind for e in ticket.events] == ["opened"]


def test_the_workflow_pauses_the_clock_and_keeps_the_history(session) -> None:
    from app.helpdesk import services, sla

    ticket = new_ticket(session)
    services.change_status(session, ticket, "in_carico", AGENT, now=rome(2026, 12, 14, 9, 20))
    assert ticket.first_response_dt == rome(2026, 12, 14, 9, 20)
    services.change_status(session, ticket, "in_attesa", AGENT, now=rome(2026, 12, 14, 10), note="Attendo")
    assert ticket.resolution_due_dt is None  # paused: no deadline
    services.change_status(session, ticket, "in_carico", AGENT, now=rome(2026, 12, 15, 10))
    # 60 business minutes ran before the pause; the 420 left run from Tuesday 10:00 to 18:00
    assert ticket.resolution_due_dt == rome(2026, 12, 15, 18)
    with pytest.raises(DomainError, match="Soluzione adottata"):
        services.change_status(session, ticket, "risolto", AGENT, now=rome(2026, 12, 15, 11))
    services.change_status(
        session,
        ticket,
        "risolto",
        AGENT,
        now=rome(2026, 12, 15, 11),
        solution="Riconciliato a mano il pagamento del 10/12.",
    )
    clocks = sla.evaluate(session, ticket, rome(2026, 12, 20, 12))
    assert clocks is not None and clocks.resolution_elapsed == 120 and clocks.resolution_late == 0
    assert ticket.resolution_minutes == 120
    with pytest.raises(DomainError, match="non si può passare"):
        services.change_status(session, ticket, "in_attesa", AGENT, now=rome(2026, 12, 15, 12))
    services.change_status(session, ticket, "riaperto", AGENT, now=rome(2026, 12, 16, 9))
    assert ticket.reopen_count == 1 and ticket.resolved_dt is None
    services.change_status(session, ticket, "risolto", AGENT, now=rome(2026, 12, 16, 9, 30), solution="Ok.")
    services.change_status(session, ticket, "chiuso", AGENT, now=rome(2026, 12, 17, 9))
    steps = [(e.from_status, e.to_status) for e in ticket.events if e.kind == "status"]
    assert steps == [
        ("nuovo", "in_carico"),
        ("in_carico", "in_attesa"),
        ("in_attesa", "in_carico"),
        ("in_carico", "risolto"),
        ("risolto", "riaperto"),
        ("riaperto", "risolto"),
        ("risolto", "chiuso"),
    ]
    assert [p.status for p in ticket.pauses] == ["in_attesa", "risolto", "risolto", "chiuso"]
    session.flush()
    from app.core.history import versions_of

    assert versions_of(session, ticket)  # the ticket's previous versions are kept (R-A20)


def test_transfer_to_the_regione_and_its_answer(session) -> None:
    from app.helpdesk import services
    from app.helpdesk.models import TicketMail

    ticket = new_ticket(session)
    with pytest.raises(DomainError, match="Motivo"):
        services.transfer(session, ticket, " ", AGENT, now=rome(2026, 12, 14, 9, 10), recipient=None)
    mail = services.transfer(
        session,
        ticket,
        "Dato anagrafico della Regione errato",
        AGENT,
        now=rome(2026, 12, 14, 9, 10),
        recipient="primolivello@regione.invalid",
    )
    assert ticket.status == "trasferito" and ticket.resolution_due_dt is None
    assert mail is not None and ticket.reference in mail.subject and mail.status == "queued"
    assert session.get(TicketMail, mail.id).recipient == "primolivello@regione.invalid"
    services.record_transfer_answer(
        session, ticket, "Corretto in anagrafe regionale.", AGENT, now=rome(2026, 12, 14, 11)
    )
    assert ticket.status == "in_carico" and ticket.transfer_answer == "Corretto in anagrafe regionale."
    assert "transfer_answer" in [e.kind for e in ticket.events]


def test_the_sla_check_warns_then_records_the_breach_at_the_exact_minute(session) -> None:
    from app.helpdesk import services
    from app.helpdesk.models import TicketMail

    ticket = new_ticket(session, requester_email="richiedente@example.invalid")  # alta: respond by 10:00
    alert = "coordinatore@gestore.invalid"
    assert services.check_sla(session, rome(2026, 12, 14, 9, 20), alert_to=alert)["warnings"] == 0
    counts = services.check_sla(session, rome(2026, 12, 14, 9, 31), alert_to=alert)  # 29 minutes left
    assert counts["warnings"] == 1 and ticket.response_warned
    warning = session.scalars(
        sa.select(TicketMail).where(TicketMail.ticket_id == ticket.id, TicketMail.purpose == "sla_warning")
    ).one()
    assert warning.recipient == alert and ticket.reference in warning.subject
    assert services.check_sla(session, rome(2026, 12, 14, 10), alert_to=alert)["breaches"] == 0
    assert ticket.response_late_minutes is None  # at the deadline itself: in time
    counts = services.check_sla(session, rome(2026, 12, 14, 10, 1), alert_to=alert)
    assert counts["breaches"] == 1 and ticket.response_late_minutes == 1
    breach = [e for e in ticket.events if e.kind == "sla_breach"]
    assert len(breach) == 1 and breach[0].detail == {"clock": "response", "minutes_late": 1}
    # again: nothing new recorded, the minutes late keep growing while nobody answers
    assert services.check_sla(session, rome(2026, 12, 14, 10, 30), alert_to=alert)["breaches"] == 0
    assert ticket.response_late_minutes == 30
    services.change_status(session, ticket, "in_carico", AGENT, now=rome(2026, 12, 14, 10, 45))
    services.check_sla(session, rome(2026, 12, 14, 12), alert_to=alert)
    assert ticket.response_late_minutes == 45  # frozen at the first response


def test_an_unknown_urgency_class_is_refused(session) -> None:
    with pytest.raises(DomainError, match="Classe di urgenza"):
        new_ticket(session, urgency="urgentissima")


def test_reference_numbers_are_unique_and_gap_free_under_concurrent_creation(app, database_url) -> None:
    """Twelve threads, each with its own connection and session, open tickets at the same time."""
    from app.helpdesk import services
    from app.helpdesk.models import Ticket, TicketCounter, TicketEvent

    engine = sa.create_engine(database_url, pool_size=12)
    with app.app_context(), Session(engine) as setup:
        r01 = ente_id(setup)
    barrier = threading.Barrier(12)
    references: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            with app.app_context(), Session(engine) as own:
                barrier.wait(timeout=30)
                ticket = services.open_ticket(
                    own,
                    services.NewTicket(
                        ente_id=r01,
                        channel="telefono",
                        urgency="media",
                        category="altro",
                        subject=f"Concorrenza {n}",
                        description="Prova di concorrenza.",
                        requester_kind="operatore",
                        requester_name="Test",
                    ),
                    AGENT,
                    now=rome(2031, 3, 3, 9),
                )
                own.commit()
                with lock:
                    references.append(ticket.reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert sorted(references) == [f"TT-2031-{n:06d}" for n in range(1, 13)]
    finally:
        with engine.begin() as conn:  # these rows were committed outside the test's transaction
            ids = sa.select(Ticket.id).where(Ticket.reference.like("TT-2031-%")).scalar_subquery()
            conn.execute(sa.delete(TicketEvent).where(TicketEvent.ticket_id.in_(ids)))
            conn.execute(
                sa.text(
                    "DELETE FROM helpdesk_pauses WHERE ticket_id IN "
                    "(SELECT id FROM helpdesk_tickets WHERE reference LIKE 'TT-2031-%')"
                )
            )
            conn.execute(sa.delete(Ticket).where(Ticket.reference.like("TT-2031-%")))
            conn.execute(sa.delete(TicketCounter).where(TicketCounter.year == 2031))
        engine.dispose()


def test_the_periodic_jobs_and_the_command(app) -> None:
    import json

    from app.helpdesk.tasks import PERIODIC_JOBS

    names = [name for name, *_ in PERIODIC_JOBS]
    assert names == ["app.helpdesk.tasks.check_sla", "app.helpdesk.tasks.poll_helpdesk_mailbox"]
    result = app.test_cli_runner().invoke(args=["assistenza", "sla"], catch_exceptions=False)
    assert result.exit_code == 0 and set(json.loads(result.stdout)) == {"checked", "warnings", "breaches"}
    result = app.test_cli_runner().invoke(args=["assistenza", "posta"])
    assert result.exit_code == 1 and "HELPDESK_IMAP_HOST" in result.stderr
