"""The periodic SEND poll (app.atti.delivery.tasks.poll_send_job) against the local SEND stub that validates
every request on SEND's published OpenAPI: a sent act is accepted (IUN) on a first run, notified on the run
after its perfection, and a further run touches nothing (idempotent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from app.atti.delivery import services
from app.atti.delivery.models import ActOutcome
from app.atti.delivery.send import SendClient
from app.positions.amounts import today_rome
from tests.atti.delivery.conftest import ACTOR
from tests.atti.delivery.send_stub import API_KEY, SendStub


@pytest.fixture
def send_stub(httpserver_ipv4: HTTPServer) -> Iterator[SendStub]:
    yield SendStub(httpserver_ipv4)
    httpserver_ipv4.check_handler_errors()


def test_periodic_job_is_listed() -> None:
    from app.atti.delivery.tasks import PERIODIC_JOBS, poll_send_job

    assert "app.atti.delivery.tasks.poll_send_job" in [name for name, *_ in PERIODIC_JOBS]
    assert callable(poll_send_job)


def test_poll_job_accepts_then_notifies_once(
    app, session, store, issue, send_stub: SendStub, monkeypatch
) -> None:  # noqa: E501
    from app.atti.delivery.tasks import poll_send_job

    today = today_rome()
    (act,) = issue(1)
    with SendClient(send_stub.base_url, API_KEY) as client:
        delivery = services.send_act_by_send(session, act, ACTOR, client, file_store=str(store), today=today)
    session.commit()
    delivery_id = delivery.id

    # not configured: nothing polled
    monkeypatch.setitem(app.config, "SEND_API_URL", "")
    assert poll_send_job()["checked"] == 0

    monkeypatch.setitem(app.config, "SEND_API_URL", send_stub.base_url)
    monkeypatch.setitem(app.config, "SEND_API_KEY", API_KEY)
    monkeypatch.setitem(app.config, "FILE_STORE", str(store))
    send_stub.perfection = None
    first = poll_send_job()
    assert first["results"] == [
        {"delivery": delivery_id, "iun": send_stub.iun, "status": "accettato", "outcome": None}
    ]
    assert act.status == "inviato"

    send_stub.perfection = f"{today.isoformat()}T09:30:00Z"
    second = poll_send_job()
    assert [r["outcome"] for r in second["results"]] == ["send_perfezionata"]
    session.refresh(act)
    assert act.status == "notificato" and act.notified_date == today

    third = poll_send_job()  # nothing open any more
    assert third == {"checked": 0, "results": []}
    count = sa.select(sa.func.count()).select_from(ActOutcome).where(ActOutcome.act_id == act.id)
    assert session.scalar(count) == 1
    assert send_stub.invalid == []
