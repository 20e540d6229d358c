"""E-mail and PEC over the local SMTP server: the delivered MIME with its attachment, consent refusals, the
SMTP server down (retried with backoff, finally `fallito`, never lost), the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.audit import Event
from app.crm.messages.models import Message
from app.crm.messages.services import AttachmentRef, queue_message
from tests.crm.messages.conftest import ACTOR, consent, queue_reply, work
from tests.smtp import SmtpSink, smtp_sink


def _stored_pdf(app: Any) -> AttachmentRef:
    from app.jobs.files import store_stream

    data = b"%PDF-1.4\n% avviso di prova\n%%EOF\n"
    import io

    stored = store_stream(app.config["FILE_STORE"], io.BytesIO(data))
    return AttachmentRef("avviso.pdf", "application/pdf", stored.relative_path, stored.size)


@pytest.fixture
def smtp(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A local SMTP server the app sends to (SMTP_* settings pointing at it for the test)."""
    with smtp_sink() as sink:
        for key, value in sink.settings.items():
            monkeypatch.setitem(app.config, key, value)
        yield sink


def assert_mime(
    mail: EmailMessage,
    *,
    sender: str | None = None,
    to: str,
    subject: str | None = None,
    body: tuple[str, ...] = (),
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> None:
    """The delivered message's headers, its plain body containing each of `body` (case aside: the greeting
    writes the name as the registry has it), and exactly `attachments` as (file name, content type, start of
    the content)."""
    if sender is not None:
        assert mail["From"] == sender
    assert mail["To"] == to
    if subject is not None:
        assert mail["Subject"] == subject
    if body:
        text = mail.get_body(("plain",)).get_content()
        assert [part for part in body if part.lower() not in text.lower()] == [], text
    found = [(a.get_filename(), a.get_content_type(), a.get_content()) for a in mail.iter_attachments()]
    assert [(name, kind) for name, kind, _ in found] == [(name, kind) for name, kind, _ in attachments]
    for (_, _, data), (_, _, start) in zip(found, attachments, strict=True):
        assert data.startswith(start)


def _events(session: Any, message: Message) -> list[str]:
    rows = session.scalars(
        sa.select(Event)
        .where(Event.taxpayer_id == message.taxpayer_id, Event.kind.like("message.%"))
        .order_by(Event.id)
    )
    return [e.kind for e in rows if e.payload.get("message_id") == message.id]


def test_an_email_with_its_attachment_reaches_the_smtp_server(
    app, session, mario, r01, default_queue, smtp
) -> None:
    consent(session, mario, "email")
    message = queue_reply(
        session,
        mario,
        r01,
        context={"richiesta": {"risposta": "La sua istanza di rateazione è stata accolta."}},
        attachments=[_stored_pdf(app)],
    )
    session.commit()
    assert message.status == "in_coda" and default_queue.count == 1
    work(app, default_queue)
    [mail] = smtp.wait_for(1)
    session.refresh(message)
    assert message.status == "inviato" and message.attempts == 1
    assert message.provider_id == mail["Message-ID"]
    assert_mime(
        mail,
        to="mario.rossi@esempio.it",
        subject="Risposta alla sua richiesta",
        body=("Gentile Rossi Mario", "La sua istanza di rateazione è stata accolta."),
        attachments=(("avviso.pdf", "application/pdf", b"%PDF-1.4"),),
    )
    assert _events(session, message) == ["message.queued", "message.sent"]


def test_a_pec_goes_from_the_pec_sender_without_a_consent_row(
    app, session, mario, r01, default_queue, monkeypatch, smtp
) -> None:
    monkeypatch.setitem(app.config, "PEC_FROM", "gestore@pec.esattoria.it")
    message = queue_reply(session, mario, r01, "pec")
    session.commit()
    work(app, default_queue)
    [mail] = smtp.wait_for(1)
    assert_mime(mail, sender="gestore@pec.esattoria.it", to="mario.rossi@pec.esempio.it", body=("Accolta.",))
    session.refresh(message)
    assert message.status == "inviato"


def test_no_consent_means_not_sent_and_the_reason_is_shown(app, session, mario, r01, default_queue) -> None:
    message = queue_reply(session, mario, r01, "sms")
    session.commit()
    assert message.status == "rifiutato"
    assert message.reason == "Il contribuente non ha dato il consenso agli SMS"
    assert default_queue.count == 0
    assert _events(session, message) == ["message.refused"]
    consent(session, mario, "email", granted=False)
    refused = queue_reply(session, mario, r01)
    assert refused.status == "rifiutato"
    assert refused.reason == "Il contribuente non ha dato il consenso alle e-mail"


def test_no_recipient_means_not_sent(app, session, mario, r01, default_queue) -> None:
    consent(session, mario, "email")
    for contact in mario.contacts:
        if contact.kind == "email" and contact.valid_to_dt is None:
            contact.valid_to_dt = contact.valid_from_dt
    session.flush()
    session.expire(mario, ["contacts"])
    assert not [c for c in mario.contacts if c.kind == "email" and c.valid_to_dt is None]
    message = queue_reply(session, mario, r01)
    assert message.status == "rifiutato"
    assert message.reason == "Il contribuente non ha un indirizzo e-mail in vigore."


def test_smtp_down_is_retried_then_failed_never_lost(
    app, session, mario, r01, default_queue, monkeypatch, fast_retries
) -> None:
    consent(session, mario, "email")
    with smtp_sink() as sink:  # a server that is then stopped: its port refuses connections
        settings = sink.settings
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    message = queue_reply(session, mario, r01)
    session.commit()
    work(app, default_queue)
    session.refresh(message)
    assert message.status == "fallito"
    assert message.attempts == 3  # the first try and two retries
    assert "Server SMTP non raggiungibile" in (message.reason or "")
    assert _events(session, message) == ["message.queued", "message.failed"]
    assert session.get(Message, message.id) is not None


def test_smtp_back_up_before_the_last_attempt_sends_it(
    app, session, mario, r01, default_queue, monkeypatch, fast_retries, smtp
) -> None:
    from app.crm.messages import tasks

    consent(session, mario, "email")
    good_port = smtp.settings["SMTP_PORT"]
    monkeypatch.setitem(app.config, "SMTP_PORT", 1)  # nothing listens there: the first attempt fails
    original = tasks._outgoing

    def heal(message: Any) -> Any:
        if message.attempts >= 2:
            monkeypatch.setitem(app.config, "SMTP_PORT", good_port)
        return original(message)

    monkeypatch.setattr(tasks, "_outgoing", heal)
    message = queue_reply(session, mario, r01)
    session.commit()
    work(app, default_queue)
    smtp.wait_for(1)
    session.refresh(message)
    assert (message.status, message.attempts) == ("inviato", 2)


def test_the_sending_job_retries_with_backoff(app, session, mario, r01, default_queue) -> None:
    from rq.job import Job

    from app.core.jobs import connection

    consent(session, mario, "email")
    message = queue_reply(session, mario, r01)
    session.commit()
    [job_id] = default_queue.job_ids
    job = Job.fetch(job_id, connection=connection(app))
    assert job.retries_left == 3 and job.retry_intervals == [60, 300, 1800]
    assert job.origin == "default" and job.args == (message.id,)


def test_the_same_dedup_key_queues_one_message(app, session, mario, r01, default_queue) -> None:
    consent(session, mario, "email")
    first = queue_reply(session, mario, r01, dedup_key="richiesta-42")
    second = queue_reply(session, mario, r01, dedup_key="richiesta-42")
    session.commit()
    assert first.id == second.id and default_queue.count == 1


def test_channel_none_follows_the_preference(app, session, mario, r01, default_queue) -> None:
    consent(session, mario, "email")
    consent(session, mario, "sms", preferred=True)
    message = queue_reply(session, mario, r01, None)
    assert (message.channel, message.recipient, message.status) == ("sms", "333 1234567", "in_coda")
    consent(session, mario, "email", preferred=True)
    again = queue_reply(session, mario, r01, None)
    assert again.channel == "email"


def test_a_missing_placeholder_is_an_italian_error_and_nothing_is_kept(
    app, session, mario, r01, default_queue
) -> None:
    from app.core.errors import DomainError

    consent(session, mario, "email")
    before = session.scalar(sa.select(sa.func.count()).select_from(Message))
    with pytest.raises(DomainError, match="segnaposto «appuntamento» non disponibile per questo invio"):
        queue_message(session, taxpayer=mario, ente=r01, purpose="appuntamento", channel="email", actor=ACTOR)
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == before


def test_attachments_may_be_archive_documents_or_mappings() -> None:
    from types import SimpleNamespace

    from app.crm.messages.services import _ref

    document = SimpleNamespace(
        file_name="ricorso.pdf", mime_type="application/pdf", file_path="ab/cd/" + "0" * 64, size_bytes=1234
    )
    assert _ref(document) == AttachmentRef("ricorso.pdf", "application/pdf", "ab/cd/" + "0" * 64, 1234)
    mapping = {"filename": "a.txt", "mime_type": "text/plain", "file_path": "x", "size": 3}
    assert _ref(mapping) == AttachmentRef("a.txt", "text/plain", "x", 3)
