"""The archive's IMAP intake against a real Dovecot (tests/archive/conftest_imap.py): a message and its
attachments become documents of one registration, PEC envelopes and receipts are recognised, a message with
too many attachments is refused with nothing stored, and polling again files nothing twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import re
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from tests.archive.conftest_imap import PASSWORD, Dovecot, dovecot, mailbox_user  # noqa: F401
from tests.archive.support import debtor_of, grouped, typst_pdf

DATICERT = """<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="{tipo}" errore="{errore}">
  <intestazione>
    <mittente>{mittente}</mittente>
    <destinatari tipo="certificato">protocollo@pec.regione-demo.it</destinatari>
    <risposte>{mittente}</risposte>
    <oggetto>{oggetto}</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Gestore di prova</gestore-emittente>
    <data zona="+0100"><giorno>03/12/2026</giorno><ora>10:15:00</ora></data>
    <identificativo>opec21.20261203101500.00001.01.1.1@pec.prova.it</identificativo>
    <msgid>&lt;originale@pec.prova.it&gt;</msgid>
    {consegna}
  </dati>
</postacert>
"""


@pytest.fixture
def imap(app, dovecot: Dovecot, mailbox_user: str, store: Path) -> Iterator[Any]:  # noqa: F811
    """The app reads `mailbox_user`'s INBOX for R01; returns a helper to deliver and inspect messages."""
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
    box = Box(dovecot, mailbox_user)
    try:
        yield box
    finally:
        box.close()
        app.config.update(saved)


class Box:
    def __init__(self, server: Dovecot, user: str) -> None:
        self.conn = server.connect(user)

    def deliver(self, message: EmailMessage | bytes) -> bytes:
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=SMTP)
        typ, data = self.conn.append("INBOX", None, None, raw)
        assert typ == "OK", data
        return raw

    def flags(self) -> dict[int, str]:
        self.conn.select("INBOX")
        typ, data = self.conn.uid("FETCH", "1:*", "(FLAGS)")
        assert typ == "OK"
        out = {}
        for line in data:
            found = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", line or b"")
            if found:
                out[int(found.group(1))] = found.group(2).decode()
        return out

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.conn.logout()


