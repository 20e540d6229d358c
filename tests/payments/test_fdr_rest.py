"""pagoPA FdR REST (organizations side): the client against a stub of the service served over real HTTP, whose
every answer is validated against the published OpenAPI (samples/fdr_organization.json), and the import of the
flows it serves (docs/formats/pagamenti.md, "FdR REST")."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.enti.models import Ente
from app.extensions import db
from app.payments.fdr_rest import (
    API_KEY_HEADER,
    NOT_CONFIGURED,
    FdrRestClient,
    FdrRestError,
    FetchedFlow,
    content_sha256,
    euro_to_cents,
    to_parsed_flow,
)
from app.payments.models import Allocation, Anomaly, Payment, PaymentFlow
from app.payments.parsing import FlowRefused
from app.payments.services import fetch_fdr_flows, import_flow
from app.positions.models import Movement, Position
from tests.payments.support import ACTOR, SAMPLES, fdr, open_positions, row

SPEC_PATH = SAMPLES / "fdr_organization.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
BASE_PATH = "/fdr-org/service/v1"
KEY = "chiave-di-prova-fdr"
ORG = "80000000010"  # R01's codice fiscale (demo seed)
ORG_R02 = "80000010027"
PSP = "PSPDEMO01"
LIST_PATH = "/organizations/{organizationId}/fdrs"
FLOW_PATH = "/organizations/{organizationId}/fdrs/{fdr}/revisions/{revision}/psps/{pspId}"
PAYMENTS_PATH = FLOW_PATH + "/payments"


# --- the spec's schemas, $refs resolved ------------------------------------------------------------------


def resolve(node: Any, *, strict: bool) -> Any:
    """Inline every `#/components/...` $ref. `strict` also forbids keys the schema does not name, so the stub
    cannot drift from the spec's exact JSON keys."""
    if isinstance(node, list):
        return [resolve(n, strict=strict) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(target, strict=strict)
    out = {k: resolve(v, strict=strict) for k, v in node.items() if k != "example"}
    if strict and "properties" in out:
        out["additionalProperties"] = False
    return out


def response_validator(path: str, status: int = 200) -> OAS30Validator:
    schema = SPEC["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    return OAS30Validator(resolve(schema, strict=True), format_checker=oas30_format_checker)


VALIDATORS = {
    (path, status): response_validator(path, status)
    for path in (LIST_PATH, FLOW_PATH, PAYMENTS_PATH)
    for status in (200, 500)
}


def dumps(body: Any) -> str:
    """JSON as the service writes it: a Decimal amount is a bare number with its digits ("10.1", "0.07")."""
    text = json.dumps(body, default=lambda d: f"@@DEC:{d}@@")
    return re.sub(r'"@@DEC:([0-9.]+)@@"', r"\1", text)


def validated(path: str, body: Any, status: int = 200) -> str:
    text = dumps(body)
    errors = [e.message for e in VALIDATORS[(path, status)].iter_errors(json.loads(text))]
    assert not errors, f"stub answer not valid against the spec ({path} {status}): {errors}"
    return text


# --- the stub service --------------------------------------------------------------------------------------


def eur(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def pay(
    index: int,
    iuv: str,
    iur: str,
    amount: Decimal | int,
    status: str = "EXECUTED",
    *,
    transfer: int = 1,
    day: str = "2026-11-20T09:30:00Z",
) -> dict[str, Any]:
    return {
        "index": index,
        "iuv": iuv,
        "iur": iur,
        "idTransfer": transfer,
        "pay": eur(amount) if isinstance(amount, int) else amount,
        "payStatus": status,
        "payDate": day,
    }


@dataclass
class StubFlow:
    flow: dict[str, Any]
    payments: list[dict[str, Any]]
    published: str


@dataclass
class FdrStub:
    """The FdR organizations API on a real HTTP server: listing, flow and payments, paginated by `page`/`size`
    as the spec says; `fail` makes one endpoint answer 500, sleep or send garbage."""

    server: HTTPServer
    flows: dict[str, list[StubFlow]] = field(default_factory=dict)  # organizationId -> flows listed
    fail: dict[str, Callable[[], Response | None]] = field(default_factory=dict)  # list|flow|payments

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(f"^{BASE_PATH}/.*"), method="GET").respond_with_handler(
            self.handle
        )

    @property
    def base_url(self) -> str:
        return self.server.url_for(BASE_PATH)

    def client(self, *, timeout: float = 5.0, page_size: int = 1000) -> FdrRestClient:
        return FdrRestClient(self.base_url, KEY, timeout=timeout, page_size=page_size)

    def add(
        self,
        fdr_id: str,
        revision: int,
        payments: list[dict[str, Any]],
        *,
        fdr_date: str = "2026-11-20T10:15:30Z",
        published: str = "2026-11-20T11:00:00Z",
        tot: int | None = None,
        total: Decimal | None = None,
        org: str = ORG,
        psp: str = PSP,
    ) -> None:
        flow = {
            "status": "PUBLISHED",
            "revision": revision,
            "created": "2026-11-20T10:20:00Z",
            "updated": published,
            "fdr": fdr_id,
            "fdrDate": fdr_date,
            "regulation": "TRN2026112000001",
            "regulationDate": "2026-11-20",
            "bicCodePouringBank": "BPPIITRRXXX",
            "sender": {
                "type": "BIC_CODE",
                "id": "BPPIITRRXXX",
                "pspId": psp,
                "pspName": "PSP Demo S.p.A.",
                "pspBrokerId": "PSPDEMO01BRK",
                "channelId": "PSPDEMO01_01",
            },
            "receiver": {"id": org, "organizationId": org, "organizationName": "Regione Demo"},
            "published": published,
            "computedTotPayments": len(payments),
            "computedSumPayments": sum((p["pay"] for p in payments), Decimal("0.00")),
            "totPayments": len(payments) if tot is None else tot,
            "sumPayments": sum((p["pay"] for p in payments), Decimal("0.00")) if total is None else total,
        }
        self.flows.setdefault(org, []).append(StubFlow(flow, payments, published))

    def requests(self, kind: str) -> list[Request]:
        found = []
        for request, _ in self.server.log:
            path = request.path.removeprefix(BASE_PATH)
            endpoint = (
                "payments" if path.endswith("/payments") else "flow" if "/revisions/" in path else "list"
            )
            if endpoint == kind:
                found.append(request)
        return found

    def handle(self, request: Request) -> Response:
        if request.headers.get(API_KEY_HEADER) != KEY:
            return Response(status=401)
        parts = request.path.removeprefix(BASE_PATH).strip("/").split("/")
        org = parts[1]
        if len(parts) == 3:
            kind, spec_path = "list", LIST_PATH
        elif len(parts) == 8:
            kind, spec_path = "flow", FLOW_PATH
        else:
            kind, spec_path = "payments", PAYMENTS_PATH
        if kind in self.fail:
            answer = self.fail[kind]()
            if answer is not None:
                return answer
        if kind == "list":
            rows = [
                {
                    "fdr": f.flow["fdr"],
                    "pspId": f.flow["sender"]["pspId"],
                    "revision": f.flow["revision"],
                    "published": f.published,
                    "flowDate": f.flow["fdrDate"],
                }
                for f in self.flows.get(org, [])
            ]
            return self.page(request, spec_path, rows)
        fdr_id, revision, psp = parts[3], int(parts[5]), parts[7]
        match = [
            f
            for f in self.flows.get(org, [])
            if (f.flow["fdr"], f.flow["revision"], f.flow["sender"]["pspId"]) == (fdr_id, revision, psp)
        ]
        if not match:
            return Response(status=404)
        if kind == "flow":
            return Response(validated(spec_path, match[0].flow), mimetype="application/json")
        return self.page(request, spec_path, match[0].payments)

    @staticmethod
    def page(request: Request, spec_path: str, rows: list[dict[str, Any]]) -> Response:
        page, size = int(request.args.get("page", 1)), int(request.args.get("size", 1000))
        body = {
            "metadata": {"pageSize": size, "pageNumber": page, "totPage": math.ceil(len(rows) / size)},
            "count": len(rows),
            "data": rows[(page - 1) * size : page * size],
        }
        return Response(validated(spec_path, body), mimetype="application/json")


def server_error() -> Response:
    body = {
        "errorId": "50905466-1881-457b-b42f-fb7b2bfb1610",
        "httpStatusCode": 500,
        "httpStatusDescription": "Internal Server Error",
        "appErrorCode": "FDR-0500",
        "errors": [{"message": "An unexpected error has occurred. Please contact support."}],
    }
    return Response(validated(LIST_PATH, body, 500), status=500, mimetype="application/json")


def slow() -> None:
    time.sleep(0.6)  # then the normal answer: the client has given up at 0.2 s


def drain(stub: FdrStub, requests: int) -> None:
    """Wait until the (single-threaded) stub has answered the requests the client gave up on."""
    deadline = time.monotonic() + 5
    while len(stub.server.log) < requests and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def stub(httpserver_ipv4: HTTPServer) -> Iterator[FdrStub]:
    yield FdrStub(httpserver_ipv4)
    httpserver_ipv4.check_assertions()
    httpserver_ipv4.check_handler_errors()


# --- helpers -----------------------------------------------------------------------------------------------


def r01(session: Any) -> Ente:
    return session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()


def counts(session: Any) -> tuple[int, ...]:
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (PaymentFlow, Payment, Allocation, Movement, Anomaly)
    )


def fetch(session: Any, stub: FdrStub, **kw: Any) -> list[Any]:
    with stub.client(**kw) as client:
        return fetch_fdr_flows(session, r01(session), ACTOR, client)


# --- the spec and the stub ---------------------------------------------------------------------------------


def test_the_spec_copy_is_the_published_one() -> None:
    """samples/fdr_organization.json is a byte-identical copy of shared/data/specs/fdr (domain.md §6.5)."""
    from tests.payments.support import shared_file

    shared = shared_file("data/specs/fdr/fdr_organization.json")
    assert SPEC_PATH.read_bytes() == shared.read_bytes()
    assert SPEC["info"]["version"] == "1.1.54"


def test_the_stub_validation_refuses_what_the_spec_does_not_allow() -> None:
    good = pay(1, "01000000000000001", "IUR-1", Decimal("10.10"))
    page = {"metadata": {"pageSize": 1, "pageNumber": 1, "totPage": 1}, "count": 1, "data": [good]}
    validated(PAYMENTS_PATH, page)
    for bad in (
        {**good, "pay": "10.10"},  # a string, not a number
        {**good, "payStatus": "PAID"},
        {**good, "idTransfer": 6},
        {**good, "amount": Decimal("1.00")},  # a key the spec does not name
        {k: v for k, v in good.items() if k != "iur"},
    ):
        with pytest.raises(AssertionError, match="not valid against the spec"):
            validated(PAYMENTS_PATH, {**page, "data": [bad]})


# --- mapping -----------------------------------------------------------------------------------------------


def fetched_flow(payments: list[dict[str, Any]], **flow: Any) -> FetchedFlow:
    total = sum((p["pay"] for p in payments), Decimal("0.00"))
    body = {
        "status": "PUBLISHED",
        "revision": 1,
        "fdr": "2026-11-20PSPDEMO01-0000000900",
        "fdrDate": "2026-11-20T10:15:30Z",
        "regulation": "TRN-900",
        "regulationDate": "2026-11-20",
        "bicCodePouringBank": "BPPIITRRXXX",
        "sender": {"type": "ABI_CODE", "id": "03069", "pspId": PSP, "pspName": "PSP Demo S.p.A."},
        "receiver": {"id": ORG, "organizationId": ORG, "organizationName": "Regione Demo"},
        "published": "2026-11-20T11:00:00Z",
        "totPayments": len(payments),
        "sumPayments": total,
        **flow,
    }
    return FetchedFlow(organization_id=ORG, flow=body, payments=payments)


def test_amounts_become_cents_exactly_and_the_iur_key_follows_the_xml_rule() -> None:
    parsed = to_parsed_flow(
        fetched_flow(
            [
                pay(1, "01000000000000001", "IUR-A", Decimal("10.1")),
                pay(2, "01000000000000002", "IUR-A", Decimal("0.07"), transfer=2),
                pay(3, "01000000000000003", "IUR-B", Decimal("1234.50"), "STAND_IN"),
            ]
        )
    )
    assert [p.amount_cents for p in parsed.payments] == [1010, 7, 123450]
    assert [p.external_id for p in parsed.payments] == ["IUR-A", "IUR-A#2", "IUR-B"]
    assert [p.transfer_index for p in parsed.payments] == [1, 2, 1]
    assert (parsed.declared_total_cents, parsed.declared_count) == (1010 + 7 + 123450, 3)
    assert (parsed.identifier, parsed.sender, parsed.receiver_code) == (
        "2026-11-20PSPDEMO01-0000000900",
        PSP,
        ORG,
    )
    assert parsed.flow_dt == dt.datetime(2026, 11, 20, 10, 15, 30, tzinfo=dt.UTC)  # fdrDate
    assert (parsed.regulation_ref, parsed.regulation_date, parsed.bic) == (
        "TRN-900",
        dt.date(2026, 11, 20),
        "BPPIITRRXXX",
    )
    assert parsed.payments[0].paid_date == dt.date(2026, 11, 20)  # payDate, its day in Italy
    for text, cents in (
        ("10.1", 1010),
        ("0.07", 7),
        ("10.10", 1010),
        ("1", 100),
        ("123.45", 12345),
        ("999999999.99", 99_999_999_999),
    ):
        assert euro_to_cents(json.loads(f'{{"a": {text}}}', parse_float=Decimal)["a"]) == cents
    for bad in (Decimal("10.123"), Decimal("0"), Decimal("-1.00"), Decimal("1000000000.00"), 10.1, "10.10"):
        with pytest.raises(ValueError):
            euro_to_cents(bad)


@pytest.mark.parametrize(
    "status, code",
    [("EXECUTED", "0"), ("REVOKED", "3"), ("STAND_IN", "4"), ("STAND_IN_NO_RPT", "8"), ("NO_RPT", "9")],
)
def test_pay_status_maps_to_the_xml_outcome_code(status: str, code: str) -> None:
    parsed = to_parsed_flow(fetched_flow([pay(1, "01000000000000001", "IUR-S", 500, status)]))
    assert parsed.payments[0].outcome_code == code


@pytest.mark.parametrize(
    "payments, flow, reason",
    [
        ([pay(1, "01000000000000001", "I", 100)], {"totPayments": 2}, "totali dichiarati"),
        ([pay(1, "01000000000000001", "I", 100)], {"sumPayments": Decimal("1.01")}, "totali dichiarati"),
        ([pay(1, "01000000000000001", "I", Decimal("1.001"))], {}, "più di due decimali"),
        ([pay(1, "01000000000000001", "I", 100, "PAID")], {}, "payStatus"),
        ([pay(1, "01000000000000001", "I", 100)], {"fdrDate": "2031-01-01T00:00:00Z"}, "fuori intervallo"),
        ([pay(1, "01000000000000001", "I", 100)], {"status": "CREATED"}, "non è pubblicato"),
        ([], {"totPayments": 1, "sumPayments": Decimal("1.00")}, "non contiene pagamenti"),
    ],
)
def test_an_inconsistent_flow_is_refused_with_its_reason(
    payments: list[dict[str, Any]], flow: dict[str, Any], reason: str
) -> None:
    with pytest.raises(FlowRefused) as refused:
        to_parsed_flow(fetched_flow(payments, **flow))
    assert reason in json.dumps(refused.value.errors, ensure_ascii=False) + refused.value.message


def test_a_flow_of_another_organization_is_refused() -> None:
    fetched = fetched_flow([pay(1, "01000000000000001", "I", 100)])
    other = FetchedFlow(organization_id=ORG_R02, flow=fetched.flow, payments=fetched.payments)
    with pytest.raises(FlowRefused, match="altro ente"):
        to_parsed_flow(other)


def test_the_hash_does_not_depend_on_the_order_of_the_payments() -> None:
    payments = [pay(i, "01000000000000001", f"IUR-{i}", 100 * i) for i in (1, 2, 3)]
    one = fetched_flow(payments)
    two = FetchedFlow(ORG, copy.deepcopy(one.flow), list(reversed(copy.deepcopy(payments))))
    assert content_sha256(one) == content_sha256(two)
    three = FetchedFlow(ORG, {**one.flow, "revision": 2}, payments)
    assert content_sha256(three) != content_sha256(one)


# --- fetching and importing --------------------------------------------------------------------------------


def test_a_flow_with_payments_on_two_pages_is_imported_and_reconciled(session, stub) -> None:
    a, b = open_positions(session, 2)
    stub.add(
        "2026-11-20PSPDEMO01-0000000101",
        1,
        [pay(1, a.iuv, "REST-IUR-101-1", a.due), pay(2, b.iuv, "REST-IUR-101-2", b.due)],
    )
    (out,) = fetch(session, stub, page_size=1)
    assert (out.status, out.identifier, out.psp, out.revision) == (
        "imported",
        "2026-11-20PSPDEMO01-0000000101",
        PSP,
        1,
    )
    assert [r.args.get("page") for r in stub.requests("payments")] == ["1", "2"]
    assert all(r.args.get("size") == "1" for r in stub.requests("payments"))
    assert out.summary.as_json() == {
        "flow": out.flow_id,
        "payments": 2,
        "matched": 2,
        "unmatched": 0,
        "duplicates": 0,
        "total": f"{(a.due + b.due) / 100:.2f}",
    }
    flow = session.get(PaymentFlow, out.flow_id)
    assert (flow.source, flow.identifier, flow.sender, flow.sender_name) == (
        "pagopa",
        "2026-11-20PSPDEMO01-0000000101",
        PSP,
        "PSP Demo S.p.A.",
    )
    assert flow.flow_dt == dt.datetime(2026, 11, 20, 10, 15, 30, tzinfo=dt.UTC)
    assert (flow.regulation_ref, flow.regulation_date, flow.bic) == (
        "TRN2026112000001",
        dt.date(2026, 11, 20),
        "BPPIITRRXXX",
    )
    assert (flow.declared_count, flow.declared_total_cents) == (2, a.due + b.due)
    assert (flow.computed_count, flow.computed_total_cents) == (2, a.due + b.due)
    assert flow.file_name == "FdR REST 2026-11-20PSPDEMO01-0000000101 rev. 1 PSP PSPDEMO01"
    assert flow.report["fdr_rest"]["revision"] == 1 and flow.report["encoding"] == "json"
    assert session.get(Position, a.id).state == "pagata" and session.get(Position, b.id).state == "pagata"
    stored = session.scalars(sa.select(Payment).where(Payment.flow_id == flow.id).order_by(Payment.id)).all()
    assert [(p.external_id, p.outcome_code, p.row_number) for p in stored] == [
        ("REST-IUR-101-1", "0", 1),
        ("REST-IUR-101-2", "0", 2),
    ]


def test_fetching_again_changes_nothing(session, stub) -> None:
    (p,) = open_positions(session)
    stub.add("2026-11-20PSPDEMO01-0000000102", 1, [pay(1, p.iuv, "REST-IUR-102", p.due)])
    (first,) = fetch(session, stub)
    assert first.status == "imported"
    before = counts(session)
    assert (len(stub.requests("flow")), len(stub.requests("payments"))) == (1, 1)
    (again,) = fetch(session, stub)
    assert (again.status, again.flow_id) == ("duplicate", first.flow_id)
    assert "già importata" in again.message
    assert counts(session) == before
    assert (len(stub.requests("list")), len(stub.requests("flow")), len(stub.requests("payments"))) == (
        2,
        1,
        1,
    )


def test_the_same_revision_already_imported_by_hash_is_a_duplicate(session, stub) -> None:
    """Imported once (here under another label, as an older run would have stored it): same content hash."""
    (p,) = open_positions(session)
    stub.add("2026-11-20PSPDEMO01-0000000103", 1, [pay(1, p.iuv, "REST-IUR-103", p.due)])
    (first,) = fetch(session, stub)
    session.get(PaymentFlow, first.flow_id).file_name = "scaricato a mano"
    session.get(PaymentFlow, first.flow_id).status = "sostituito"  # so that only the hash can tell
    session.flush()
    before = counts(session)
    (again,) = fetch(session, stub)
    assert again.status == "duplicate" and "stesso contenuto" in again.message
    assert counts(session) == before


def test_a_later_revision_overwrites_the_earlier(session, stub) -> None:
    a, b = open_positions(session, 2)
    name = "2026-11-20PSPDEMO01-0000000104"
    stub.add(name, 1, [pay(1, a.iuv, "REST-IUR-104-1", a.due), pay(2, b.iuv, "REST-IUR-104-2", 1000)])
    (first,) = fetch(session, stub)
    assert session.get(Position, a.id).state == "pagata"
    stub.add(
        name,
        2,
        [pay(1, a.iuv, "REST-IUR-104-1", 500), pay(2, b.iuv, "REST-IUR-104-2", b.due)],
        fdr_date="2026-11-21T08:00:00Z",
        published="2026-11-21T08:30:00Z",
    )
    old, new = fetch(session, stub)
    assert (old.revision, old.status) == (1, "duplicate")
    assert (new.revision, new.status) == (2, "imported") and "sostituisce" in new.message
    assert new.summary.replaced_flow_id == first.flow_id
    old_flow, new_flow = session.get(PaymentFlow, first.flow_id), session.get(PaymentFlow, new.flow_id)
    assert (old_flow.status, new_flow.status, new_flow.replaces_id) == (
        "sostituito",
        "accettato",
        old_flow.id,
    )
    assert session.get(Position, a.id).state == "parzialmente_pagata"
    assert session.get(Position, b.id).state == "pagata"
    from app.positions.queries import balances

    assert balances(session, [a.id])[a.id].due_cents == a.ledger - 500
    # a third revision with the same fdrDate is refused as a duplicate before its payments are downloaded
    stub.add(
        name,
        3,
        [pay(1, a.iuv, "REST-IUR-104-1", 1)],
        fdr_date="2026-11-21T08:00:00Z",
        published="2026-11-21T09:00:00Z",
    )
    downloaded = len(stub.requests("payments"))
    *_, third = fetch(session, stub)
    assert (third.revision, third.status, third.flow_id) == (3, "duplicate", new.flow_id)
    assert len(stub.requests("payments")) == downloaded


def test_a_revoked_payment_reverses_its_allocation(session, stub) -> None:
    (p,) = open_positions(session)
    stub.add("2026-11-20PSPDEMO01-0000000105", 1, [pay(1, p.iuv, "REST-IUR-REV", p.due)])
    stub.add(
        "2026-11-21PSPDEMO01-0000000106",
        1,
        [pay(1, p.iuv, "REST-IUR-REV", p.due, "REVOKED", day="2026-11-21T09:00:00Z")],
        fdr_date="2026-11-21T10:00:00Z",
        published="2026-11-21T10:30:00Z",
    )
    paid, revoked = fetch(session, stub)
    assert (paid.status, revoked.status) == ("imported", "imported")
    assert revoked.summary.matched == 1
    original = session.scalars(
        sa.select(Payment).where(Payment.iur == "REST-IUR-REV", Payment.outcome_code == "0")
    ).one()
    revocation = session.scalars(
        sa.select(Payment).where(Payment.iur == "REST-IUR-REV", Payment.outcome_code == "3")
    ).one()
    assert (original.status, revocation.status, revocation.revokes_id) == ("revocato", "revoca", original.id)
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == p.ledger
    assert session.get(Position, p.id).state == p.state


def test_a_payment_seen_in_a_file_and_over_rest_is_one_payment(session, stub) -> None:
    (p,) = open_positions(session)
    import_flow(
        session,
        fdr([row(p.iuv, "BOTH-IUR", 1000, index=2)], identifier="2026-11-20PSPDEMO01-0000000107"),
        ACTOR,
    )
    stub.add(
        "2026-11-20PSPDEMO01-0000000108",
        1,
        [pay(1, p.iuv, "BOTH-IUR", 1000, transfer=2), pay(2, p.iuv, "REST-ONLY", 700)],
    )
    (out,) = fetch(session, stub)
    assert (out.summary.payments, out.summary.duplicates, out.summary.matched) == (1, 1, 1)
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.iur == "BOTH-IUR")) == 1
    )
    from app.positions.queries import balances

    assert balances(session, [p.id])[p.id].due_cents == p.ledger - 1700


