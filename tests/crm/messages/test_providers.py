"""SMS through the HTTP provider adapter and App IO, each against a local stub (pytest-httpserver).

The App IO stub validates EVERY request (headers, body) and every answer it gives on the published OpenAPI
(samples/io_index.yaml, a byte-identical copy of shared/data/specs/io/index.yaml), with keys the spec does
not name refused; the SMS stub checks the JSON contract written in app/crm/messages/channels.py."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.crm.messages.models import Message
from app.crm.messages.services import queue_message
from tests.crm.messages.conftest import ACTOR, consent, work

SPEC_PATH = Path(__file__).parent / "samples" / "io_index.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
IO_KEY = "chiave-io-di-prova"
SMS_TOKEN = "token-sms-di-prova"

# --- the spec's schemas: $refs inlined, allOf merged, unknown keys refused ---------------------------------


def resolve(node: Any) -> Any:
    if isinstance(node, list):
        return [resolve(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(target)
    if "allOf" in node and node.get("x-one-of"):  # the spec's "one of these enums" (MessageStatusValue)
        return {"anyOf": resolve(node["allOf"])}
    if "allOf" in node:  # one object with every part's properties (so that unknown keys can be refused)
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in resolve(node["allOf"]):
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return resolve(merged)
    out = {k: resolve(v) for k, v in node.items() if k != "example" and not k.startswith("x-")}
    if "properties" in out:
        out["additionalProperties"] = False
    if not out.get("required"):
        out.pop("required", None)
    return out


FORMATS = FormatChecker()
FORMATS.checks("FiscalCode")(lambda v: not isinstance(v, str) or bool(re.fullmatch(r"[A-Z0-9]{16}", v)))
FORMATS.checks("OrganizationFiscalCode")(lambda v: not isinstance(v, str) or bool(re.fullmatch(r"\d{11}", v)))
FORMATS.checks("UTCISODateFromString")(
    lambda v: not isinstance(v, str) or bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", v))
)


def validator(definition: str) -> OAS30Validator:
    return OAS30Validator(resolve({"$ref": f"#/definitions/{definition}"}), format_checker=FORMATS)


def body_schema(path: str) -> str:
    [param] = [p for p in SPEC["paths"][path]["post"]["parameters"] if p["in"] == "body"]
    return param["schema"]["$ref"].rsplit("/", 1)[1]


VALIDATORS = {
    name: validator(name)
    for name in (
        "NewMessage",
        "FiscalCodePayload",
        "LimitedProfile",
        "CreatedMessage",
        "ProblemJson",
        "ExternalMessageResponseWithContent",
    )
}


def check(definition: str, body: Any) -> None:
    errors = [e.message for e in VALIDATORS[definition].iter_errors(body)]
    assert not errors, f"not valid against the spec ({definition}): {errors}"


class IoStub:
    """App IO: POST /api/v1/profiles and /api/v1/messages, every request and answer checked on the spec."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.profiles: dict[str, dict[str, Any] | None] = {}  # fiscal code -> LimitedProfile (None: 404)
        self.messages: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.status = "PROCESSED"  # what getMessage answers
        server.expect_request(re.compile("/api/v1/.*"), method="POST").respond_with_handler(self.handle)
        server.expect_request(re.compile("/api/v1/messages/.*"), method="GET").respond_with_handler(self.get)

    @property
    def url(self) -> str:
        return self.server.url_for("/api/v1")

    def get(self, request: Request) -> Response:
        """getMessage: GET /messages/{fiscal_code}/{id}."""
        try:
            assert request.headers.get("Ocp-Apim-Subscription-Key") == IO_KEY, "missing or wrong key"
            _, fiscal_code, message_id = request.path.rsplit("/", 2)
            [sent] = [m for i, m in enumerate(self.messages, 1) if f"01IOSTUB{i:018d}" == message_id]
            assert sent["fiscal_code"] == fiscal_code
            answer = {
                "message": {
                    "id": message_id,
                    "fiscal_code": fiscal_code,
                    "created_at": "2026-12-03T08:00:00.000Z",
                    "sender_service_id": "esattoria",
                    "feature_level_type": "STANDARD",
                    "content": sent["content"],
                },
                "status": self.status,
            }
            check("ExternalMessageResponseWithContent", answer)
            return Response(json.dumps(answer), 200, content_type="application/json")
        except (AssertionError, ValueError) as exc:
            self.errors.append(str(exc))
            return Response(json.dumps({"title": "stub", "detail": str(exc)}), 400)

    def handle(self, request: Request) -> Response:
        try:
            assert request.headers.get("Ocp-Apim-Subscription-Key") == IO_KEY, "missing or wrong key"
            assert request.mimetype == "application/json", request.mimetype
            body = json.loads(request.get_data(as_text=True))
            if request.path == "/api/v1/profiles":
                assert body_schema("/profiles") == "FiscalCodePayload"
                check("FiscalCodePayload", body)
                profile = self.profiles.get(body["fiscal_code"])
                if profile is None:
                    problem = {"title": "Not found", "status": 404, "detail": "no profile"}
                    check("ProblemJson", problem)
                    return Response(json.dumps(problem), 404, content_type="application/problem+json")
                check("LimitedProfile", profile)
                return Response(json.dumps(profile), 200, content_type="application/json")
            if request.path == "/api/v1/messages":
                assert body_schema("/messages") == "NewMessage"
                check("NewMessage", body)
                self.messages.append(body)
                created = {"id": f"01IOSTUB{len(self.messages):018d}"}
                check("CreatedMessage", created)
                return Response(json.dumps(created), 201, content_type="application/json")
            raise AssertionError(f"unexpected path {request.path}")
        except AssertionError as exc:
            self.errors.append(str(exc))
            return Response(json.dumps({"title": "stub", "detail": str(exc)}), 400)


