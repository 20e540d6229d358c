"""The help desk's screens: an agent's flow, the Regione referent (sees every ticket of its enti, internal
notes included, and the reports; cannot write internal notes nor move tickets), another Regione's referent
refused, the taxpayer's self-service (public comments only), the reply by e-mail through a real SMTP
server."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.core.audit import Actor
from tests.conftest import csrf_token, user_by_name
from tests.helpdesk.conftest import new_ticket, rome
from tests.smtp import smtp_sink


def _ticket_with_note(app) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    from app.extensions import db
    from app.helpdesk import services

    with app.test_request_context():
        ticket = new_ticket(db.session)
        services.add_comment(
            db.session,
            ticket,
            "Nota riservata del Gestore",
            Actor(None, "Agente"),
            now=rome(2026, 12, 14, 9, 5),
            internal=True,
        )
        db.session.commit()
        return ticket.id, ticket.reference


def test_an_agent_opens_works_and_resolves_a_ticket(app, personas) -> None:
    client = personas.client("backoffice")
    token = csrf_token(client, "/assistenza/nuova")
    r01 = _ente(app, "R01")
    response = client.post(
        "/assistenza/nuova",
        data={
            "csrf_token": token,
            "ente_id": r01,
            "channel": "telefono",
            "urgency": "bloccante",
            "category": "applicativo",
            "subject": "Portale non raggiungibile",
            "description": "Errore 502 dal mattino.",
            "requester_kind": "regione",
            "requester_name": "Ufficio tributi",
            "requester_email": "tributi@regione.invalid",
            "assigned_group": "sistemi",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    detail = response.headers["Location"]
    page = client.get(detail).get_data(as_text=True)
    reference = re.search(r"TT-\d{4}-\d{6}", page).group(0)  # type: ignore[union-attr]
    assert "Portale non raggiungibile" in page and "Sistemi e infrastruttura" in page
    ticket_id = int(detail.rstrip("/").rsplit("/", 1)[1])
    assert (
        client.post(
            f"/assistenza/{ticket_id}/stato", data={"csrf_token": token, "to": "in_carico"}
        ).status_code
        == 302
    )
    client.post(
        f"/assistenza/{ticket_id}/commenti", data={"csrf_token": token, "body": "Stiamo verificando."}
    )
    refused = client.post(
        f"/assistenza/{ticket_id}/stato", data={"csrf_token": token, "to": "risolto"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Soluzione adottata: obbligatoria" in refused
    client.post(
        f"/assistenza/{ticket_id}/stato",
        data={"csrf_token": token, "to": "risolto", "solution": "Riavviato il bilanciatore."},
    )
    page = client.get(detail).get_data(as_text=True)
    assert "Riavviato il bilanciatore." in page and 'data-testid="to-article"' in page
    assert client.get("/assistenza/?q=" + reference).get_data(as_text=True).count(reference) >= 1
    # the solution becomes a knowledge-base article, prefilled
    form = client.get(f"/conoscenza/nuovo?segnalazione={ticket_id}").get_data(as_text=True)
    assert "Portale non raggiungibile" in form and "Riavviato il bilanciatore." in form


def _ente(app, code: str) -> int:  # type: ignore[no-untyped-def]
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        return int(db.session.scalars(sa.select(Ente.id).where(Ente.code == code)).one())


def test_the_regione_referent_reads_everything_but_cannot_write_internal_notes(app, personas) -> None:
    ticket_id, reference = _ticket_with_note(app)
    regione = personas.client("regione")
    page = regione.get(f"/assistenza/{ticket_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reference in html and "Nota riservata del Gestore" in html  # the life cycle, internal notes too
    assert 'name="internal"' not in html and "status-form" not in html and "transfer-form" not in html
    token = csrf_token(regione, f"/assistenza/{ticket_id}")
    assert (
        regione.post(
            f"/assistenza/{ticket_id}/commenti",
            data={"csrf_token": token, "body": "Nota della Regione", "internal": "y"},
        ).status_code
        == 403
    )
    for action, data in (
        ("stato", {"to": "in_carico"}),
        ("trasferisci", {"reason": "x"}),
        ("assegna", {"group": "sistemi"}),
        ("risposta-primo-livello", {"answer": "x"}),
    ):
        assert (
            regione.post(f"/assistenza/{ticket_id}/{action}", data={"csrf_token": token, **data}).status_code
            == 403
        )
    # a public comment is the referent's own voice on the ticket
    assert (
        regione.post(
            f"/assistenza/{ticket_id}/commenti", data={"csrf_token": token, "body": "Sollecito della Regione"}
        ).status_code
        == 302
    )
    assert regione.get("/assistenza/report").status_code == 200
    export = regione.get("/assistenza/report.csv?dal=2026-12-01&al=2026-12-31")
    assert export.status_code == 200 and "Risolte entro SLA" in export.get_data(as_text=True)
    # another Regione's referent does not see it
    assert personas.client("regione2").get(f"/assistenza/{ticket_id}").status_code == 404
    assert personas.client("contribuente").get(f"/assistenza/{ticket_id}").status_code == 403


def test_the_sla_report_counts_and_exports_in_every_format(app, personas) -> None:
    from app.extensions import db
    from app.helpdesk import services

    with app.test_request_context():
        agent = Actor(None, "Agente")
        on_time = new_ticket(db.session, urgency="alta")
        services.change_status(db.session, on_time, "in_carico", agent, now=rome(2026, 12, 14, 9, 30))
        services.change_status(
            db.session, on_time, "risolto", agent, now=rome(2026, 12, 14, 11), solution="Ok"
        )
        late = new_ticket(db.session, urgency="bloccante", now=rome(2026, 12, 14, 9))
        services.change_status(db.session, late, "risolto", agent, now=rome(2026, 12, 15, 9), solution="Ok")
        services.change_status(db.session, late, "riaperto", agent, now=rome(2026, 12, 15, 10))
        db.session.commit()
    client = personas.client("admin")
    page = client.get("/assistenza/report?dal=2026-12-01&al=2026-12-31").get_data(as_text=True)
    assert 'data-testid="report-opened">2<' in page
    assert 'data-testid="chart-month"' in page and "vendor/chart/chart.umd.min.js" in page
    assert "<script>" not in page  # CSP: figures travel in data-chart, drawn by static/js/helpdesk.js
    csv = client.get("/assistenza/report.csv?dal=2026-12-01&al=2026-12-31").get_data(as_text=True)
    assert "Alta" in csv and "Bloccante" in csv
    for fmt, magic in (("xlsx", b"PK"), ("ods", b"PK"), ("pdf", b"%PDF")):
        response = client.get(f"/assistenza/report.{fmt}?dal=2026-12-01&al=2026-12-31")
        assert response.status_code == 200 and response.data.startswith(magic), fmt


def test_a_public_answer_goes_to_the_requester_by_email_with_the_reference(app, session) -> None:
    from app.helpdesk import services, tasks
    from app.helpdesk.models import TicketMail

    ticket = new_ticket(session, requester_email="mario.rossi@example.invalid")
    services.add_comment(
        session,
        ticket,
        "Il pagamento è stato riconciliato.",
        Actor(None, "Agente"),
        now=rome(2026, 12, 14, 9, 10),
    )
    assert ticket.first_response_dt == rome(2026, 12, 14, 9, 10)
    mail = session.scalars(sa.select(TicketMail).where(TicketMail.ticket_id == ticket.id)).one()
    session.flush()
    with smtp_sink() as sink:
        saved = {k: app.config.get(k) for k in sink.settings}
        app.config.update(sink.settings)
        try:
            assert tasks.send_mail(mail.id)
        finally:
            app.config.update(saved)
        (message,) = sink.wait_for(1)
    assert message["To"] == "mario.rossi@example.invalid"
    assert f"[{ticket.reference}]" in message["Subject"]
    assert "riconciliato" in message.get_content() and ticket.reference in message.get_content()
    assert session.get(TicketMail, mail.id).status == "sent"
    assert tasks.send_mail(mail.id) is None  # sent once: a rerun sends nothing


def test_the_smtp_server_down_is_retried_then_marked_failed(app, session) -> None:
    from app.helpdesk import services, tasks
    from app.helpdesk.models import TicketMail

    ticket = new_ticket(session, requester_email="mario.rossi@example.invalid")
    services.add_comment(session, ticket, "Risposta.", Actor(None, "Agente"), now=rome(2026, 12, 14, 9, 10))
    mail = session.scalars(sa.select(TicketMail).where(TicketMail.ticket_id == ticket.id)).one()
    session.flush()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY")}
    app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1, "SMTP_SECURITY": "none"})
    try:
        assert tasks.send_mail(mail.id) is None  # no RQ job around: the last try
    finally:
        app.config.update(saved)
    row = session.get(TicketMail, mail.id)
    assert row.status == "failed" and "SMTP" in (row.error or "")


def test_a_taxpayer_opens_a_ticket_from_self_service_and_sees_only_public_comments(app, personas) -> None:
    from app.extensions import db
    from app.helpdesk import services
    from app.helpdesk.models import Ticket

    client = personas.client("contribuente")
    token = csrf_token(client, "/self-service/assistenza")
    response = client.post(
        "/self-service/assistenza",
        data={
            "csrf_token": token,
            "category": "pagamenti",
            "subject": "Avviso già pagato",
            "description": "Ho pagato l'avviso il 2 dicembre.",
            "email": "",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    with app.test_request_context():
        ticket = db.session.scalars(sa.select(Ticket).where(Ticket.subject == "Avviso già pagato")).one()
        assert ticket.channel == "portale" and ticket.requester_kind == "contribuente"
        assert ticket.taxpayer_id == user_by_name("contribuente").taxpayer_id
        agent = Actor(None, "Agente")
        services.add_comment(
            db.session,
            ticket,
            "Nota interna: verificare il PSP",
            agent,
            now=rome(2026, 12, 14, 10),
            internal=True,
        )
        services.add_comment(
            db.session, ticket, "Il pagamento risulta: posizione chiusa.", agent, now=rome(2026, 12, 14, 11)
        )
        db.session.commit()
        ticket_id = ticket.id
    page = client.get(location).get_data(as_text=True)
    assert "posizione chiusa" in page and "verificare il PSP" not in page
    assert "Avviso già pagato" in client.get("/self-service/assistenza").get_data(as_text=True)
    reply = client.post(location, data={"csrf_token": token, "body": "Grazie."})
    assert reply.status_code == 302
    # another taxpayer's ticket, and the staff pages, stay closed
    other_id, _ = _ticket_with_note(app)
    assert client.get(f"/self-service/assistenza/{other_id}").status_code == 404
    assert client.get("/assistenza/").status_code == 403
    assert ticket_id
