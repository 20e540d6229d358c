"""Messages tests: Mario Rossi (R01) with e-mail and mobile contacts, the default RQ queue emptied around each
test (this session's Redis db), a burst worker that runs the sending jobs in this process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.audit import Actor

ACTOR = Actor(user_id=None, label="test")


@pytest.fixture
def default_queue(app: Any) -> Iterator[Any]:
    from app.core.jobs import queue

    with app.app_context():
        q = queue("default")
        q.empty()
        for registry in (q.failed_job_registry, q.scheduled_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
    yield q
    with app.app_context():
        q.empty()


def work(app: Any, q: Any) -> None:
    """Run every job of the queue here (retries with interval 0 go back to the queue at once)."""
    from rq import SimpleWorker

    from app.core.jobs import connection

    SimpleWorker([q], connection=connection(app)).work(burst=True)


@pytest.fixture
def r01(session: Any) -> Any:
    from app.enti.models import Ente

    return session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()


@pytest.fixture
def mario(session: Any) -> Any:
    from app.demo.seed import MARIO_ROSSI_CF
    from app.taxpayers.models import Taxpayer
    from app.taxpayers.services import set_contact

    taxpayer = session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()
    set_contact(session, ACTOR, taxpayer, "email", "mario.rossi@esempio.it", source="test")
    set_contact(session, ACTOR, taxpayer, "cellulare", "333 1234567", source="test")
    session.flush()
    session.refresh(taxpayer)
    return taxpayer


@pytest.fixture
def fast_retries(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two retries, no wait (the intervals themselves are checked on their own)."""
    monkeypatch.setitem(app.config, "MESSAGES_RETRY_INTERVALS", [0, 0])


def consent(session: Any, taxpayer: Any, channel: str, granted: bool = True, preferred: bool = False) -> Any:
    from app.crm.messages.services import record_consent

    return record_consent(
        session,
        taxpayer,
        channel=channel,
        granted=granted,
        source="sportello",
        actor=ACTOR,
        preferred=preferred,
    )


REPLY = {"richiesta": {"risposta": "Accolta."}}


def queue_reply(
    session: Any, taxpayer: Any, ente: Any, channel: str | None = "email", **overrides: Any
) -> Any:
    """queue_message of the reply to a request ("risposta_richiesta", answer "Accolta."), as most tests send;
    `overrides` change any argument (context, attachments, dedup_key...); channel None: the preferred one."""
    from app.crm.messages.services import queue_message

    kwargs: dict[str, Any] = {
        "taxpayer": taxpayer,
        "ente": ente,
        "purpose": "risposta_richiesta",
        "context": REPLY,
        "actor": ACTOR,
        **({"channel": channel} if channel else {}),
        **overrides,
    }
    return queue_message(session, **kwargs)
