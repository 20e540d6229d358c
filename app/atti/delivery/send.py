"""SEND (Servizio Notifiche Digitali, art. 26 D.L. 76/2020) adapter: build a notification request, pre-load
and upload its documents, send it, poll its acceptance (IUN), read its perfection date, download its legal
facts.

Contract: "Piattaforma Notifiche: API B2B per le Pubbliche Amministrazioni" (pagopa/pn-delivery
`docs/openapi/api-external-b2b-pa-bundle.yaml`, released tag v2.24.2; domain.md §7). Newest released versions:
- `POST /delivery/attachments/preload` [PreLoadRequest] -> [PreLoadResponse {preloadIdx, secret, httpMethod,
  url, key}]; the document is then uploaded with `httpMethod` to `url` (headers `x-amz-meta-secret`,
  `x-amz-checksum-sha256`, `Content-Type`); its `x-amz-version-id` answer header is the `versionToken`;
- `POST /delivery/v2.5/requests` NewNotificationRequestV25 -> 202 NewNotificationResponse
  {notificationRequestId, paProtocolNumber, idempotenceToken};
- `GET /delivery/v2.5/requests?notificationRequestId=` -> NewNotificationRequestStatusResponseV25
  (`notificationRequestStatus` WAITING | ACCEPTED (iun) | REFUSED (errors));
- `GET /delivery/v2.8/notifications/sent/{iun}` -> FullSentNotificationV28: its `notificationStatusHistory`
  gives the perfection date (first `VIEWED` or `EFFECTIVE_DATE`), `UNREACHABLE` a failed notification;
- `GET /delivery-push/v2.0/{iun}/legal-facts` -> [LegalFactListElementV20 {iun, taxId, legalFactsId {key,
  category}}]; `GET /delivery-push/{iun}/download/legal-facts/{legalFactId}` ->
  LegalFactDownloadMetadataResponse {filename, contentLength, url | retryAfter}.
Auth: the `x-api-key` header (securitySchemes ApiKeyAuth). Settings SEND_API_URL, SEND_API_KEY.
Digests are base64 SHA-256 (44 characters), as the spec's pattern requires.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from app.core.errors import DomainError

API_KEY_HEADER = "x-api-key"
DEFAULT_BASE_URL = "https://api.notifichedigitali.it"
PRELOAD_PATH = "/delivery/attachments/preload"
REQUESTS_PATH = "/delivery/v2.5/requests"
SENT_PATH = "/delivery/v2.8/notifications/sent/{iun}"
LEGAL_FACTS_PATH = "/delivery-push/v2.0/{iun}/legal-facts"
LEGAL_FACT_DOWNLOAD_PATH = "/delivery-push/{iun}/download/legal-facts/{legalFactId}"
PHYSICAL_TYPES = ("AR_REGISTERED_LETTER", "REGISTERED_LETTER_890")
FEE_POLICIES = ("FLAT_RATE", "DELIVERY_MODE")
NOT_CONFIGURED = "SEND non configurato: impostare SEND_API_URL e SEND_API_KEY."
MAX_DENOMINATION = 88
MAX_SUBJECT = 134


class SendError(DomainError):
    """SEND refused the request or could not be reached (Italian message)."""


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass(frozen=True, slots=True)
class SendDocument:
    title: str
    pdf: bytes

    @property
    def sha256(self) -> str:
        return sha256_b64(self.pdf)


@dataclass(frozen=True, slots=True)
class SendAddress:
    address: str
    zip: str | None
    municipality: str
    province: str | None


@dataclass(frozen=True, slots=True)
class SendRecipient:
    kind: str  # PF | PG
    tax_id: str
    denomination: str
    address: SendAddress | None
    pec: str | None = None
    notice_code: str | None = None  # 18 digits
    creditor_tax_id: str | None = None  # CF ente, 11 digits


@dataclass(frozen=True, slots=True)
class SendNotification:
    protocol: str  # paProtocolNumber = the act's protocol
    idempotence_token: str
    subject: str
    sender_denomination: str
    sender_tax_id: str
    taxonomy_code: str
    recipients: tuple[SendRecipient, ...]
    physical_type: str = "AR_REGISTERED_LETTER"
    fee_policy: str = "FLAT_RATE"
    abstract: str | None = None
    payment_expiration: dt.date | None = None


@dataclass(frozen=True, slots=True)
class UploadedDocument:
    title: str
    sha256: str
    key: str
    version_token: str


@dataclass(frozen=True, slots=True)
class RequestStatus:
    status: str  # WAITING | ACCEPTED | REFUSED
    iun: str | None
    errors: tuple[str, ...] = ()
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class LegalFact:
    key: str
    category: str


@dataclass(slots=True)
class SentState:
    status: str
    perfection_date: dt.date | None
    unreachable_date: dt.date | None
    history: list[tuple[str, str]] = field(default_factory=list)


def _cut(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def build_request(notification: SendNotification, documents: Sequence[UploadedDocument]) -> dict[str, Any]:
    """NewNotificationRequestV25 as a JSON-ready dict (only keys the schema names)."""
    if notification.physical_type not in PHYSICAL_TYPES:
        raise SendError(f"physicalCommunicationType non ammesso: {notification.physical_type}")
    if notification.fee_policy not in FEE_POLICIES:
        raise SendError(f"notificationFeePolicy non ammessa: {notification.fee_policy}")
    recipients: list[dict[str, Any]] = []
    for r in notification.recipients:
        recipient: dict[str, Any] = {
            "recipientType": r.kind,
            "taxId": r.tax_id,
            "denomination": _cut(r.denomination, MAX_DENOMINATION),
        }
        if r.pec:
            recipient["digitalDomicile"] = {"type": "PEC", "address": r.pec}
        if r.address is not None:
            physical: dict[str, Any] = {
                "address": _cut(r.address.address, 1024),
                "municipality": _cut(r.address.municipality, 256),
            }
            if r.address.zip:
                physical["zip"] = r.address.zip
            if r.address.province:
                physical["province"] = r.address.province
            recipient["physicalAddress"] = physical
        if r.notice_code and r.creditor_tax_id:
            recipient["payments"] = [
                {
                    "pagoPa": {
                        "noticeCode": r.notice_code,
                        "creditorTaxId": r.creditor_tax_id,
                        "applyCost": False,
                    }
                }
            ]
        recipients.append(recipient)
    body: dict[str, Any] = {
        "idempotenceToken": notification.idempotence_token,
        "paProtocolNumber": notification.protocol,
        "subject": _cut(notification.subject, MAX_SUBJECT),
        "recipients": recipients,
        "documents": [
            {
                "digests": {"sha256": d.sha256},
                "contentType": "application/pdf",
                "ref": {"key": d.key, "versionToken": d.version_token},
                "title": _cut(d.title, 512),
                "docIdx": str(n),
            }
            for n, d in enumerate(documents)
        ],
        "notificationFeePolicy": notification.fee_policy,
        "physicalCommunicationType": notification.physical_type,
        "senderDenomination": _cut(notification.sender_denomination, MAX_DENOMINATION),
        "senderTaxId": notification.sender_tax_id,
        "taxonomyCode": notification.taxonomy_code,
        "pagoPaIntMode": "NONE",
    }
    if notification.abstract:
        body["abstract"] = _cut(notification.abstract, 1024)
    if notification.payment_expiration is not None:
        body["paymentExpirationDate"] = notification.payment_expiration.isoformat()
    return body


def _day(stamp: str) -> dt.date:
    """The calendar day (Europe/Rome) of a SEND date-time."""
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo("Europe/Rome")).date()


def sent_state(body: dict[str, Any]) -> SentState:
    """Status and perfection date of a FullSentNotificationV28: the perfection is the first of VIEWED (the
    recipient read it) and EFFECTIVE_DATE (perfected by the passing of the term)."""
    history = [
        (str(h.get("status")), str(h.get("activeFrom"))) for h in body.get("notificationStatusHistory") or []
    ]
    perfected = [_day(at) for status, at in history if status in ("VIEWED", "EFFECTIVE_DATE")]
    unreachable = [_day(at) for status, at in history if status == "UNREACHABLE"]
    return SentState(
        status=str(body.get("notificationStatus") or ""),
        perfection_date=min(perfected) if perfected else None,
        unreachable_date=min(unreachable) if unreachable else None,
        history=history,
    )


class SendClient:
    """A small synchronous client; use as a context manager."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url or not api_key:
            raise SendError(NOT_CONFIGURED)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        self._uploads = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport)

    @classmethod
    def from_config(cls, config: Any) -> SendClient:
        return cls(str(config.get("SEND_API_URL") or ""), str(config.get("SEND_API_KEY") or ""))

    def __enter__(self) -> SendClient:
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._uploads.close()

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise SendError(f"SEND non raggiungibile ({method} {path}): {exc}") from exc
        if response.status_code >= 400:
            detail = ""
            try:
                problem = response.json()
                detail = str(problem.get("detail") or problem.get("title") or "")
                errors = problem.get("errors") or []
                if errors:
                    detail += " " + "; ".join(str(e.get("detail") or e.get("code")) for e in errors)
            except ValueError:
                detail = response.text[:200]
            raise SendError(f"SEND ha risposto {response.status_code} a {method} {path}: {detail}".strip())
        return response

    def upload(self, documents: Sequence[SendDocument]) -> list[UploadedDocument]:
        """Pre-load then upload each document; their keys and version tokens, in order."""
        preload = [
            {"preloadIdx": str(n), "contentType": "application/pdf", "sha256": d.sha256}
            for n, d in enumerate(documents)
        ]
        answers = {str(a.get("preloadIdx")): a for a in self._call("POST", PRELOAD_PATH, json=preload).json()}
        uploaded: list[UploadedDocument] = []
        for n, document in enumerate(documents):
            answer = answers.get(str(n))
            if not answer or not answer.get("url") or not answer.get("key"):
                raise SendError(f"SEND non ha restituito l'indirizzo di caricamento del documento {n}.")
            try:
                put = self._uploads.request(
                    str(answer.get("httpMethod") or "PUT"),
                    str(answer["url"]),
                    content=document.pdf,
                    headers={
                        "Content-Type": "application/pdf",
                        "x-amz-meta-secret": str(answer.get("secret") or ""),
                        "x-amz-checksum-sha256": document.sha256,
                    },
                )
            except httpx.HTTPError as exc:
                raise SendError(f"Caricamento del documento su SEND non riuscito: {exc}") from exc
            if put.status_code >= 400:
                raise SendError(f"Caricamento del documento su SEND rifiutato ({put.status_code}).")
            version = put.headers.get("x-amz-version-id") or "1"
            uploaded.append(UploadedDocument(document.title, document.sha256, str(answer["key"]), version))
        return uploaded

    def send(self, notification: SendNotification, documents: Sequence[SendDocument]) -> str:
        """Upload the documents and send the request; SEND's notificationRequestId."""
        uploaded = self.upload(documents)
        body = build_request(notification, uploaded)
        answer = self._call("POST", REQUESTS_PATH, json=body).json()
        request_id = answer.get("notificationRequestId")
        if not request_id:
            raise SendError("SEND non ha restituito il notificationRequestId.")
        return str(request_id)

    def request_status(self, request_id: str) -> RequestStatus:
        body = self._call("GET", REQUESTS_PATH, params={"notificationRequestId": request_id}).json()
        errors = tuple(
            str(e.get("detail") or e.get("code") or "")
            for e in body.get("errors") or []
            if isinstance(e, dict)
        )
        return RequestStatus(
            status=str(body.get("notificationRequestStatus") or ""),
            iun=body.get("iun"),
            errors=errors,
            retry_after=body.get("retryAfter"),
        )

    def sent(self, iun: str) -> SentState:
        return sent_state(self._call("GET", SENT_PATH.format(iun=quote(iun, safe=""))).json())

    def legal_facts(self, iun: str) -> list[LegalFact]:
        body = self._call("GET", LEGAL_FACTS_PATH.format(iun=quote(iun, safe=""))).json()
        return [
            LegalFact(str(item["legalFactsId"]["key"]), str(item["legalFactsId"]["category"]))
            for item in body
            if isinstance(item, dict) and isinstance(item.get("legalFactsId"), dict)
        ]

    def download_legal_fact(self, iun: str, key: str) -> tuple[str, bytes] | None:
        """(file name, content) of a legal fact, or None while SEND prepares it (`retryAfter`)."""
        fact_id = key.removeprefix("safestorage://")
        path = LEGAL_FACT_DOWNLOAD_PATH.format(iun=quote(iun, safe=""), legalFactId=quote(fact_id, safe=""))
        meta = self._call("GET", path).json()
        if not meta.get("url"):
            return None
        try:
            answer = self._uploads.get(str(meta["url"]))
        except httpx.HTTPError as exc:
            raise SendError(f"Download dell'atto opponibile non riuscito: {exc}") from exc
        if answer.status_code >= 400:
            raise SendError(f"Download dell'atto opponibile rifiutato ({answer.status_code}).")
        return str(meta.get("filename") or f"{fact_id}.pdf"), answer.content