def _mail(subject: str, body: str, sender: str = "Mario Rossi <mario.rossi@example.it>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "protocollo@regione-demo.it"
    message["Subject"] = subject
    message["Date"] = "Thu, 03 Dec 2026 10:15:00 +0100"
    message["Message-ID"] = make_msgid(domain="example.it")
    message.set_content(body)
    return message


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _letter(session, tmp_path: Path) -> tuple[bytes, Any]:  # type: ignore[no-untyped-def]
    debtor = debtor_of(session, "R01")
    pdf = typst_pdf(
        tmp_path / "istanza.pdf",
        f"Il sottoscritto, codice fiscale {debtor.codice_fiscale}, chiede la rateazione dell'avviso "
        f"numero {grouped(debtor.notice_number)}.",
    )
    return pdf.read_bytes(), debtor


def test_an_email_with_a_pdf_becomes_two_documents_of_one_protocol(
    app, session, cli, imap, store, tmp_path
) -> None:
    from app.archive.mailbox_models import MailMessage
    from app.archive.models import Document, ProtocolCounter
    from app.core.audit import Event

    pdf, debtor = _letter(session, tmp_path)
    message = _mail(
        "Istanza di rateazione", "Buongiorno,\nallego l'istanza di rateazione firmata.\nMario Rossi"
    )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="istanza.pdf")
    raw = imap.deliver(message)

    code, out = cli("archivio", "posta")
    assert code == 0, out
    (item,) = out
    assert item["status"] == "filed" and item["kind"] == "email" and item["receipt_kind"] is None
    assert len(item["documents"]) == 2
    mail_doc, pdf_doc = (session.get(Document, d) for d in item["documents"])
    # one registration, ONE protocol number: the attachment is the message's allegato 1, no number of its own
    assert mail_doc.protocol == pdf_doc.protocol == item["protocol"]
    assert (mail_doc.main_id, mail_doc.attachment_no) == (None, 0)
    assert (pdf_doc.main_id, pdf_doc.attachment_no) == (mail_doc.id, 1)
    assert pdf_doc.protocol_label == f"{item['protocol']} – allegato 1"
    counter = session.scalars(
        sa.select(ProtocolCounter).where(ProtocolCounter.ente_id == mail_doc.ente_id)
    ).one()
    assert f"{counter.last:07d}" == item["protocol"].rsplit("-", 1)[1]  # gap-free: one number taken
    assert pdf_doc.subject == f"Allegato al protocollo {item['protocol']}: Istanza di rateazione"
    assert {mail_doc.channel, pdf_doc.channel} == {"email"}
    assert mail_doc.doc_type.code == "corrispondenza" and mail_doc.mime_type == "message/rfc822"
    assert "allego l'istanza di rateazione" in mail_doc.text  # the body is the document's text
    assert mail_doc.sender == "Mario Rossi <mario.rossi@example.it>"
    # the originals, untouched: the .eml as fetched, the PDF as attached
    assert (store / mail_doc.file_path).read_bytes() == raw
    assert (store / pdf_doc.file_path).read_bytes() == pdf
    assert pdf_doc.file_name == "istanza.pdf" and pdf_doc.mime_type == "application/pdf"
    # the PDF's text named the taxpayer and the notice: proposed links, as for any other intake
    assert {(link.kind, link.taxpayer_id) for link in pdf_doc.links} >= {("taxpayer", debtor.taxpayer_id)}
    row = session.scalars(sa.select(MailMessage).where(MailMessage.protocol == item["protocol"])).one()
    assert (
        row.status == "filed"
        and row.attachments == 1
        and [p.role for p in row.parts] == ["messaggio", "allegato"]
    )
    assert (
        session.scalars(
            sa.select(Event.summary).where(
                Event.kind == "mail.filed", Event.payload["protocol"].as_string() == item["protocol"]
            )
        )
        .one()
        .startswith(f"E-mail: protocollo {item['protocol']} (2 documenti): Istanza di rateazione")
    )
    assert "$Protocollato" in imap.flags()[1]

    # in the conservazione package the attachment names its message as the primary document
    package_path = tmp_path / "pacchetto.zip"
    today = dt.date.today().isoformat()  # this message's day (the seeded demo has documents of its own)
    code, _ = cli("archivio", "conserva", "--ente", "R01", "--dal", today, "--out", str(package_path))
    assert code == 0
    with zipfile.ZipFile(package_path) as package:
        index = etree.fromstring(package.read("indice.xml"))
    ns = {"c": "urn:esattoria:conservazione:1"}
    by_id = {
        d.findtext("c:IdDoc/c:Identificativo", namespaces=ns): d for d in index.findall("c:Documento", ns)
    }
    assert by_id[mail_doc.protocol].findtext("c:Allegati/c:NumeroAllegati", namespaces=ns) == "1"
    assert (
        by_id[f"{pdf_doc.protocol}/1"].findtext("c:IdentificativoDocumentoPrimario", namespaces=ns)
        == mail_doc.protocol
    )