def test_a_refused_flow_keeps_nothing_and_the_other_flow_of_the_run_is_imported(session, stub) -> None:
    a, b = open_positions(session, 2)
    stub.add(
        "2026-11-20PSPDEMO01-0000000109",
        1,
        [pay(1, a.iuv, "REST-IUR-BAD", a.due)],
        total=eur(a.due + 1),
    )
    stub.add(
        "2026-11-20PSPDEMO01-0000000110",
        1,
        [pay(1, b.iuv, "REST-IUR-GOOD", b.due)],
        published="2026-11-20T12:00:00Z",
    )
    before = counts(session)
    bad, good = fetch(session, stub)
    assert (bad.status, bad.flow_id) == ("refused", None) and "totali dichiarati" in bad.message
    assert good.status == "imported"
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.iur == "REST-IUR-BAD"))
        == 0
    )
    assert counts(session)[0] == before[0] + 1
    assert session.get(Position, a.id).state == a.state and session.get(Position, b.id).state == "pagata"


def test_a_flow_refused_while_it_is_being_stored_is_rolled_back_alone(session, stub, monkeypatch) -> None:
    """Each flow is imported in a savepoint: a refusal after its rows were written undoes only them."""
    import app.payments.services as services

    a, b = open_positions(session, 2)
    stub.add("2026-11-20PSPDEMO01-0000000111", 1, [pay(1, a.iuv, "REST-IUR-SP-1", a.due)])
    stub.add(
        "2026-11-20PSPDEMO01-0000000112",
        1,
        [pay(1, b.iuv, "REST-IUR-SP-2", b.due)],
        published="2026-11-20T12:00:00Z",
    )
    real = services._check_bank_credit

    def refuse_the_first(session: Any, flow: PaymentFlow) -> None:
        if flow.identifier.endswith("111"):
            raise FlowRefused("Rifiutato durante la registrazione (prova).")
        real(session, flow)

    monkeypatch.setattr(services, "_check_bank_credit", refuse_the_first)
    before = counts(session)
    first, second = fetch(session, stub)
    assert (first.status, second.status) == ("refused", "imported")
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.iur == "REST-IUR-SP-1"))
        == 0
    )
    assert counts(session)[0] == before[0] + 1
    assert session.get(Position, a.id).state == a.state and session.get(Position, b.id).state == "pagata"


