"""A local SEND stub (pytest-httpserver) that validates EVERY request body and query on the published OpenAPI
(/work/shared/data/specs/send/api-external-b2b-pa-bundle.yaml, domain.md §7): `$ref`s inlined, `allOf`
merged and unknown keys refused, so the adapter cannot drift from SEND's exact JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.payments.support import shared_file

SPEC_FILE: Path = shared_file("data/specs/send/api-external-b2b-pa-bundle.yaml")
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
API_KEY = "chiave-di-prova-send"


def _legal_fact_pdf() -> bytes:
    """A real one-page PDF (the archive checks uploads by content)."""
    import io

    import pikepdf

    doc = pikepdf.Pdf.new()
    doc.add_blank_page()
    doc.docinfo["/Title"] = "Attestazione opponibile a terzi: notifica presa in carico"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def resolve(node: Any) -> Any:
    """Inline every `#/components/...` $ref, merge `allOf` into one object and forbid keys not named."""
    if isinstance(node, list):
        return [resolve(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(target)
    if "allOf" in node:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in node["allOf"]:
            sub = resolve(part)
            merged["properties"].update(sub.get("properties", {}))
            merged["required"].extend(sub.get("required", []))
        merged["additionalProperties"] = False
        return merged
    out = {k: resolve(v) for k, v in node.items() if k not in ("example", "examples")}
    if "properties" in out:
        out["additionalProperties"] = False
    return out


def body_validator(path: str, method: str = "post") -> OAS30Validator:
    schema = SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return OAS30Validator(resolve(schema), format_checker=oas30_format_checker)


def parameter_validator(name: str) -> OAS30Validator:
    return OAS30Validator(
        resolve(SPEC["components"]["parameters"][name]["schema"]), format_checker=oas30_format_checker
    )


def response_validator(path: str, status: str, method: str = "get") -> OAS30Validator:
    content = SPEC["paths"][path][method]["responses"][status]["content"]
    schema = next(iter(content.values()))["schema"]
    return OAS30Validator(resolve(schema), format_checker=oas30_format_checker)


PRELOAD = body_validator("/delivery/attachments/preload")
NEW_REQUEST = body_validator("/delivery/v2.5/requests")
REQUEST_ID = parameter_validator("notificationRequestId")
IUN = parameter_validator("pathIun")
LEGAL_FACT_ID = parameter_validator("pathLegalFactId")


def errors_of(validator: OAS30Validator, value: Any) -> list[str]:
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def checked(path: str, status: str, body: Any, method: str = "get") -> Response:
    """A stub answer, itself checked against the spec's response schema."""
    errors = errors_of(response_validator(path, status, method), body)
    assert not errors, f"stub answer not valid ({path} {status}): {errors}"
    return Response(json.dumps(body), status=int(status), content_type="application/json")