def _pec_envelope(inner: EmailMessage, tipo: str = "posta-certificata") -> EmailMessage:
    """A PEC transport envelope (DPR 68/2005): the gestore's text, daticert.xml and postacert.eml."""
    envelope = EmailMessage()
    envelope["From"] = '"Per conto di: mario.rossi@pec.prova.it" <posta-certificata@pec.prova.it>'
    envelope["To"] = "protocollo@pec.regione-demo.it"
    envelope["Subject"] = f"POSTA CERTIFICATA: {inner['Subject']}"
    envelope["Message-ID"] = make_msgid(domain="pec.prova.it")
    envelope["X-Trasporto"] = "posta-certificata"
    envelope.set_content(
        "Messaggio di posta certificata\n\nIl giorno 03/12/2026 alle ore 10:15:00 (+0100) il messaggio "
        f'"{inner["Subject"]}" è stato inviato da "mario.rossi@pec.prova.it".\n'
    )
    xml = DATICERT.format(
        tipo=tipo,
        errore="nessuno",
        mittente="mario.rossi@pec.prova.it",
        oggetto=inner["Subject"],
        consegna="",
    )
    envelope.add_attachment(xml.encode(), maintype="application", subtype="xml", filename="daticert.xml")
    envelope.add_attachment(inner, filename="postacert.eml")
    return envelope


def test_a_pec_with_postacert_is_filed_on_the_pec_channel(app, session, cli, imap, tmp_path) -> None:
    from app.archive.mailbox_models import MailMessage
    from app.archive.models import Document

    pdf, _ = _letter(session, tmp_path)
    inner = _mail("Ricorso avviso 2026", "Si trasmette il ricorso in allegato.", "mario.rossi@pec.prova.it")
    inner.add_attachment(pdf, maintype="application", subtype="pdf", filename="ricorso.pdf")
    imap.deliver(_pec_envelope(inner))

    code, (item,) = cli("archivio", "posta")
    assert code == 0, item
    assert item["status"] == "filed" and item["kind"] == "pec" and item["receipt_kind"] is None
    documents = [session.get(Document, d) for d in item["documents"]]
    assert {d.channel for d in documents} == {"pec"}
    row = session.scalars(sa.select(MailMessage).where(MailMessage.protocol == item["protocol"])).one()
    assert [(p.role, p.file_name) for p in row.parts] == [
        ("messaggio", "POSTA_CERTIFICATA_Ricorso_avviso_2026.eml"),
        ("daticert", "daticert.xml"),
        ("postacert", "postacert.eml"),
        ("allegato", "ricorso.pdf"),  # the sender's own attachment, out of postacert.eml
    ]
    assert row.sender == "mario.rossi@pec.prova.it"  # the certified sender (daticert.xml), not the gestore
    assert documents[3].mime_type == "application/pdf"
    assert "Si trasmette il ricorso" in documents[2].text
    assert {d.doc_type.code for d in documents} == {"corrispondenza", "altro"}
    # the envelope, its certification data, the original message and its attachment: one protocol number
    assert {d.protocol for d in documents} == {item["protocol"]}
    assert [(d.main_id, d.attachment_no) for d in documents] == [
        (None, 0),
        (documents[0].id, 1),
        (documents[0].id, 2),
        (documents[0].id, 3),
    ]


@pytest.mark.parametrize(
    ("tipo", "label"),
    [
        ("avvenuta-consegna", "Ricevuta di avvenuta consegna"),
        ("mancata-consegna", "Avviso di mancata consegna"),
    ],
)
def test_a_pec_receipt_is_recognised_as_such(app, session, cli, imap, tipo, label) -> None:
    from app.archive.mailbox_models import MailMessage
    from app.archive.models import Document
    from app.core.audit import Event

    receipt = EmailMessage()
    receipt["From"] = "posta-certificata@pec.prova.it"
    receipt["To"] = "protocollo@pec.regione-demo.it"
    receipt["Subject"] = (
        f"{'CONSEGNA' if tipo == 'avvenuta-consegna' else 'AVVISO DI MANCATA CONSEGNA'}: Avviso"
    )
    receipt["Message-ID"] = make_msgid(domain="pec.prova.it")
    receipt["X-Ricevuta"] = tipo
    receipt.set_content('Il giorno 03/12/2026 alle ore 10:16:00 (+0100) il messaggio "Avviso" ...')
    xml = DATICERT.format(
        tipo=tipo,
        errore="nessuno",
        mittente="protocollo@pec.regione-demo.it",
        oggetto="Avviso",
        consegna="<consegna>mario.rossi@pec.prova.it</consegna>",
    )
    receipt.add_attachment(xml.encode(), maintype="application", subtype="xml", filename="daticert.xml")
    imap.deliver(receipt)

    code, (item,) = cli("archivio", "posta")
    assert code == 0, item
    assert item["kind"] == "ricevuta_pec" and item["receipt_kind"] == tipo
    documents = [session.get(Document, d) for d in item["documents"]]
    assert {d.doc_type.code for d in documents} == {"ricevuta_pec"}  # not a taxpayer's letter
    assert {d.channel for d in documents} == {"pec"}
    row = session.scalars(sa.select(MailMessage).where(MailMessage.protocol == item["protocol"])).one()
    assert row.kind_label == "Ricevuta PEC" and row.receipt_kind == tipo
    summary = session.scalars(
        sa.select(Event.summary).where(
            Event.kind == "mail.filed", Event.payload["protocol"].as_string() == item["protocol"]
        )
    ).one()
    assert summary.startswith(f"{label}: protocollo {item['protocol']}")


