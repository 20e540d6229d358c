"""Acts by PEC (received by a real local SMTP server with the PDF attached; the delivery receipt read back
through the archive's IMAP intake on a real Dovecot marks the act notified) and through SEND (a local stub
that validates every request on SEND's published OpenAPI; the perfection date notifies the act, the legal
facts are filed in the archive)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from app.atti.delivery import services
from app.atti.delivery.models import ActDelivery, ActOutcome
from app.atti.delivery.send import SendClient
from app.core.mailer import SmtpSettings
from app.positions.amounts import today_rome
from tests.archive.conftest_imap import PASSWORD, Dovecot, dovecot, mailbox_user  # noqa: F401
from tests.atti.delivery.conftest import ACTOR
from tests.atti.delivery.send_stub import API_KEY, SendStub
from tests.smtp import smtp_sink

PEC_FROM = "riscossione@pec.gestore-demo.it"
DATICERT = """<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="{tipo}" errore="nessuno">
  <intestazione><mittente>{mittente}</mittente><destinatari tipo="certificato">{to}</destinatari>
    <risposte>{mittente}</risposte><oggetto>{oggetto}</oggetto></intestazione>
  <dati><gestore-emittente>Gestore di prova</gestore-emittente>
    <data zona="+0100"><giorno>{giorno}</giorno><ora>10:15:00</ora></data>
    <identificativo>opec21.1@pec.prova.it</identificativo><msgid>&lt;{msgid}&gt;</msgid>
    <consegna>{to}</consegna></dati>