@dataclass
class SendStub:
    server: HTTPServer
    iun: str = "ABCD-EFGH-IJKL-202612-A-1"
    perfection: str | None = "2026-12-10T09:30:00Z"
    unreachable: str | None = None
    legal_fact_pdf: bytes = field(default_factory=_legal_fact_pdf)
    uploads: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request("/delivery/attachments/preload", method="POST").respond_with_handler(
            self.preload
        )
        self.server.expect_request("/upload/preload-0", method="PUT").respond_with_handler(self.upload)
        self.server.expect_request("/upload/preload-1", method="PUT").respond_with_handler(self.upload)
        self.server.expect_request("/delivery/v2.5/requests", method="POST").respond_with_handler(self.new)
        self.server.expect_request("/delivery/v2.5/requests", method="GET").respond_with_handler(self.status)
        self.server.expect_request(f"/delivery/v2.8/notifications/sent/{self.iun}").respond_with_handler(
            self.sent
        )
        self.server.expect_request(f"/delivery-push/v2.0/{self.iun}/legal-facts").respond_with_handler(
            self.facts
        )
        self.server.expect_request(
            f"/delivery-push/{self.iun}/download/legal-facts/PN_LEGAL_FACTS-1"
        ).respond_with_handler(self.download)
        self.server.expect_request("/files/PN_LEGAL_FACTS-1.pdf").respond_with_data(
            self.legal_fact_pdf, content_type="application/pdf"
        )

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _auth(self, request: Request) -> None:
        if request.headers.get("x-api-key") != API_KEY:
            self.invalid.append(f"{request.path}: x-api-key mancante o errata")

    def _body(self, request: Request, validator: OAS30Validator) -> Any:
        self._auth(request)
        try:
            body = json.loads(request.get_data())
        except ValueError:
            self.invalid.append(f"{request.path}: corpo non JSON")
            return None
        problems = errors_of(validator, body)
        if problems:
            self.invalid.append(f"{request.path}: {problems}")
        return body

    def problem(self, status: int, detail: str) -> Response:
        body = {
            "status": status,
            "title": "Bad Request",
            "detail": detail,
            "errors": [{"code": "INVALID", "detail": detail}],
        }
        return Response(json.dumps(body), status=status, content_type="application/problem+json")

    def preload(self, request: Request) -> Response:
        body = self._body(request, PRELOAD)
        if self.invalid:
            return self.problem(400, self.invalid[-1][:200])
        answers = [
            {
                "preloadIdx": item["preloadIdx"],
                "secret": "segreto",
                "httpMethod": "PUT",
                "url": self.server.url_for(f"/upload/preload-{item['preloadIdx']}"),
                "key": f"PN_NOTIFICATION_ATTACHMENTS-{item['preloadIdx']}.pdf",
            }
            for item in body
        ]
        with self.lock:
            self.requests.append({"preload": body})
        return checked("/delivery/attachments/preload", "200", answers, "post")

    def upload(self, request: Request) -> Response:
        data = request.get_data()
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        if (
            request.headers.get("x-amz-checksum-sha256") != digest
            or request.headers.get("x-amz-meta-secret") != "segreto"
        ):
            self.invalid.append(f"{request.path}: checksum o segreto errati")
            return Response("", status=403)
        with self.lock:
            self.uploads[request.path] = data
        return Response("", status=200, headers={"x-amz-version-id": "v1"})

    def new(self, request: Request) -> Response:
        body = self._body(request, NEW_REQUEST)
        if self.invalid:
            return self.problem(400, self.invalid[-1][:200])
        with self.lock:
            self.requests.append({"notification": body})
        answer = {
            "notificationRequestId": "UkVRVUVTVElELTAwMDAwMDAwMDAwMDAwMDA=",
            "paProtocolNumber": body["paProtocolNumber"],
            "idempotenceToken": body.get("idempotenceToken"),
        }
        return checked("/delivery/v2.5/requests", "202", answer, "post")

    def status(self, request: Request) -> Response:
        self._auth(request)
        request_id = request.args.get("notificationRequestId", "")
        problems = errors_of(REQUEST_ID, request_id)
        if problems:
            self.invalid.append(f"notificationRequestId: {problems}")
        sent = next(r["notification"] for r in self.requests if "notification" in r)
        body = {
            **sent,
            "notificationRequestId": request_id,
            "notificationRequestStatus": "ACCEPTED",
            "iun": self.iun,
        }
        return checked("/delivery/v2.5/requests", "200", body)

    def sent(self, request: Request) -> Response:
        self._auth(request)
        history = [
            {"status": "ACCEPTED", "activeFrom": "2026-12-04T08:00:00Z", "relatedTimelineElements": []},
            {"status": "DELIVERING", "activeFrom": "2026-12-04T09:00:00Z", "relatedTimelineElements": []},
        ]
        if self.perfection:
            history.append(
                {"status": "EFFECTIVE_DATE", "activeFrom": self.perfection, "relatedTimelineElements": []}
            )
        if self.unreachable:
            history.append(
                {"status": "UNREACHABLE", "activeFrom": self.unreachable, "relatedTimelineElements": []}
            )
        body = {
            "notificationStatus": history[-1]["status"],
            "notificationStatusHistory": history,
            "timeline": [],
        }
        return Response(json.dumps(body), status=200, content_type="application/json")

    def facts(self, request: Request) -> Response:
        self._auth(request)
        if errors_of(IUN, self.iun):
            self.invalid.append("iun non valido")
        body = [
            {
                "iun": self.iun,
                "taxId": "RSSMRA80A01H501U",
                "legalFactsId": {"key": "safestorage://PN_LEGAL_FACTS-1", "category": "ANALOG_DELIVERY"},
            }
        ]
        return checked("/delivery-push/v2.0/{iun}/legal-facts", "200", body)

    def download(self, request: Request) -> Response:
        self._auth(request)
        body = {
            "filename": "PN_LEGAL_FACTS-1.pdf",
            "contentLength": len(self.legal_fact_pdf),
            "url": self.server.url_for("/files/PN_LEGAL_FACTS-1.pdf"),
        }
        return checked("/delivery-push/{iun}/download/legal-facts/{legalFactId}", "200", body)
