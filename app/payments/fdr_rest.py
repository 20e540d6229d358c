"""pagoPA FdR REST ("FdR 3"), organizations side: a small client and the mapping of a published flow onto the
`ParsedFlow` that `parsing.parse_fdr` produces for an FdR XML (docs/formats/pagamenti.md, "FdR REST").

The contract is the published OpenAPI "FDR - Flussi di Rendicontazione (ORGs)" v1.1.54 (domain.md §6.5; a copy
is tests/payments/samples/fdr_organization.json):

- `GET /organizations/{organizationId}/fdrs` (query `flowDate`, `pspId`, `publishedGt`, `page`,
  `size` <= 1000): the published flows, `PaginatedFlowsResponse` = {metadata: {pageSize, pageNumber,
  totPage}, count, data: [FlowByPSP {fdr, pspId, revision, published, flowDate}]};
- `GET .../fdrs/{fdr}/revisions/{revision}/psps/{pspId}`: one flow, `SingleFlowResponse`;
- `GET .../fdrs/{fdr}/revisions/{revision}/psps/{pspId}/payments` (query `page`, `size`): its payments,
  `PaginatedPaymentsResponse` = {metadata, count, data: [Payment {index, iuv, iur, idTransfer, pay, payStatus,
  payDate}]}.

Security scheme `apiKeyHeader`: the subscription key in the `Ocp-Apim-Subscription-Key` header (the spec's
other scheme, the `subscription-key` query parameter, is not used: a key in a URL ends up in logs).

Amounts are JSON numbers in euro with two decimals: the body is parsed with `parse_float=Decimal` and turned
into integer cents exactly, never through a float. Everything but the HTTP calls is pure: `to_parsed_flow`
takes the JSON and returns a `ParsedFlow` or raises `FlowRefused` with every reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from app.core.errors import DomainError
from app.payments.parsing import (
    MAX_AMOUNT_CENTS,
    MAX_REPORTED_ERRORS,
    ROME,
    FlowRefused,
    ParsedFlow,
    ParsedPayment,
    check_date_range,
    notice_of_iuv,
    payment_key,
    split_repeated_iur,
)

DEFAULT_BASE_URL = "https://api.platform.pagopa.it/fdr-org/service/v1"  # the spec's server
API_KEY_HEADER = "Ocp-Apim-Subscription-Key"  # components.securitySchemes.apiKeyHeader
MAX_PAGE_SIZE = 1000  # `size` maximum of the listing (the payments listing has no maximum; same default)
MAX_PAGES = 10_000  # a server that never reaches totPage must not keep us looping
SPEC_VERSION = "1.1.54"
NOT_CONFIGURED = (
    "Servizio FdR di pagoPA non configurato: impostare FDR_API_KEY (ed eventualmente FDR_API_BASE_URL) "
    "per scaricare i flussi di rendicontazione."
)
# Payment.payStatus -> codiceEsitoSingoloPagamento of the XML (domain.md §6.5).
PAY_STATUS_CODES = {
    "EXECUTED": "0",
    "REVOKED": "3",
    "STAND_IN": "4",
    "STAND_IN_NO_RPT": "8",
    "NO_RPT": "9",
}
_CENT = Decimal("0.01")
_MAX_EURO = Decimal(MAX_AMOUNT_CENTS) / 100
_FDR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class FdrRestError(DomainError):
    """The FdR service could not be used (network, timeout, HTTP error, unreadable answer).

    `message` is Italian, for the user."""

    status = 502

    def __init__(self, message: str, *, http_status: int | None = None, url: str | None = None) -> None:
        super().__init__(message, http_status=http_status, url=url)
        self.http_status = http_status
        self.url = url


@dataclass(frozen=True, slots=True)
class PublishedFlow:
    """One row of the listing (`FlowByPSP`)."""

    fdr: str
    psp_id: str
    revision: int
    published: dt.datetime | None = None
    flow_date: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class FetchedFlow:
    """A flow and all its payments as received (JSON values; numbers are `Decimal`/`int`)."""

    organization_id: str
    flow: dict[str, Any]
    payments: list[dict[str, Any]]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"valore non ammesso: {name}")


def loads(content: bytes | str) -> Any:
    """JSON with every non-integer number as `Decimal` (never float); NaN/Infinity refused."""
    return json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)


class FdrRestClient:
    """The three GETs of the organizations API, with timeouts and Italian errors (`FdrRestError`)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        page_size: int = MAX_PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FdrRestClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- endpoints ----------------------------------------------------------------------------------------

    def list_published(
        self,
        organization_id: str,
        *,
        published_gt: dt.datetime | None = None,
        flow_date: dt.datetime | None = None,
        psp_id: str | None = None,
    ) -> list[PublishedFlow]:
        """Every published flow of the organization (all pages). Without `published_gt`/`flow_date` the
        server applies its default: from the start of the previous calendar month, 00:00 UTC."""
        params: dict[str, Any] = {}
        if flow_date is not None:
            params["flowDate"] = _instant(flow_date)
        if psp_id:
            params["pspId"] = psp_id
        if published_gt is not None:
            params["publishedGt"] = _instant(published_gt)
        rows = self._paged(f"/organizations/{_seg(organization_id)}/fdrs", params, "l'elenco dei flussi")
        listed = []
        for item in rows:
            fdr, psp, revision = item.get("fdr"), item.get("pspId"), item.get("revision")
            if not (isinstance(fdr, str) and fdr and isinstance(psp, str) and psp and _is_int(revision)):
                raise FdrRestError(
                    "Risposta non valida del servizio FdR: un flusso dell'elenco è senza fdr, pspId o "
                    "revision."
                )
            listed.append(
                PublishedFlow(
                    fdr=fdr,
                    psp_id=psp,
                    revision=int(revision),
                    published=_optional_instant(item.get("published")),
                    flow_date=_optional_instant(item.get("flowDate")),
                )
            )
        return listed

    def get_flow(self, organization_id: str, fdr: str, revision: int, psp_id: str) -> dict[str, Any]:
        body = self._get(self._flow_path(organization_id, fdr, revision, psp_id), {}, f"il flusso {fdr}")
        if not isinstance(body, dict):
            raise FdrRestError(
                f"Risposta non valida del servizio FdR per il flusso {fdr}: atteso un oggetto."
            )
        return body

    def get_payments(
        self, organization_id: str, fdr: str, revision: int, psp_id: str
    ) -> list[dict[str, Any]]:
        path = self._flow_path(organization_id, fdr, revision, psp_id) + "/payments"
        return self._paged(path, {}, f"i pagamenti del flusso {fdr}")

    def fetch(self, organization_id: str, listed: PublishedFlow) -> FetchedFlow:
        flow = self.get_flow(organization_id, listed.fdr, listed.revision, listed.psp_id)
        payments = self.get_payments(organization_id, listed.fdr, listed.revision, listed.psp_id)
        return FetchedFlow(organization_id=organization_id, flow=flow, payments=payments)

    # --- plumbing -----------------------------------------------------------------------------------------

    @staticmethod
    def _flow_path(organization_id: str, fdr: str, revision: int, psp_id: str) -> str:
        return (
            f"/organizations/{_seg(organization_id)}/fdrs/{_seg(fdr)}/revisions/{int(revision)}"
            f"/psps/{_seg(psp_id)}"
        )

    def _paged(self, path: str, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
        """Follow `metadata.totPage`: pages 1..totPage, each checked to be the page asked for."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._get(path, {**params, "page": page, "size": self.page_size}, what)
            data = body.get("data") if isinstance(body, dict) else None
            meta = body.get("metadata") if isinstance(body, dict) else None
            if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
                raise FdrRestError(f"Risposta non valida del servizio FdR per {what}: manca l'elenco «data».")
            if not isinstance(meta, dict) or not _is_int(meta.get("totPage")):
                raise FdrRestError(
                    f"Risposta non valida del servizio FdR per {what}: manca la paginazione "
                    "«metadata.totPage»."
                )
            number = meta.get("pageNumber")
            if number is not None and (not _is_int(number) or int(number) != page):
                raise FdrRestError(
                    f"Risposta non valida del servizio FdR per {what}: chiesta la pagina {page}, "
                    f"ricevuta la pagina {number}."
                )
            items.extend(data)
            if page >= int(meta["totPage"]) or not data:
                return items
            page += 1
            if page > MAX_PAGES:
                raise FdrRestError(f"Il servizio FdR dichiara più di {MAX_PAGES} pagine per {what}.")

    def _get(self, path: str, params: dict[str, Any], what: str) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException:
            raise FdrRestError(
                f"Il servizio FdR di pagoPA non ha risposto entro {self.timeout:g} secondi ({what}). "
                "Nessun dato è stato registrato: riprovare più tardi.",
                url=url,
            ) from None
        except httpx.HTTPError as exc:
            raise FdrRestError(
                f"Servizio FdR di pagoPA non raggiungibile ({what}): {exc.__class__.__name__}. "
                "Nessun dato è stato registrato.",
                url=url,
            ) from None
        if response.status_code != 200:
            hint = " (verificare la chiave FDR_API_KEY)" if response.status_code in (401, 403) else ""
            raise FdrRestError(
                f"Il servizio FdR di pagoPA ha risposto con errore HTTP {response.status_code} "
                f"({what}){_error_detail(response.content)}{hint}. Nessun dato è stato registrato.",
                http_status=response.status_code,
                url=url,
            )
        try:
            return loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise FdrRestError(
                f"Il servizio FdR di pagoPA ha restituito una risposta non leggibile come JSON ({what}).",
                http_status=response.status_code,
                url=url,
            ) from None


def client_from_config(config: Mapping[str, Any]) -> FdrRestClient | None:
    """A client from the app's settings (FDR_API_BASE_URL, FDR_API_KEY, FDR_API_TIMEOUT); None when no key."""
    key = config.get("FDR_API_KEY")
    if not key:
        return None
    return FdrRestClient(
        config.get("FDR_API_BASE_URL") or DEFAULT_BASE_URL,
        key,
        timeout=float(config.get("FDR_API_TIMEOUT") or 30),
    )


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _instant(value: dt.datetime) -> str:
    """An `Instant` query value: ISO-8601 in UTC (a naive value is Italian time)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ROME)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _optional_instant(value: Any) -> dt.datetime | None:
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _error_detail(content: bytes) -> str:
    """`ErrorResponse` {appErrorCode, errors: [{path, message}]} as a short suffix, when the body has one."""
    try:
        body = loads(content)
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body["appErrorCode"])] if body.get("appErrorCode") else []
    for err in body.get("errors") or []:
        if isinstance(err, dict) and err.get("message"):
            parts.append(str(err["message"])[:200])
    return f": {'; '.join(parts[:4])}" if parts else ""


# --- mapping onto ParsedFlow -------------------------------------------------------------------------------


def parse_instant(value: Any) -> dt.datetime:
    """An OpenAPI `Instant` (date-time) as an aware UTC datetime; without an offset it is Italian time, as the
    XML's dataOraFlusso. ValueError when it is not one."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError("data e ora ISO-8601 attesa (AAAA-MM-GGThh:mm:ss)")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ROME)
    return moment.astimezone(dt.UTC)


def flow_datetime(flow: Mapping[str, Any]) -> dt.datetime:
    """The flow's date as the XML's `dataOraFlusso`: `fdrDate`.

    `fdrDate` is the date and time the PSP gives its flow, which the Nodo turns into `dataOraFlusso` when it
    serves the same flow as XML; `created`/`updated`/`published` are the Nodo's own timestamps of the
    revision. The overwrite and duplicate rules compare this value, as they compare dataOraFlusso for a
    file."""
    return parse_instant(flow.get("fdrDate"))


def euro_to_cents(value: Any) -> int:
    """A JSON amount (a number: euro, at most two decimals, positive) as integer cents, exactly:
    10.1 -> 1010, 0.07 -> 7. Takes the `Decimal`/`int` that `loads` produces; never a float."""
    if isinstance(value, (bool, float)):
        raise ValueError("importo non ammesso (numero in virgola mobile)")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        raise ValueError("importo mancante o non numerico")
    if not amount.is_finite():
        raise ValueError("importo non numerico")
    if amount <= 0:
        raise ValueError("importo nullo o negativo: un pagamento deve essere positivo")
    if amount > _MAX_EURO:
        raise ValueError("importo oltre 999.999.999,99 euro")
    if amount.quantize(_CENT) != amount:
        raise ValueError("importo con più di due decimali")
    return int(amount.quantize(_CENT) * 100)


def content_sha256(fetched: FetchedFlow) -> str:
    """SHA-256 of a canonical JSON of (organization, flow, payments by index): the same revision fetched twice
    has the same hash, whatever the pages were."""
    payments = sorted(
        fetched.payments,
        key=lambda p: (p.get("index") if _is_int(p.get("index")) else 0, json.dumps(p, default=str)),
    )
    canonical = json.dumps(
        {"organizationId": fetched.organization_id, "flow": fetched.flow, "payments": payments},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_canonical_number,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical_number(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_parsed_flow(
    fetched: FetchedFlow, *, expected: PublishedFlow | None = None, today: dt.date | None = None
) -> ParsedFlow:
    """A published flow and its payments as the `ParsedFlow` of an FdR XML (`parsing.parse_fdr`):

    identifier = `fdr`; sender = `sender.pspId` (name `sender.pspName`); flow_dt = `fdrDate` (see
    `flow_datetime`); regulation_ref/date = `regulation`/`regulationDate`; bic = `bicCodePouringBank`;
    receiver = `receiver.organizationId` (the ente's codice fiscale) / `organizationName`; declared totals =
    `totPayments`/`sumPayments`, checked against the payments received (count and sum, duplicates included),
    as the XML's numeroTotalePagamenti/importoTotalePagamenti. Each payment: IUR key (`iur`, `#idTransfer`
    when idTransfer > 1, as indiceDatiSingoloPagamento), `payStatus` -> outcome code, `payDate` -> date of the
    outcome (Europe/Rome). Any problem refuses the whole flow, with every reason."""
    flow = fetched.flow
    errors: list[dict[str, Any]] = []

    def fail(column: str, reason: str, value: Any = None, line: int | None = None) -> None:
        errors.append(
            {
                "line": line,
                "column": column,
                "reason": reason,
                "value": None if value is None else str(value)[:200],
            }
        )

    def text(
        obj: Mapping[str, Any],
        key: str,
        column: str,
        *,
        max_len: int,
        required: bool = True,
        line: int | None = None,
    ) -> str | None:
        value = obj.get(key)
        if value is None or value == "":
            if required:
                fail(column, "obbligatorio", None, line)
            return None
        if not isinstance(value, str):
            fail(column, "testo atteso", value, line)
            return None
        if len(value) > max_len:
            fail(column, f"più di {max_len} caratteri", value, line)
            return None
        return value

    identifier = text(flow, "fdr", "fdr", max_len=35) or ""
    if identifier and not set(identifier) <= _FDR_CHARS:
        fail("fdr", "caratteri non ammessi (ammessi lettere, cifre, - e _)", identifier)
    status = flow.get("status")
    if status is not None and status != "PUBLISHED":
        fail("status", "il flusso non è pubblicato", status)
    sender = flow.get("sender") if isinstance(flow.get("sender"), dict) else {}
    receiver = flow.get("receiver") if isinstance(flow.get("receiver"), dict) else {}
    if not sender:
        fail("sender", "obbligatorio")
    if not receiver:
        fail("receiver", "obbligatorio")
    psp_id = text(sender, "pspId", "sender.pspId", max_len=35) or ""
    psp_name = text(sender, "pspName", "sender.pspName", max_len=70, required=False)
    receiver_code = text(receiver, "organizationId", "receiver.organizationId", max_len=35)
    if receiver_code and receiver_code != fetched.organization_id:
        fail(
            "receiver.organizationId",
            f"flusso di un altro ente (chiesto {fetched.organization_id})",
            receiver_code,
        )
    revision = flow.get("revision")
    if expected is not None:
        for column, got, want in (
            ("fdr", identifier, expected.fdr),
            ("sender.pspId", psp_id, expected.psp_id),
            ("revision", revision, expected.revision),
        ):
            if got != want:
                fail(column, f"diverso da quello dell'elenco dei flussi ({want})", got)
    try:
        flow_dt = flow_datetime(flow)
        check_date_range(flow_dt.astimezone(ROME).date(), today=today)
    except ValueError as exc:
        fail("fdrDate", str(exc), flow.get("fdrDate"))
        flow_dt = dt.datetime.now(dt.UTC)
    regulation_date = _date(flow.get("regulationDate"), "regulationDate", None, errors, today)
    regulation_ref = text(flow, "regulation", "regulation", max_len=35, required=False)
    bic = text(flow, "bicCodePouringBank", "bicCodePouringBank", max_len=35, required=False)
    receiver_name = text(
        receiver, "organizationName", "receiver.organizationName", max_len=140, required=False
    )
    declared_count = flow.get("totPayments")
    if not _is_int(declared_count) or declared_count < 1:
        fail("totPayments", "numero intero positivo atteso", declared_count)
        declared_count = None
    try:
        declared_total: int | None = euro_to_cents(flow.get("sumPayments"))
    except ValueError as exc:
        fail("sumPayments", str(exc), flow.get("sumPayments"))
        declared_total = None

    payments: list[ParsedPayment] = []
    computed_total = 0
    for position, item in enumerate(fetched.payments, start=1):
        line = item.get("index") if _is_int(item.get("index")) and item["index"] >= 1 else None
        if line is None:
            fail("index", "numero intero positivo atteso", item.get("index"), position)
        where = line or position
        before = len(errors)
        iuv = text(item, "iuv", "iuv", max_len=35, line=where)
        iur = text(item, "iur", "iur", max_len=35, line=where)
        transfer = item.get("idTransfer")
        if not _is_int(transfer) or not 1 <= transfer <= 5:
            fail("idTransfer", "intero da 1 a 5 atteso", transfer, where)
            transfer = None
        pay_status = item.get("payStatus")
        outcome = PAY_STATUS_CODES.get(pay_status) if isinstance(pay_status, str) else None
        if outcome is None:
            fail(
                "payStatus", f"valore non ammesso (ammessi: {', '.join(PAY_STATUS_CODES)})", pay_status, where
            )
        try:
            amount = euro_to_cents(item.get("pay"))
            computed_total += amount
        except ValueError as exc:
            fail("pay", str(exc), item.get("pay"), where)
            amount = 0
        try:
            paid = parse_instant(item.get("payDate")).astimezone(ROME).date()
            check_date_range(paid, today=today)
        except ValueError as exc:
            fail("payDate", str(exc), item.get("payDate"), where)
            paid = None
        if len(errors) > before or paid is None or iur is None or outcome is None:
            continue
        notice = notice_of_iuv(iuv)
        key = payment_key(iur, transfer)
        payments.append(
            ParsedPayment(
                row_number=where,
                external_id=key,
                amount_cents=amount,
                paid_date=paid,
                value_date=regulation_date,
                iuv=iuv,
                notice_number=notice,
                iur=iur,
                transfer_index=transfer,
                outcome_code=outcome,
                channel="pagopa",
            )
        )
    if not fetched.payments:
        fail("payments", "il flusso non contiene pagamenti")
    if declared_count is not None and declared_total is not None and not errors:
        received = len(fetched.payments)
        if declared_count != received or declared_total != computed_total:
            fail(
                "totPayments/sumPayments",
                f"totali dichiarati ({declared_count} pagamenti, {declared_total / 100:.2f} euro) diversi "
                f"dai pagamenti ricevuti ({received} pagamenti, {computed_total / 100:.2f} euro)",
            )
    unique, duplicates = split_repeated_iur(payments, "pagamento")
    if errors:
        first = errors[0]
        at = f" (pagamento {first['line']})" if first["line"] is not None else ""
        raise FlowRefused(
            f"Flusso {identifier or '?'} rifiutato: {first['column']}{at}: {first['reason']}.",
            errors[:MAX_REPORTED_ERRORS],
        )
    return ParsedFlow(
        source="pagopa",
        identifier=identifier,
        sender=psp_id,
        sender_name=psp_name or f"{sender.get('type') or ''}:{sender.get('id') or psp_id}",
        flow_dt=flow_dt,
        sha256=content_sha256(fetched),
        payments=unique,
        duplicates_in_file=duplicates,
        regulation_ref=regulation_ref,
        regulation_date=regulation_date,
        bic=bic,
        schema_version=None,
        receiver_code=receiver_code,
        receiver_name=receiver_name,
        declared_count=declared_count,
        declared_total_cents=declared_total,
        encoding="json",
    )


def _date(
    value: Any, column: str, line: int | None, errors: list[dict[str, Any]], today: dt.date | None
) -> dt.date | None:
    """A `LocalDate` (AAAA-MM-GG); an Instant is taken as its day in Italy."""
    try:
        if isinstance(value, str) and "T" in value:
            day = parse_instant(value).astimezone(ROME).date()
        elif isinstance(value, str):
            day = dt.date.fromisoformat(value)
        else:
            raise ValueError("data attesa (AAAA-MM-GG)")
        check_date_range(day, today=today)
        return day
    except ValueError as exc:
        errors.append(
            {
                "line": line,
                "column": column,
                "reason": str(exc),
                "value": None if value is None else str(value),
            }
        )
        return None