def test_http_500_on_the_listing_is_an_italian_error_and_nothing_is_kept(session, stub) -> None:
    stub.add("2026-11-20PSPDEMO01-0000000113", 1, [pay(1, "01000000000000001", "REST-500", 100)])
    stub.fail["list"] = server_error
    before = counts(session)
    with pytest.raises(FdrRestError) as failed:
        fetch(session, stub)
    assert "errore HTTP 500" in failed.value.message and "FDR-0500" in failed.value.message
    assert failed.value.http_status == 500
    assert counts(session) == before


def test_a_timeout_on_the_payments_keeps_nothing_of_that_flow(session, stub) -> None:
    (p,) = open_positions(session)
    stub.add("2026-11-20PSPDEMO01-0000000114", 1, [pay(1, p.iuv, "REST-SLOW", p.due)])
    stub.fail["payments"] = slow
    before = counts(session)
    (out,) = fetch(session, stub, timeout=0.2)
    assert out.status == "error" and "non ha risposto entro 0.2 secondi" in out.message
    assert counts(session) == before
    stub.fail["list"] = slow
    with stub.client(timeout=0.2) as client, pytest.raises(FdrRestError, match="non ha risposto"):
        client.list_published(ORG)
    drain(stub, 4)  # listing, flow, payments, listing