@pytest.fixture
def io_stub(httpserver: HTTPServer, app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    stub = IoStub(httpserver)
    monkeypatch.setitem(app.config, "IO_API_URL", stub.url)
    monkeypatch.setitem(app.config, "IO_API_KEY", "chiave-globale-sbagliata")
    monkeypatch.setitem(app.config, "IO_API_KEYS", f"R02=altra, R01={IO_KEY}")  # R01's own key wins
    yield stub
    assert stub.errors == []


def test_the_spec_copy_is_the_published_one() -> None:
    from tests.payments.support import shared_file

    assert SPEC_PATH.read_bytes() == shared_file("data/specs/io/index.yaml").read_bytes()
    assert SPEC["info"]["version"] == "4.1.1"


def test_the_stub_validation_refuses_what_the_spec_does_not_allow() -> None:
    good = {
        "fiscal_code": "RSSMRA80A01H501U",
        "content": {
            "subject": "Promemoria di scadenza",
            "markdown": "x" * 80,
            "payment_data": {
                "amount": 1234,
                "notice_number": "301000000000012345",
                "payee": {"fiscal_code": "80000000010"},
            },
            "due_date": "2026-12-31T00:00:00.000Z",
        },
    }
    check("NewMessage", good)
    bad_contents = (
        {"markdown": "troppo corto"},
        {"subject": "breve"},
        {"payment_data": {"amount": "12.34", "notice_number": "301000000000012345"}},
        {"payment_data": {"amount": 1234, "notice_number": "12345"}},
        {"payment_data": {"amount": 1234, "notice_number": "301000000000012345", "iuv": "x"}},
        {"importo": 1234},  # a key the spec does not name
        {"due_date": "31/12/2026"},
    )
    for change in bad_contents:
        bad = copy.deepcopy(good)
        bad["content"].update(change)
        with pytest.raises(AssertionError, match="not valid against the spec"):
            check("NewMessage", bad)
    with pytest.raises(AssertionError, match="not valid against the spec"):
        check("NewMessage", {**good, "codice_fiscale": "RSSMRA80A01H501U"})
    with pytest.raises(AssertionError, match="not valid against the spec"):
        check("FiscalCodePayload", {"fiscal_code": "rssmra80"})


def _position_with_notice(session: Any, taxpayer: Any, ente: Any) -> tuple[Any, str]:
    from app.payments.notices import issue_notice_number, notice_numbers_of_positions
    from app.positions.models import Position

    position = session.scalars(
        sa.select(Position)
        .where(Position.taxpayer_id == taxpayer.id, Position.ente_id == ente.id)
        .order_by(Position.id)
    ).first()
    assert position is not None
    numbers = notice_numbers_of_positions(session, [position.id])[position.id]
    if not numbers:
        notice = issue_notice_number(
            session,
            ente_id=ente.id,
            amount_cents=100,
            issued_on=dt.date.today(),
            item_kind="posizione",
            item_ref=position.external_id,
            position_id=position.id,
        )
        numbers = [notice.notice_number]
    return position, numbers[0]


def test_app_io_checks_the_profile_then_sends_with_payment_data(
    app, session, mario, r01, io_stub, default_queue
) -> None:
    from app.positions.amounts import amount_due, today_rome

    io_stub.profiles[mario.codice_fiscale] = {"sender_allowed": True, "preferred_languages": ["it_IT"]}
    position, notice_number = _position_with_notice(session, mario, r01)
    due = amount_due(session, position, today_rome()).total_cents
    message = queue_message(
        session,
        taxpayer=mario,
        ente=r01,
        purpose="promemoria_rata",
        channel="app_io",
        actor=ACTOR,
        position=position,
    )
    session.commit()
    work(app, default_queue)
    session.refresh(message)
    assert (message.status, message.reason) == ("inviato", None), message.reason
    [sent] = io_stub.messages
    assert sent["fiscal_code"] == mario.codice_fiscale
    assert sent["content"]["payment_data"] == {
        "amount": due,
        "notice_number": notice_number,
        "payee": {"fiscal_code": r01.codice_fiscale},
    }
    assert sent["content"]["due_date"] == f"{position.due_date.isoformat()}T00:00:00.000Z"
    assert position.external_id in sent["content"]["markdown"]
    assert message.provider_id == "01IOSTUB000000000000000001"
    # then getMessage, a minute later: PROCESSED (in the citizen's inbox) is "consegnato"
    check_job = f"messaggio-{message.id}-consegna-1"
    assert check_job in default_queue.scheduled_job_registry.get_job_ids()
    from app.crm.messages.tasks import check_delivery

    assert check_delivery(message.id, 1) == "consegnato"
    session.refresh(message)
    assert message.delivered_dt is not None
    assert check_delivery(message.id, 2) is None  # idempotent


def test_app_io_rejected_after_sending_is_failed(app, session, mario, r01, io_stub, default_queue) -> None:
    from app.crm.messages.tasks import check_delivery

    io_stub.profiles[mario.codice_fiscale] = {"sender_allowed": True}
    io_stub.status = "REJECTED"
    message = queue_message(
        session,
        taxpayer=mario,
        ente=r01,
        purpose="risposta_richiesta",
        channel="app_io",
        actor=ACTOR,
        context={"richiesta": {"risposta": "La sua istanza è accolta."}},
    )
    session.commit()
    work(app, default_queue)
    assert check_delivery(message.id, 1) == "fallito"
    session.refresh(message)
    assert message.reason == "App IO: messaggio non recapitato (REJECTED)."


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        (None, "Il contribuente non usa App IO."),
        (
            {"sender_allowed": False},
            "Il contribuente ha disattivato i messaggi di questo servizio in App IO.",
        ),
    ],
)
def test_app_io_without_a_profile_or_with_the_service_off_is_refused(
    app, session, mario, r01, io_stub, default_queue, profile, reason
) -> None:
    io_stub.profiles[mario.codice_fiscale] = profile
    message = queue_message(
        session,
        taxpayer=mario,
        ente=r01,
        purpose="risposta_richiesta",
        channel="app_io",
        actor=ACTOR,
        context={"richiesta": {"risposta": "La sua istanza è accolta."}},
    )
    session.commit()
    work(app, default_queue)
    session.refresh(message)
    assert (message.status, message.reason) == ("rifiutato", reason)
    assert io_stub.messages == []


