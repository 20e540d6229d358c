"""Postal messages (channel `posta`) through the print flow: the letter filed with a protocol, the batch ZIP
with its PDF page and manifest row (manifest 1.1), the provider's outcome, and the refusals."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import sqlalchemy as sa
from lxml import etree

from app.atti.delivery import letters
from app.atti.delivery.outcomes_file import OutcomesRefused
from app.atti.delivery.outcomes_import import import_outcomes
from app.atti.delivery.printflow import MANIFEST_NS
from app.atti.delivery.services import OutcomeError, create_print_batch
from app.core.errors import DomainError
from app.crm.messages.models import Message
from app.crm.messages.services import choose_channel, queue_message
from tests.crm.messages.conftest import ACTOR, consent

ANSWER = {"richiesta": {"risposta": "La sua istanza è stata accolta."}}


def _today() -> dt.date:
    from app.positions.amounts import today_rome

    return today_rome()


def _letter(session: Any, mario: Any, r01: Any, **kwargs: Any) -> Message:
    return queue_message(
        session,
        taxpayer=mario,
        ente=r01,
        purpose="risposta_richiesta",
        channel="posta",
        context=ANSWER,
        actor=ACTOR,
        **kwargs,
    )


def _batch(session: Any, r01: Any, store: Path) -> Any:
    from app.core.db import utcnow

    return create_print_batch(
        session,
        r01,
        [],
        ACTOR,
        file_store=str(store),
        today=_today(),
        now=utcnow(),
        messages=letters.messages_to_send(session, r01.id),
    )


def _zip(store: Path, batch: Any) -> zipfile.ZipFile:
    from app.jobs.files import path_of

    return zipfile.ZipFile(io.BytesIO(path_of(str(store), batch.file_path).read_bytes()))


def _events(session: Any, message: Message) -> list[str]:
    from app.core.audit import Event

    rows = session.scalars(
        sa.select(Event).where(Event.taxpayer_id == message.taxpayer_id).order_by(Event.id)
    )
    return [e.kind for e in rows if (e.payload or {}).get("message_id") == message.id]


def test_a_postal_message_goes_from_the_letter_to_the_batch_to_delivered(
    app, session, mario, r01, default_queue, store
) -> None:
    from app.jobs.files import path_of

    message = _letter(session, mario, r01)
    session.commit()
    # the letter: filed in the archive with a protocol, attached, waiting for a batch (no sending job)
    assert (message.status, message.channel) == ("in_coda", "posta")
    assert default_queue.count == 0
    document = message.document
    assert document.protocol.startswith("R01-") and document.mime_type == "application/pdf"
    assert message.payload["protocollo"] == document.protocol and message.payload["pagine"] == 1
    assert [a.filename for a in message.attachments] == [f"{document.protocol}.pdf"]
    letter = path_of(str(store), document.file_path).read_bytes()
    with pikepdf.Pdf.open(io.BytesIO(letter)) as pdf:
        assert len(pdf.pages) == 1
    assert message.recipient == letters.print_items(session, [message], file_store=None)[0].address.one_line
    assert _events(session, message) == ["message.queued"]

    batch = _batch(session, r01, store)
    session.commit()
    assert (batch.acts, batch.messages, batch.pages) == (0, 1, 1)
    assert message.status == "inviato" and message.print_batch_id == batch.id
    assert message.provider_id == f"{batch.code}-000001"
    assert _events(session, message) == ["message.queued", "message.sent"]
    with _zip(store, batch) as archive:
        rows = list(
            csv.DictReader(io.StringIO(archive.read(f"{batch.code}.csv").decode("utf-8-sig")), delimiter=";")
        )
        xml = etree.fromstring(archive.read(f"{batch.code}.xml"))
        with pikepdf.Pdf.open(io.BytesIO(archive.read(f"{batch.code}.pdf"))) as merged:
            assert len(merged.pages) == 1
    (row,) = rows
    assert (row["tipo"], row["id_comunicazione"], row["id_atto"]) == ("comunicazione", str(message.id), "")
    assert (row["protocollo"], row["pagine"], row["pagina_iniziale"]) == (document.protocol, "1", "1")
    assert row["sha256"] == hashlib.sha256(letter).hexdigest()
    assert row["codice_raccomandata"] == message.provider_id and row["cap"] and row["comune"]
    assert (xml.get("versione"), xml.get("atti"), xml.get("comunicazioni")) == ("1.1", "0", "1")
    (item,) = xml
    assert etree.QName(item).localname == "comunicazione"
    assert item.findtext(f"{{{MANIFEST_NS}}}id_comunicazione") == str(message.id)

    # a second batch does not take it again
    assert letters.messages_to_send(session, r01.id) == []
    with pytest.raises(OutcomeError):
        _batch(session, r01, store)

    outcome = f"id_comunicazione;esito;data_esito\n{message.id};notificato;{_today().isoformat()}\n".encode()
    summary = import_outcomes(session, r01, outcome, "esiti.csv", ACTOR)
    session.commit()
    assert (summary.delivered, summary.undelivered, summary.messages) == (1, 0, [message.id])
    assert message.status == "consegnato" and message.payload["esito"]["esito"] == "notificato"
    assert _events(session, message) == ["message.queued", "message.sent", "message.delivered"]
    # the same outcome twice is refused, naming line and field
    with pytest.raises(OutcomesRefused) as refused:
        import_outcomes(session, r01, outcome, "esiti.csv", ACTOR)
    (error,) = refused.value.errors
    assert (error.line, error.field) == (2, "esito") and "duplicato" in error.message


def test_an_undelivered_letter_fails_with_the_reason_named_by_its_protocol(
    app, session, mario, r01, default_queue, store
) -> None:
    message = _letter(session, mario, r01)
    _batch(session, r01, store)
    day = _today()
    data = f"protocollo;esito;data_esito\n{message.document.protocol};irreperibile;{day:%d/%m/%Y}\n"
    summary = import_outcomes(session, r01, data.encode(), "esiti.csv", ACTOR)
    assert (summary.delivered, summary.undelivered) == (0, 1)
    assert message.status == "fallito"
    assert message.reason == f"Destinatario irreperibile ({day:%d/%m/%Y})"
    assert _events(session, message)[-1] == "message.failed"


def test_an_outcome_file_with_a_wrong_line_applies_nothing(
    app, session, mario, r01, default_queue, store
) -> None:
    message = _letter(session, mario, r01)
    _batch(session, r01, store)
    day = _today()
    data = (
        "id_comunicazione;esito;data_esito\n"
        f"{message.id};notificato;{day.isoformat()}\n"
        f"999999999;notificato;{day.isoformat()}\n"
        f"{message.id};irreperibile;{day.isoformat()}\n"
        f"{message.id};notificato;2001-01-01\n"
    )
    with pytest.raises(OutcomesRefused) as refused:
        import_outcomes(session, r01, data.encode(), "esiti.csv", ACTOR)
    errors = [(e.line, e.field, e.message) for e in refused.value.errors]
    assert errors[0] == (3, "id_comunicazione", "comunicazione 999999999 sconosciuta per l'ente R01")
    assert errors[1][:2] == (4, "id_comunicazione") and "già alla riga 2" in errors[1][2]
    assert message.status == "inviato"
    # a date before the sending, alone
    late = f"id_comunicazione;esito;data_esito\n{message.id};notificato;2001-01-01\n"
    with pytest.raises(OutcomesRefused) as refused:
        import_outcomes(session, r01, late.encode(), "esiti.csv", ACTOR)
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "data_esito")]
    # an outcome for a letter not sent yet
    waiting = _letter(session, mario, r01)
    early = f"id_comunicazione;esito;data_esito\n{waiting.id};notificato;{day.isoformat()}\n"
    with pytest.raises(OutcomesRefused) as refused:
        import_outcomes(session, r01, early.encode(), "esiti.csv", ACTOR)
    assert "non risulta ancora inviata" in refused.value.errors[0].message


def test_an_undeliverable_address_or_a_refusal_means_no_letter(
    app, session, mario, r01, default_queue, store
) -> None:
    from app.archive.models import Document
    from app.taxpayers.services import AddressData, set_address

    documents = session.scalar(sa.select(sa.func.count()).select_from(Document))
    for address in [a for a in mario.addresses if a.valid_to_dt is None]:
        address.valid_to_dt = address.valid_from_dt
    set_address(
        session, ACTOR, mario, AddressData("residenza", "Via Roma", "0018", "Roma", "RM"), source="test"
    )
    session.flush()
    session.expire(mario, ["addresses"])
    message = _letter(session, mario, r01)
    assert message.status == "rifiutato" and message.document_id is None
    assert message.reason.startswith("Indirizzo postale non recapitabile: ")
    assert "via: manca il numero civico (Via Roma)" in message.reason and "CAP: 0018" in message.reason
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == documents
    assert _events(session, message) == ["message.refused"]

    set_address(
        session, ACTOR, mario, AddressData("residenza", "Via Roma 1", "00184", "Roma", "RM"), source="test"
    )
    session.flush()
    session.expire(mario, ["addresses"])
    consent(session, mario, "posta", granted=False)
    refused = _letter(session, mario, r01)
    assert (refused.status, refused.reason) == (
        "rifiutato",
        "Il contribuente ha negato il consenso alle comunicazioni per posta",
    )


def test_posta_is_the_fallback_and_a_preference(app, session, mario, r01) -> None:
    consent(session, mario, "app_io", granted=False)
    consent(session, mario, "pec", granted=False)
    # no consent for e-mail and SMS, PEC and App IO refused: the letter
    assert choose_channel(session, mario) == "posta"
    consent(session, mario, "email")
    assert choose_channel(session, mario) == "email"
    consent(session, mario, "posta", preferred=True)
    assert choose_channel(session, mario) == "posta"
    # a rule that does not list posta never sends a letter
    assert choose_channel(session, mario, ("sms",)) == "sms"


def test_the_same_key_files_one_letter_and_the_job_never_sends_it(
    app, session, mario, r01, default_queue, store
) -> None:
    from app.archive.models import Document
    from app.crm.messages.tasks import send_message

    first = _letter(session, mario, r01, dedup_key="test:posta:1")
    documents = session.scalar(sa.select(sa.func.count()).select_from(Document))
    again = _letter(session, mario, r01, dedup_key="test:posta:1")
    assert again.id == first.id
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == documents
    session.commit()
    assert send_message(first.id) is None
    session.refresh(first)
    assert (first.status, first.attempts) == ("in_coda", 0)


def test_a_text_longer_than_two_pages_is_refused_and_takes_no_protocol(
    app, session, mario, r01, default_queue, store
) -> None:
    from app.archive.models import ProtocolCounter

    _letter(session, mario, r01)  # the counter row exists
    year = _today().year
    before = session.scalar(
        sa.select(ProtocolCounter.last).where(ProtocolCounter.ente_id == r01.id, ProtocolCounter.year == year)
    )
    long_answer = {"richiesta": {"risposta": "\n\n".join(["Testo della risposta. " * 40] * 30)}}
    with pytest.raises(DomainError, match="non sta in una lettera"):
        queue_message(
            session,
            taxpayer=mario,
            ente=r01,
            purpose="risposta_richiesta",
            channel="posta",
            context=long_answer,
            actor=ACTOR,
        )
    after = session.scalar(
        sa.select(ProtocolCounter.last).where(ProtocolCounter.ente_id == r01.id, ProtocolCounter.year == year)
    )
    assert after == before


def test_the_screens_send_a_letter_batch_it_and_show_it(app, personas, default_queue, store) -> None:
    from app.demo.seed import MARIO_ROSSI_CF
    from app.enti.models import Ente
    from app.extensions import db
    from app.taxpayers.models import Taxpayer
    from tests.conftest import csrf_token

    with app.app_context():
        taxpayer_id = db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).one()
        ente_id = db.session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()
    desk = personas.client("sportello")
    panel = desk.get(f"/messaggi/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert "<strong>Posta</strong>" in panel
    form = {
        "csrf_token": csrf_token(desk, f"/contribuenti/{taxpayer_id}"),
        "ente": str(ente_id),
        "canale": "posta",
        "finalita": "risposta_richiesta",
        "posizione": "",
        "testo_risposta": "La sua istanza è stata accolta.",
    }
    sent = desk.post(f"/messaggi/contribuenti/{taxpayer_id}/invia", data=form).get_data(as_text=True)
    assert "in coda per il prossimo lotto di stampa" in sent and "Lettera prot. R01-" in sent
    assert default_queue.count == 0

    office = personas.client("backoffice")
    page = office.get(f"/atti/recapito/?ente={ente_id}").get_data(as_text=True)
    assert 'data-testid="precheck-letters">1<' in page
    token = csrf_token(office, f"/atti/recapito/?ente={ente_id}")
    made = office.post("/atti/recapito/lotti", data={"csrf_token": token, "ente_id": str(ente_id)})
    assert made.status_code == 302
    batch = office.get(made.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="batch-messages"' in batch and "Risposta a una richiesta" in batch
    card = desk.get(f"/messaggi/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert "lettera prot. R01-" in card and "raccomandata R01-" in card and "Inviato" in card
    timeline = desk.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert "Messaggio inviato" in timeline and "Messaggio in coda" in timeline
