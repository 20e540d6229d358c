"""app/core/mailer.py against a real local SMTP server (aiosmtpd), and with the server down."""

import pytest

from app.core import mailer
from tests.smtp import smtp_sink


def test_send_roundtrip():
    with smtp_sink() as sink:
        s = mailer.SmtpSettings.from_config({**sink.settings, "MAIL_FROM": "a@b.it"})
        m = mailer.new_message(s, to="x@y.it", subject="Prova", body="Ciao")
        m.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
        mailer.send(s, m)
        [got] = sink.wait_for(1)
        assert got["Subject"] == "Prova"
        assert [p.get_filename() for p in got.iter_attachments()] == ["a.pdf"]


def test_down():
    s = mailer.SmtpSettings.from_config({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1, "SMTP_SECURITY": "none"})
    with pytest.raises(mailer.MailerError):
        mailer.send(s, mailer.new_message(s, to="x@y.it", subject="a", body="b"))
