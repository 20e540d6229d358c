"""The one IMAP mailbox client: the settings of a named mailbox (`<PREFIX>_IMAP_*` of the configuration,
e.g. ARCHIVE_IMAP_* for the archive's, HELPDESK_IMAP_* for the help desk's), the connection and the folder's
commands. The polling loop every mailbox runs is app/core/mailbox/tasks.py."""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.errors import DomainError

SECURITY = ("ssl", "starttls", "none")
DEFAULT_MAX_ATTACHMENTS = 50
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    host: str
    port: int
    user: str
    password: str
    folder: str
    ente_code: str
    security: str  # ssl | starttls | none
    max_attachments: int
    max_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], prefix: str, name: str) -> MailboxSettings:
        """The `<prefix>_IMAP_*` settings of the mailbox `name` ("dell'archivio"); DomainError names the one
        missing or wrong."""

        def key(name: str) -> str:
            return f"{prefix}_IMAP_{name}"

        missing = [key(n) for n in ("HOST", "USER", "PASSWORD", "ENTE") if not config.get(key(n))]
        if missing:
            raise DomainError(f"Casella di posta {name} non configurata: manca {', '.join(missing)}.")
        security = str(config.get(key("SSL")) or "ssl").lower()
        if security in ("1", "true", "yes", "si"):
            security = "ssl"
        elif security in ("0", "false", "no"):
            security = "none"
        if security not in SECURITY:
            raise DomainError(f"{key('SSL')} non valido: {security} (ammessi ssl, starttls, none).")
        return cls(
            host=str(config[key("HOST")]),
            port=int(config.get(key("PORT")) or 993),
            user=str(config[key("USER")]),
            password=str(config[key("PASSWORD")]),
            folder=str(config.get(key("FOLDER")) or "INBOX"),
            ente_code=str(config[key("ENTE")]),
            security=security,
            max_attachments=int(config.get(key("MAX_ATTACHMENTS")) or DEFAULT_MAX_ATTACHMENTS),
            max_bytes=int(config.get(key("MAX_BYTES")) or DEFAULT_MAX_BYTES),
        )

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:300]


def connect(settings: MailboxSettings, timeout: float = 60) -> imaplib.IMAP4:
    """Logged in: IMAP4_SSL, or plain IMAP upgraded with STARTTLS (certificates verified either way); `none`
    (no encryption) is for a server on this machine only."""
    context = ssl.create_default_context()
    conn: imaplib.IMAP4
    if settings.security == "ssl":
        conn = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=timeout)
    else:
        conn = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
        if settings.security == "starttls":
            conn.starttls(context)
    conn.login(settings.user, settings.password)
    return conn


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def select_folder(conn: imaplib.IMAP4, folder: str) -> int:
    """Select the folder (read-write: flags are set) and return its UIDVALIDITY."""
    typ, data = conn.select(_quoted(folder))
    if typ != "OK":
        raise DomainError(f"Cartella {folder} non disponibile sulla casella di posta: {data!r}")
    _, values = conn.response("UIDVALIDITY")
    return int(values[0]) if values and values[0] else 0


def new_uids(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    """The UIDs above `last_uid`, ascending (`n:*` always names the last message: filtered out here)."""
    typ, data = conn.uid("SEARCH", None, f"UID {last_uid + 1}:*")
    if typ != "OK":
        raise DomainError(f"Ricerca dei nuovi messaggi non riuscita: {data!r}")
    return sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last_uid)


_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def fetch_head(conn: imaplib.IMAP4, uid: int) -> tuple[int, bytes] | None:
    """The message's size and header block (the body is not downloaded yet); None when it is gone."""
    typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[HEADER])")
    if typ != "OK":
        return None
    for item in data:
        if isinstance(item, tuple):
            found = _SIZE.search(item[0])
            return (int(found.group(1)) if found else 0), item[1]
    return None


def fetch_raw(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        return None
    for item in data:
        if isinstance(item, tuple):
            return bytes(item[1])
    return None


def mark(conn: imaplib.IMAP4, uid: int, flags: str) -> None:
    """Flag the message (filed, refused, handled) so a person reading the mailbox sees what became of it."""
    conn.uid("STORE", str(uid), "+FLAGS", flags)