def test_a_receipt_known_only_by_its_daticert_is_recognised(app, session, cli, imap) -> None:
    """No X-Ricevuta header (some clients drop it): the daticert.xml `tipo` says what it is."""
    receipt = EmailMessage()
    receipt["From"] = "posta-certificata@pec.prova.it"
    receipt["Subject"] = "ACCETTAZIONE: Avviso"
    receipt["Message-ID"] = make_msgid(domain="pec.prova.it")
    receipt.set_content("Ricevuta di accettazione")
    xml = DATICERT.format(
        tipo="accettazione", errore="nessuno", mittente="a@pec.prova.it", oggetto="Avviso", consegna=""
    )
    receipt.add_attachment(xml.encode(), maintype="application", subtype="xml", filename="daticert.xml")
    imap.deliver(receipt)
    code, (item,) = cli("archivio", "posta")
    assert code == 0 and item["kind"] == "ricevuta_pec" and item["receipt_kind"] == "accettazione"


def test_an_email_with_500_attachments_is_refused_and_nothing_is_stored(
    app, session, cli, imap, store
) -> None:
    from app.archive.mailbox_models import MailMessage
    from app.archive.models import Document
    from app.core.audit import Event

    message = _mail("Documenti", "In allegato 500 documenti.")
    for n in range(500):
        message.add_attachment(
            f"documento {n}\n".encode(), maintype="text", subtype="plain", filename=f"doc{n}.txt"
        )
    imap.deliver(message)
    documents_before = _count(session, Document)

    code, (item,) = cli("archivio", "posta")
    assert code == 1
    assert item["status"] == "refused" and item["documents"] == []
    assert item["reason"] == "Il messaggio ha 500 allegati: il limite è 50. Non è stato protocollato nulla."
    assert _count(session, Document) == documents_before
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))  # no original kept
    row = session.scalars(sa.select(MailMessage).where(MailMessage.message_id == item["message_id"])).one()
    assert (
        row.status == "refused" and row.reason == item["reason"] and row.document_id is None and not row.parts
    )
    assert (
        session.scalars(sa.select(Event.summary).where(Event.kind == "mail.refused"))
        .one()
        .endswith(item["reason"])
    )
    assert "\\Flagged" in imap.flags()[1] and "$Rifiutato" in imap.flags()[1]
    # not fetched again
    assert cli("archivio", "posta") == (0, [])


def test_polling_twice_stores_nothing_new(app, session, cli, imap) -> None:
    from app.archive.mailbox_models import MailMessage
    from app.archive.models import Document

    message = _mail("Richiesta di informazioni", "Vorrei sapere lo stato della mia pratica.")
    raw = imap.deliver(message)
    code, (first,) = cli("archivio", "posta")
    assert code == 0 and first["status"] == "filed"
    counts = (_count(session, Document), _count(session, MailMessage))

    assert cli("archivio", "posta") == (0, [])  # nothing above the last UID
    # the same message delivered again (a new UID, the same Message-ID): recognised, nothing filed
    imap.deliver(raw)
    code, (again,) = cli("archivio", "posta")
    assert code == 0
    assert again["status"] == "duplicate" and again["protocol"] == first["protocol"]
    assert again["documents"] == first["documents"]
    assert (_count(session, Document), _count(session, MailMessage)) == counts