def test_a_body_that_is_not_json_is_an_italian_error(session, stub) -> None:
    stub.fail["list"] = lambda: Response("<html>manutenzione</html>", mimetype="text/html")
    with pytest.raises(FdrRestError, match="non leggibile come JSON"):
        fetch(session, stub)


def test_the_api_key_header_is_sent_on_every_call(session, stub) -> None:
    (p,) = open_positions(session)
    stub.add("2026-11-20PSPDEMO01-0000000115", 1, [pay(1, p.iuv, "REST-KEY", p.due)])
    fetch(session, stub)
    assert len(stub.server.log) == 3
    for request, _ in stub.server.log:
        assert request.headers.get("Ocp-Apim-Subscription-Key") == KEY
        assert "subscription-key" not in request.args  # the key never goes into the URL
    with FdrRestClient(stub.base_url, "chiave-sbagliata") as client, pytest.raises(FdrRestError, match="401"):
        client.list_published(ORG)


def test_the_published_after_day_is_sent_as_publishedGt_from_midnight_in_italy(session, stub) -> None:
    with stub.client() as client:
        assert (
            fetch_fdr_flows(session, r01(session), ACTOR, client, published_after=dt.date(2026, 11, 20)) == []
        )
    (request,) = stub.requests("list")
    assert request.args.get("publishedGt") == "2026-11-19T23:00:00Z"
    assert (request.args.get("page"), request.args.get("size")) == ("1", "1000")
    assert request.path == f"{BASE_PATH}/organizations/{ORG}/fdrs"