# --- SMS ------------------------------------------------------------------------------------------------


class SmsStub:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.received: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.fail_with: list[int] = []  # statuses to answer first, one per request
        server.expect_request("/v1/sms", method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        try:
            assert request.headers.get("Authorization") == f"Bearer {SMS_TOKEN}"
            body = json.loads(request.get_data(as_text=True))
            assert set(body) == {"from", "to", "text", "reference"}, sorted(body)
            assert request.headers.get("Idempotency-Key") == body["reference"]
            assert re.fullmatch(r"\+\d{8,15}", body["to"]), body["to"]
        except AssertionError as exc:
            self.errors.append(str(exc))
            return Response("{}", 400)
        if self.fail_with:
            return Response('{"error": "busy"}', self.fail_with.pop(0), content_type="application/json")
        self.received.append(body)
        return Response(json.dumps({"id": f"sms-{len(self.received)}"}), 202, content_type="application/json")


@pytest.fixture
def sms_stub(httpserver: HTTPServer, app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    stub = SmsStub(httpserver)
    monkeypatch.setitem(app.config, "SMS_API_URL", httpserver.url_for("/v1/sms"))
    monkeypatch.setitem(app.config, "SMS_API_TOKEN", SMS_TOKEN)
    monkeypatch.setitem(app.config, "SMS_SENDER", "RegioneR01")
    yield stub
    assert stub.errors == []


def _sms(session: Any, mario: Any, r01: Any) -> Message:
    consent(session, mario, "sms")
    message = queue_message(
        session,
        taxpayer=mario,
        ente=r01,
        purpose="appuntamento",
        channel="sms",
        actor=ACTOR,
        context={"appuntamento": {"data": "15/12/2026", "ora": "10:30", "sportello": "Sportello di Roma"}},
    )
    session.commit()
    return message


def test_an_sms_goes_to_the_provider_with_the_contract(
    app, session, mario, r01, sms_stub, default_queue
) -> None:
    message = _sms(session, mario, r01)
    work(app, default_queue)
    session.refresh(message)
    assert (message.status, message.provider_id) == ("inviato", "sms-1")
    [body] = sms_stub.received
    assert body["to"] == "+393331234567" and body["from"] == "RegioneR01"
    assert body["reference"] == message.dedup_key
    assert "15/12/2026" in body["text"] and "10:30" in body["text"]


def test_a_busy_sms_provider_is_retried(
    app, session, mario, r01, sms_stub, default_queue, fast_retries
) -> None:
    sms_stub.fail_with = [503]
    message = _sms(session, mario, r01)
    work(app, default_queue)
    session.refresh(message)
    assert (message.status, message.attempts) == ("inviato", 2)


def test_a_refusing_sms_provider_fails_at_once(
    app, session, mario, r01, sms_stub, default_queue, fast_retries
) -> None:
    sms_stub.fail_with = [422]
    message = _sms(session, mario, r01)
    work(app, default_queue)
    session.refresh(message)
    assert (message.status, message.attempts) == ("fallito", 1)
    assert "HTTP 422" in (message.reason or "")
