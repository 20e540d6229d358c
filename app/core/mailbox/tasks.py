"""The polling loop every IMAP mailbox runs (`poll_folder`); what a message becomes is the slice's (`handle`).

It reads the UIDs above the folder's last one handled (a new UIDVALIDITY starts the folder again from UID 1),
handles each message in a transaction of its own that also moves the last UID on, commits, then flags the
message on the server (a failure there loses nothing). Where the folder stands is a row of the caller's
(`state_of(session, account)`, locked until the transaction ends, so two polls never handle the same UID):
app/archive/mailbox.py `mailbox_state`.
"""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.mailbox.client import MailboxSettings, connect, mark, new_uids, select_folder

#: handle(session, conn, state, uid) -> (outcome, the flags to set after the commit or None)
Handler = Callable[[Session, imaplib.IMAP4, Any, int], tuple[Any, str | None]]


def poll_folder(
    session: Session,
    settings: MailboxSettings,
    account: str,
    *,
    state_of: Callable[[Session, str], Any],
    handle: Handler,
) -> list[Any]:
    """One poll of the folder: the outcome of each new message; commits after each one (this is a job's
    loop, not a service). A message another poll handled meanwhile (its UID already passed, or an
    IntegrityError on its Message-ID) is skipped."""
    outcomes: list[Any] = []
    conn = connect(settings)
    try:
        validity = select_folder(conn, settings.folder)
        state = state_of(session, account)
        if state.uidvalidity != validity:
            state.uidvalidity, state.last_uid = validity, 0
        state.polled_dt = utcnow()
        last_uid = state.last_uid
        session.commit()
        for uid in new_uids(conn, last_uid):
            state = state_of(session, account)
            if uid <= state.last_uid:  # another poll took it meanwhile
                session.rollback()
                continue
            try:
                outcome, flags = handle(session, conn, state, uid)
                state.last_uid = uid
                state.polled_dt = utcnow()
                session.commit()
            except IntegrityError:  # the same Message-ID handled by a concurrent poll
                session.rollback()
                continue
            if flags:
                with contextlib.suppress(imaplib.IMAP4.error, OSError):
                    mark(conn, uid, flags)
            outcomes.append(outcome)
    finally:
        session.rollback()
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()
    return outcomes
