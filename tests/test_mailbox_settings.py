"""The one reader of a mailbox's settings (app/core/mailbox/client.py): each slice names its mailbox by
the prefix of its settings (ARCHIVE_IMAP_*, HELPDESK_IMAP_*); the help desk's limits default to the
archive's."""

from __future__ import annotations

import pytest

from app.core.errors import DomainError
from app.core.mailbox.client import MailboxSettings


def _config(prefix: str, **extra: object) -> dict[str, object]:
    base = {"HOST": "imap.example.it", "USER": "u", "PASSWORD": "p", "ENTE": "R01"}
    return {f"{prefix}_IMAP_{k}": v for k, v in {**base, **extra}.items()}


def test_each_mailbox_reads_its_own_prefix() -> None:
    from app.archive.entrypoints.tasks import mailbox_settings
    from app.helpdesk.intake import settings_from

    config = {**_config("ARCHIVE", FOLDER="PEC", SSL="starttls"), **_config("HELPDESK", PORT=1143, SSL="0")}
    archive, desk = mailbox_settings(config), settings_from(config)
    assert (archive.folder, archive.security, archive.port) == ("PEC", "starttls", 993)
    assert (desk.folder, desk.security, desk.port) == ("INBOX", "none", 1143)
    assert archive.account == "u@imap.example.it:993/PEC"


def test_missing_and_wrong_settings_are_named() -> None:
    with pytest.raises(DomainError, match="dell'help desk non configurata: manca HELPDESK_IMAP_HOST"):
        MailboxSettings.from_config({"HELPDESK_IMAP_USER": "u"}, "HELPDESK", "dell'help desk")
    with pytest.raises(DomainError, match="ARCHIVE_IMAP_SSL non valido"):
        MailboxSettings.from_config(_config("ARCHIVE", SSL="tls9"), "ARCHIVE", "dell'archivio")


def test_the_help_desk_limits_default_to_the_archive_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import Config

    monkeypatch.delenv("HELPDESK_IMAP_MAX_ATTACHMENTS", raising=False)
    assert Config.HELPDESK_IMAP_MAX_ATTACHMENTS == Config.ARCHIVE_IMAP_MAX_ATTACHMENTS
    assert Config.HELPDESK_IMAP_MAX_BYTES == Config.ARCHIVE_IMAP_MAX_BYTES
    desk = MailboxSettings.from_config(_config("HELPDESK"), "HELPDESK", "dell'help desk")
    assert (desk.max_attachments, desk.max_bytes) == (50, 50 * 1024 * 1024)