def test_without_settings_the_command_says_what_is_missing(app, cli) -> None:
    saved = app.config.get("ARCHIVE_IMAP_HOST")
    app.config["ARCHIVE_IMAP_HOST"] = None
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["archivio", "posta"])
    finally:
        app.config["ARCHIVE_IMAP_HOST"] = saved
    assert result.exit_code == 2
    assert "manca ARCHIVE_IMAP_HOST" in result.stderr


def test_the_periodic_job_polls_and_leaves_the_schedule_to_the_registry(app, session, imap) -> None:
    from rq.registry import ScheduledJobRegistry

    from app.archive.entrypoints.tasks import poll_mailbox
    from app.archive.tasks import PERIODIC_JOBS
    from app.core.jobs import queue
    from app.core.periodic import PERIODIC_QUEUE

    assert "app.archive.entrypoints.tasks.poll_mailbox" in [name for name, *_ in PERIODIC_JOBS]
    imap.deliver(_mail("Sollecito", "Attendo riscontro."))
    with app.app_context():
        registry = ScheduledJobRegistry(queue=queue(PERIODIC_QUEUE))
        before = set(registry.get_job_ids())
        (item,) = poll_mailbox()
        assert item["status"] == "filed" and item["kind"] == "email"
        assert set(registry.get_job_ids()) == before  # the registry (app/batch) schedules the next run


def test_a_receipt_known_only_by_its_header_is_recognised(app, session, cli, imap) -> None:
    """A receipt whose daticert.xml is missing (a forwarded copy): X-Ricevuta says what it is."""
    receipt = EmailMessage()
    receipt["From"] = "posta-certificata@pec.prova.it"
    receipt["Subject"] = "AVVISO DI MANCATA CONSEGNA: Avviso"
    receipt["Message-ID"] = make_msgid(domain="pec.prova.it")
    receipt["X-Trasporto"] = "errore"
    receipt["X-Ricevuta"] = "errore-consegna"
    receipt.set_content("Il messaggio non è stato consegnato.")
    imap.deliver(receipt)
    code, (item,) = cli("archivio", "posta")
    assert code == 0 and item["kind"] == "ricevuta_pec" and item["receipt_kind"] == "errore-consegna"


def test_the_message_and_its_attachments_are_shown_together(app, cli, imap, personas, tmp_path) -> None:
    import uuid

    one = typst_pdf(tmp_path / "uno.pdf", f"Primo allegato {uuid.uuid4()}.")
    two = typst_pdf(tmp_path / "due.pdf", f"Secondo allegato {uuid.uuid4()}.")
    message = _mail("Due allegati", "Buongiorno, allego due documenti.")
    message.add_attachment(one.read_bytes(), maintype="application", subtype="pdf", filename="uno.pdf")
    message.add_attachment(two.read_bytes(), maintype="application", subtype="pdf", filename="due.pdf")
    imap.deliver(message)
    code, (item,) = cli("archivio", "posta")
    assert code == 0 and len(item["documents"]) == 3
    main, first, second = item["documents"]
    page = personas.client("regione").get(f"/archivio/{first}").get_data(as_text=True)
    assert f"Documento {item['protocol']} – allegato 1</h1>" in page
    registration = page.split('data-testid="registration"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/archivio/{main}">{item["protocol"]}</a>' in registration
    assert f"<strong>{item['protocol']} – allegato 1</strong>" in registration
    assert f'href="/archivio/{second}">{item["protocol"]} – allegato 2</a>' in registration