# --- command line and job ----------------------------------------------------------------------------------


@pytest.fixture
def configured(app, stub, monkeypatch) -> FdrStub:
    monkeypatch.setitem(app.config, "FDR_API_BASE_URL", stub.base_url)
    monkeypatch.setitem(app.config, "FDR_API_KEY", KEY)
    monkeypatch.setitem(app.config, "FDR_API_TIMEOUT", 5)
    return stub


def test_cli_prints_a_json_summary_and_exits_0_then_1_on_a_refusal(app, configured) -> None:
    with app.app_context():
        a, b = open_positions(db.session, 2)
    configured.add("2026-11-20PSPDEMO01-0000000116", 1, [pay(1, a.iuv, "CLI-REST-1", a.due)])
    result = app.test_cli_runner().invoke(args=["pagamenti", "scarica-fdr", "--ente", "R01"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary) == ["ente", "flows", "imported", "duplicates", "refused", "errors"]
    assert (summary["ente"], summary["imported"], summary["refused"]) == ("R01", 1, 0)
    (flow,) = summary["flows"]
    assert {k: flow[k] for k in ("identifier", "psp", "revision", "status")} == {
        "identifier": "2026-11-20PSPDEMO01-0000000116",
        "psp": PSP,
        "revision": 1,
        "status": "imported",
    }
    assert flow["summary"]["matched"] == 1
    with app.app_context():
        assert db.session.get(Position, a.id).state == "pagata"  # committed
    configured.add(
        "2026-11-20PSPDEMO01-0000000117",
        1,
        [pay(1, b.iuv, "CLI-REST-2", b.due)],
        tot=2,
        published="2026-11-20T12:00:00Z",
    )
    result = app.test_cli_runner().invoke(
        args=["pagamenti", "scarica-fdr", "--ente", "R01", "--dal", "2026-11-01"]
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert [f["status"] for f in summary["flows"]] == ["duplicate", "refused"]
    assert (summary["duplicates"], summary["refused"]) == (1, 1)
    assert configured.requests("list")[-1].args.get("publishedGt") == "2026-10-31T23:00:00Z"


def test_cli_service_error_exits_1_with_the_message(app, configured) -> None:
    configured.fail["list"] = server_error
    result = app.test_cli_runner().invoke(args=["pagamenti", "scarica-fdr", "--ente", "R01"])
    assert result.exit_code == 1 and "errore HTTP 500" in json.loads(result.stderr)["error"]


def test_cli_unconfigured_says_so_and_exits_2(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "FDR_API_KEY", None)
    result = app.test_cli_runner().invoke(args=["pagamenti", "scarica-fdr", "--ente", "R01"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"] == NOT_CONFIGURED and "non configurato" in NOT_CONFIGURED
    result = app.test_cli_runner().invoke(args=["pagamenti", "scarica-fdr", "--pianifica"])
    assert result.exit_code == 0  # only says the job is in the registry of periodic jobs
    assert json.loads(result.stdout)["lavori"][0]["name"] == "app.payments.tasks.fetch_fdr_job"


def test_the_job_fetches_for_every_ente(app, configured) -> None:
    from app.payments.tasks import PERIODIC_JOBS, fetch_fdr_job

    assert "app.payments.tasks.fetch_fdr_job" in [name for name, *_ in PERIODIC_JOBS]
    with app.app_context():
        (p,) = open_positions(db.session)
    configured.add("2026-11-20PSPDEMO01-0000000118", 1, [pay(1, p.iuv, "JOB-REST", p.due)])
    with app.app_context():
        done = fetch_fdr_job()
        assert [d["ente"] for d in done] == ["R01", "R02"]
        assert [f["status"] for f in done[0]["flows"]] == ["imported"] and done[1]["flows"] == []
        assert db.session.get(Position, p.id).state == "pagata"
    assert {r.path.split("/")[5] for r in configured.requests("list")} == {ORG, ORG_R02}


def test_the_job_does_nothing_when_unconfigured(app, stub, monkeypatch, caplog) -> None:
    from app.payments import tasks
    from app.payments.tasks import fetch_fdr_job

    # Alembic's fileConfig (the migrations run by the `app` fixture) disables the loggers that existed then
    monkeypatch.setattr(tasks.log, "disabled", False)
    monkeypatch.setitem(app.config, "FDR_API_KEY", None)
    with app.app_context():
        assert fetch_fdr_job() == []
    assert stub.server.log == [] and "non configurato" in caplog.text


def test_the_payments_page_button_queues_a_job_that_fetches_the_flows(app, personas, configured) -> None:
    from app.jobs.models import BatchJob, BatchJobError
    from app.payments.tasks import run_fdr_fetch
    from tests.conftest import csrf_token

    with app.app_context():
        a, b = open_positions(db.session, 2)
    configured.add("2026-11-20PSPDEMO01-0000000119", 1, [pay(1, a.iuv, "BTN-REST-1", a.due)])
    configured.add(
        "2026-11-20PSPDEMO01-0000000120",
        1,
        [pay(1, b.iuv, "BTN-REST-2", b.due)],
        total=Decimal("1.00"),  # declared total differs: this flow is refused
        published="2026-11-20T12:00:00Z",
    )
    client = personas.client("backoffice")
    page = client.get("/pagamenti/").get_data(as_text=True)
    assert 'data-testid="fdr-fetch"' in page and "Scarica ora i flussi FdR da pagoPA" in page
    response = client.post(
        "/pagamenti/scarica-fdr",
        data={"csrf_token": csrf_token(client, "/pagamenti/"), "ente": "R01", "dal": "2026-11-01"},
    )
    assert response.status_code == 302 and "/elaborazioni/" in response.headers["Location"]
    with app.app_context():
        job = db.session.scalars(sa.select(BatchJob).order_by(BatchJob.id.desc())).first()
        assert (job.kind, job.status, job.params["dal"]) == ("fdr", "queued", "2026-11-01")
        assert configured.requests("list") == []  # nothing fetched before the worker runs it
        result = run_fdr_fetch(job.id)
        assert (result["imported"], result["refused"], result["status"]) == (1, 1, "scaricato")
        db.session.expire_all()
        assert db.session.get(Position, a.id).state == "pagata"
        job = db.session.get(BatchJob, job.id)
        assert job.status == "done" and job.rows_total == 2
        (error,) = db.session.scalars(sa.select(BatchJobError).where(BatchJobError.batch_job_id == job.id))
        assert error.column.startswith("2026-11-20PSPDEMO01-0000000120") and "totali" in error.reason
    rows = client.get("/elaborazioni/").get_data(as_text=True)
    assert "Scarico FdR da pagoPA" in rows and "1 flusso importato · 0 già presenti · 1 rifiutato" in rows
    detail = client.get(f"/elaborazioni/{job.id}").get_data(as_text=True)
    assert "1 flusso importato, 0 già presenti, 1 rifiutato, 0 in errore" in detail
    assert "pubblicati dal 01/11/2026" in detail and "SHA-256" not in detail  # no file behind this job
    (imported,) = [f for f in result["flows"] if f["flow_id"]]
    assert f"/pagamenti/flussi/{imported['flow_id']}" in detail


def test_the_button_is_for_back_office_and_needs_the_service(app, personas, monkeypatch) -> None:
    from tests.conftest import csrf_token

    monkeypatch.setitem(app.config, "FDR_API_KEY", None)
    client = personas.client("backoffice")
    assert 'data-testid="fdr-fetch"' not in client.get("/pagamenti/").get_data(as_text=True)
    refused = client.post(
        "/pagamenti/scarica-fdr", data={"csrf_token": csrf_token(client, "/pagamenti/"), "ente": "R01"}
    )
    assert refused.status_code == 302
    assert "non configurato" in client.get("/pagamenti/").get_data(as_text=True)
    monkeypatch.setitem(app.config, "FDR_API_KEY", KEY)
    reader = personas.client("regione")
    assert (
        reader.post(
            "/pagamenti/scarica-fdr", data={"csrf_token": csrf_token(reader, "/pagamenti/"), "ente": "R01"}
        ).status_code
        == 403
    )


def test_a_fetch_job_fails_with_the_reason_when_the_service_fails(app, configured, monkeypatch) -> None:
    from app.core.audit import Actor
    from app.jobs.models import BatchJob
    from app.payments.services import queue_fdr_fetch
    from app.payments.tasks import run_fdr_fetch

    with app.app_context():
        ente = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        job = queue_fdr_fetch(db.session, Actor.system("prova"), ente)
        db.session.commit()
        configured.fail["list"] = server_error
        assert run_fdr_fetch(job.id)["status"] == "errore"
        job = db.session.get(BatchJob, job.id)
        assert job.status == "failed" and "errore HTTP 500" in job.error_message
        monkeypatch.setitem(app.config, "FDR_API_KEY", None)
        again = queue_fdr_fetch(db.session, Actor.system("prova"), ente)
        db.session.commit()
        assert run_fdr_fetch(again.id) == {"status": "errore", "message": NOT_CONFIGURED}