</postacert>
"""


@pytest.fixture
def imap(app, dovecot: Dovecot, mailbox_user: str) -> Iterator[Any]:  # noqa: F811
    settings = {
        "ARCHIVE_IMAP_HOST": dovecot.host,
        "ARCHIVE_IMAP_PORT": dovecot.port,
        "ARCHIVE_IMAP_USER": mailbox_user,
        "ARCHIVE_IMAP_PASSWORD": PASSWORD,
        "ARCHIVE_IMAP_FOLDER": "INBOX",
        "ARCHIVE_IMAP_ENTE": "R01",
        "ARCHIVE_IMAP_SSL": "none",
        "ARCHIVE_IMAP_MAX_ATTACHMENTS": 50,
    }
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    conn = dovecot.connect(mailbox_user)
    try:
        yield conn
    finally:
        conn.logout()
        app.config.update(saved)


def receipt(tipo: str, sent: EmailMessage, day: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "posta-certificata@pec.prova.it"
    message["To"] = PEC_FROM
    message["Subject"] = f"{'CONSEGNA' if tipo == 'avvenuta-consegna' else 'ACCETTAZIONE'}: {sent['Subject']}"
    message["Message-ID"] = make_msgid(domain="pec.prova.it")
    message["X-Ricevuta"] = tipo
    message.set_content(f"Il giorno {day} alle ore 10:15:00 (+0100) il messaggio è stato consegnato.")
    xml = DATICERT.format(
        tipo=tipo,
        mittente=PEC_FROM,
        to=sent["To"],
        oggetto=sent["Subject"],
        giorno=day,
        msgid=str(sent["Message-ID"]).strip("<>"),
    )
    message.add_attachment(xml.encode(), maintype="application", subtype="xml", filename="daticert.xml")
    return message


def test_pec_with_the_pdf_then_the_delivery_receipt_notifies_the_act(
    app, session, store, issue, cli, imap
) -> None:
    from email.policy import SMTP

    today = today_rome()
    (act,) = issue(1, pec=True)
    address = services.digital_domicile(act.taxpayer)
    assert address
    # PEC takes precedence: the print pre-check sends it there
    assert [a.id for a in services.print_precheck(session, [act]).by_pec] == [act.id]
    with smtp_sink() as sink:
        smtp = SmtpSettings.from_config({**sink.settings, "PEC_FROM": PEC_FROM})
        delivery = services.send_act_by_pec(
            session, act, ACTOR, smtp=smtp, file_store=str(store), today=today
        )
        [sent] = sink.wait_for(1)
    assert sent["From"] == PEC_FROM and sent["To"] == address
    assert f"[Atto {act.protocol}]" in sent["Subject"]
    [attachment] = list(sent.iter_attachments())
    assert attachment.get_filename() == f"{act.protocol}.pdf"
    assert attachment.get_content() == services.act_pdf(session, act, str(store))
    assert sink.envelopes[0][1] == [address]
    assert act.status == "inviato" and delivery.message_id == str(sent["Message-ID"]).strip("<>")
    session.commit()

    day = today.strftime("%d/%m/%Y")
    for tipo in ("accettazione", "avvenuta-consegna"):
        typ, data = imap.append("INBOX", None, None, receipt(tipo, sent, day).as_bytes(policy=SMTP))
        assert typ == "OK", data
    code, items = cli("archivio", "posta")
    assert code == 0 and [i["receipt_kind"] for i in items] == ["accettazione", "avvenuta-consegna"]
    session.expire_all()
    assert act.status == "notificato" and act.notified_date == today and act.channel == "pec"
    outcome = session.scalars(sa.select(ActOutcome).where(ActOutcome.act_id == act.id)).one()
    assert (outcome.outcome, outcome.source, outcome.notified_date) == ("pec_consegnata", "pec", today)
    assert outcome.document_id in items[1]["documents"]  # the receipt, filed in the archive, proves it
    assert act.position.state == "notificata" and act.position.notified_date == today
    assert session.get(ActDelivery, delivery.id).status == "consegnato"
    # the same receipt polled again (another copy) changes nothing
    typ, _ = imap.append("INBOX", None, None, receipt("avvenuta-consegna", sent, day).as_bytes(policy=SMTP))
    code, items = cli("archivio", "posta")
    assert code == 0
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(ActOutcome).where(ActOutcome.act_id == act.id))
        == 1
    )


@pytest.fixture
def send_stub(httpserver_ipv4: HTTPServer) -> Iterator[SendStub]:
    yield SendStub(httpserver_ipv4)
    httpserver_ipv4.check_handler_errors()


def test_send_request_poll_and_legal_facts(session, store, issue, send_stub: SendStub) -> None:
    from app.archive.models import Document

    today = today_rome()
    send_stub.perfection = f"{today.isoformat()}T09:30:00Z"
    (act,) = issue(1)
    with SendClient(send_stub.base_url, API_KEY) as client:
        delivery = services.send_act_by_send(session, act, ACTOR, client, file_store=str(store), today=today)
        assert act.status == "inviato" and delivery.send_request_id
        outcome = services.poll_send(session, delivery, ACTOR, client, file_store=str(store))
    assert send_stub.invalid == []  # every request valid on SEND's published OpenAPI
    [request] = [r["notification"] for r in send_stub.requests if "notification" in r]
    assert request["paProtocolNumber"] == act.protocol and request["idempotenceToken"].startswith(
        f"atto-{act.id}-"
    )
    recipient = request["recipients"][0]
    assert recipient["taxId"] == act.taxpayer.codice_fiscale
    assert recipient["payments"][0]["pagoPa"]["noticeCode"] == act.notice_number
    assert recipient["payments"][0]["pagoPa"]["creditorTaxId"] == act.ente.codice_fiscale
    assert (
        request["taxonomyCode"] == "030301P"
        and request["physicalCommunicationType"] == "AR_REGISTERED_LETTER"
    )
    assert send_stub.uploads["/upload/preload-0"] == services.act_pdf(session, act, str(store))
    assert outcome is not None and outcome.outcome == "send_perfezionata" and outcome.notified_date == today
    assert delivery.send_iun == send_stub.iun and delivery.status == "consegnato"
    assert act.status == "notificato" and act.notified_date == today and act.channel == "send"
    fact = session.get(Document, outcome.document_id)
    assert (
        fact is not None
        and fact.doc_type.code == "attestazione_send"
        and send_stub.iun in (fact.subject or "")
    )


def test_send_unreachable_goes_to_the_work_list(session, store, issue, send_stub: SendStub) -> None:
    today = today_rome()
    send_stub.perfection = None
    send_stub.unreachable = f"{today.isoformat()}T11:00:00Z"
    (act,) = issue(1)
    with SendClient(send_stub.base_url, API_KEY) as client:
        delivery = services.send_act_by_send(session, act, ACTOR, client, file_store=str(store), today=today)
        outcome = services.poll_send(session, delivery, ACTOR, client, file_store=str(store))
        assert (
            services.poll_send(session, delivery, ACTOR, client, file_store=str(store)) is None
        )  # idempotent
    assert send_stub.invalid == []
    assert outcome is not None and (outcome.outcome, outcome.notified_date) == ("send_irreperibile", None)
    assert (outcome.worklist_status, outcome.next_step) == ("aperto", "deposito_casa_comunale")
    assert act.status == "non_notificato" and act.position.state == "caricata"
    assert delivery.status == "non_consegnato"
