"""The SEND adapter against a local stub that validates every request on SEND's published OpenAPI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from app.atti.delivery.send import (
    SendAddress,
    SendClient,
    SendDocument,
    SendError,
    SendNotification,
    SendRecipient,
    UploadedDocument,
    build_request,
    sha256_b64,
)
from tests.atti.delivery.send_stub import API_KEY, NEW_REQUEST, SPEC, SendStub, errors_of


@pytest.fixture
def stub(httpserver_ipv4: HTTPServer) -> Iterator[SendStub]:
    yield SendStub(httpserver_ipv4)
    httpserver_ipv4.check_handler_errors()


def notification(**kw: object) -> SendNotification:
    recipient = SendRecipient(
        kind="PF",
        tax_id="RSSMRA80A01H501U",
        denomination="Mario Rossi",
        address=SendAddress("Via Roma 1", "00100", "ROMA", "RM"),
        notice_code="302000100000019421",
        creditor_tax_id="80000000010",
    )
    base = {
        "protocol": "R01-2026-0000123",
        "idempotence_token": "atto-17",
        "subject": "Ingiunzione fiscale",
        "sender_denomination": "Regione Demo",
        "sender_tax_id": "80000000010",
        "taxonomy_code": "030301P",
        "recipients": (recipient,),
        "payment_expiration": dt.date(2027, 2, 3),
    }
    base.update(kw)
    return SendNotification(**base)  # type: ignore[arg-type]


def test_the_spec_is_the_released_bundle() -> None:
    assert SPEC["info"]["title"].startswith("Piattaforma Notifiche")
    assert "/delivery/v2.5/requests" in SPEC["paths"]


def test_the_built_request_is_valid_and_the_validation_is_strict() -> None:
    doc = UploadedDocument("Atto", sha256_b64(b"%PDF"), "PN_NOTIFICATION_ATTACHMENTS-0.pdf", "v1")
    body = build_request(notification(), [doc])
    assert errors_of(NEW_REQUEST, body) == []
    assert body["paProtocolNumber"] == "R01-2026-0000123"
    assert body["recipients"][0]["payments"][0]["pagoPa"] == {
        "noticeCode": "302000100000019421",
        "creditorTaxId": "80000000010",
        "applyCost": False,
    }
    assert body["physicalCommunicationType"] == "AR_REGISTERED_LETTER"
    assert body["notificationFeePolicy"] == "FLAT_RATE"
    assert len(body["documents"][0]["digests"]["sha256"]) == 44
    for bad in (
        {**body, "unknownKey": 1},
        {**body, "taxonomyCode": "30301P"},
        {k: v for k, v in body.items() if k != "senderTaxId"},
    ):
        assert errors_of(NEW_REQUEST, bad)
    pec = build_request(
        notification(
            recipients=(SendRecipient("PG", "01234567890", "Alfa S.r.l.", None, pec="alfa@pec.example.it"),)
        ),
        [doc],
    )
    assert errors_of(NEW_REQUEST, pec) == []
    with pytest.raises(SendError, match="physicalCommunicationType"):
        build_request(notification(physical_type="PIGEON"), [doc])


def test_send_poll_perfection_and_legal_facts(stub: SendStub) -> None:
    pdf = b"%PDF-1.7 atto di prova"
    with SendClient(stub.base_url, API_KEY) as client:
        request_id = client.send(notification(), [SendDocument("Ingiunzione fiscale", pdf)])
        status = client.request_status(request_id)
        sent = client.sent(status.iun or "")
        facts = client.legal_facts(status.iun or "")
        name, content = client.download_legal_fact(status.iun or "", facts[0].key) or ("", b"")
    assert stub.invalid == []
    assert stub.uploads == {"/upload/preload-0": pdf}
    assert status.status == "ACCEPTED" and status.iun == stub.iun
    assert sent.perfection_date == dt.date(2026, 12, 10)
    assert facts[0].category == "ANALOG_DELIVERY"
    assert (name, content) == ("PN_LEGAL_FACTS-1.pdf", stub.legal_fact_pdf)
    [sent_request] = [r["notification"] for r in stub.requests if "notification" in r]
    assert sent_request["documents"][0]["ref"] == {
        "key": "PN_NOTIFICATION_ATTACHMENTS-0.pdf",
        "versionToken": "v1",
    }


def test_a_refused_request_is_an_italian_error(stub: SendStub) -> None:
    with SendClient(stub.base_url, "chiave-sbagliata") as client, pytest.raises(SendError, match="400"):
        client.send(notification(), [SendDocument("Atto", b"%PDF")])


def test_not_configured() -> None:
    with pytest.raises(SendError, match="SEND_API_URL"):
        SendClient("", "")
