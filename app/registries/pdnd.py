"""PDND Interoperabilità: the voucher (access token) and the AgID ModI headers an e-service asks for.

Contract: /work/shared/data/specs/pdnd/authorizationServerApi.yml (`POST /token.oauth2`, form
`client_assertion`, `client_assertion_type`, `grant_type=client_credentials`, `client_id`) and
SUMMARY-voucher-and-ModI.md there:

- the client assertion is a JWT signed RS256 with the key registered on the PDND client: header `kid`, `alg`,
  `typ`; claims `iss` = `sub` = client id, `aud` (the PDND audience), `purposeId`, `jti`, `iat`, `exp`
  (numbers), never `nbf`; with AUDIT_REST_02 also `digest` = {alg: SHA256, value: hex SHA-256 of the JWS sent
  in `Agid-JWT-TrackingEvidence`}, which binds the voucher to that audit token;
- the voucher is reused until shortly before `expires_in` (one per purpose and audit token);
- INTEGRITY_REST_02: `Digest: SHA-256=<base64>` of the body and `Agid-JWT-Signature`, a JWT with the same
  `kid` whose `signed_headers` lists `digest` and `content-type`;
- AUDIT_REST_02: `Agid-JWT-TrackingEvidence`, a JWT with `userID`, `userLocation`, `LoA` (required by ANPR).

Keys and endpoints come from the settings (`PDND_*`, README "Verifiche anagrafiche"). Everything but `post`
is pure; errors are `RegistryError` with an Italian message.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.errors import DomainError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 120  # seconds: the assertion is used at once
MODI_LIFETIME = 300  # seconds: Agid-JWT-Signature / TrackingEvidence
EXPIRY_MARGIN = 30  # seconds: a voucher this close to its expiry is asked for again
NOT_CONFIGURED = (
    "Verifiche sui registri pubblici non configurate: impostare le credenziali PDND (PDND_CLIENT_ID, "
    "PDND_KID, PDND_PRIVATE_KEY o PDND_PRIVATE_KEY_FILE, PDND_TOKEN_URL) e gli indirizzi degli e-service."
)


class RegistryError(DomainError):
    """A registry or PDND did not answer as expected: nothing was recorded. `message` is Italian."""

    status = 502


@dataclass(frozen=True, slots=True)
class PdndSettings:
    token_url: str
    audience: str  # the client assertion's aud (the PDND authorization server's audience)
    client_id: str
    kid: str
    private_key_pem: str
    timeout: float = 10.0
    user_location: str = "esattoria"
    loa: str = "LoA3"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PdndSettings | None:
        """None when a credential is missing (the checks then use the stored data only)."""
        key = config.get("PDND_PRIVATE_KEY")
        needed = (config.get("PDND_TOKEN_URL"), config.get("PDND_CLIENT_ID"), config.get("PDND_KID"), key)
        if not all(needed):
            return None
        return cls(
            token_url=str(config["PDND_TOKEN_URL"]),
            audience=str(config.get("PDND_AUDIENCE") or "auth.interop.pagopa.it/client-assertion"),
            client_id=str(config["PDND_CLIENT_ID"]),
            kid=str(config["PDND_KID"]),
            private_key_pem=str(key),
            timeout=float(config.get("REGISTRY_TIMEOUT_SECONDS") or 10),
            user_location=str(config.get("PDND_USER_LOCATION") or "esattoria"),
            loa=str(config.get("PDND_LOA") or "LoA3"),
        )


@dataclass(frozen=True, slots=True)
class EService:
    """One e-service: where it answers, its PDND purpose and its audience (for the ModI tokens)."""

    name: str  # "ANPR C001", "INAD": named in error messages
    url: str
    purpose_id: str
    audience: str
    integrity: bool = False  # INTEGRITY_REST_02
    audit: bool = False  # AUDIT_REST_02


def _sign(settings: PdndSettings, claims: dict[str, Any]) -> str:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(settings.private_key_pem)
    return jwt.encode({"alg": "RS256", "kid": settings.kid, "typ": "JWT"}, claims, key)


def client_assertion(
    settings: PdndSettings, purpose_id: str, *, digest: str | None = None, now: float | None = None
) -> str:
    now = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": settings.client_id,
        "sub": settings.client_id,
        "aud": settings.audience,
        "purposeId": purpose_id,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    }
    if digest:
        claims["digest"] = {"alg": "SHA256", "value": digest}
    return _sign(settings, claims)


def tracking_evidence(
    settings: PdndSettings, service: EService, user_id: str, *, now: float | None = None
) -> str:
    """AUDIT_REST_02: who asked, from where, with which level of assurance."""
    now = int(now if now is not None else time.time())
    return _sign(
        settings,
        {
            "iss": settings.client_id,
            "aud": service.audience,
            "purposeId": service.purpose_id,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + MODI_LIFETIME,
            "userID": user_id,
            "userLocation": settings.user_location,
            "LoA": settings.loa,
        },
    )


def body_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def integrity_signature(
    settings: PdndSettings, service: EService, digest: str, content_type: str, *, now: float | None = None
) -> str:
    """INTEGRITY_REST_02: the JWT of `Agid-JWT-Signature` signing the body's Digest and its content type."""
    now = int(now if now is not None else time.time())
    return _sign(
        settings,
        {
            "iss": settings.client_id,
            "sub": settings.client_id,
            "aud": service.audience,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + MODI_LIFETIME,
            "signed_headers": [{"digest": digest}, {"content-type": content_type}],
        },
    )


# --- vouchers, cached until they expire -------------------------------------------------------------------

_CACHE: dict[tuple[str, str, str, str], tuple[str, float]] = {}
_TRACKING: dict[tuple[str, str, str], tuple[str, float]] = {}
_LOCK = threading.Lock()


def _now() -> float:
    """The clock the caches read (tests move it)."""
    return time.time()


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
        _TRACKING.clear()


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or "")[:300]
    return ""


def request_voucher(
    client: httpx.Client, settings: PdndSettings, purpose_id: str, *, digest: str | None = None
) -> tuple[str, int]:
    """POST /token.oauth2: the voucher and its lifetime in seconds."""
    form = {
        "client_assertion": client_assertion(settings, purpose_id, digest=digest),
        "client_assertion_type": ASSERTION_TYPE,
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
    }
    try:
        response = client.post(settings.token_url, data=form, timeout=settings.timeout)
    except httpx.TimeoutException as exc:
        raise RegistryError(
            "PDND non ha risposto in tempo alla richiesta del voucher: riprovare più tardi."
        ) from exc
    except httpx.HTTPError as exc:
        raise RegistryError(
            f"PDND non raggiungibile per la richiesta del voucher ({type(exc).__name__})."
        ) from exc
    if response.status_code != 200:
        detail = _problem(response)
        reason = {
            400: "richiesta del voucher non valida",
            401: "credenziali del client PDND rifiutate",
            429: "troppe richieste a PDND",
        }.get(response.status_code, "errore del server di autorizzazione")
        raise RegistryError(
            f"PDND ha rifiutato il voucher (HTTP {response.status_code}: {reason})"
            + (f": {detail}" if detail else "")
            + "."
        )
    try:
        body = response.json()
        token, lifetime = str(body["access_token"]), int(body["expires_in"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryError("Risposta di PDND non valida: voucher assente.") from exc
    if not token or lifetime <= 0:
        raise RegistryError("Risposta di PDND non valida: voucher assente o già scaduto.")
    return token, lifetime


def voucher(
    client: httpx.Client, settings: PdndSettings, purpose_id: str, *, digest: str | None = None
) -> str:
    """The voucher for `purpose_id` (and audit token `digest`), from the cache while it is valid."""
    key = (settings.token_url, settings.client_id, purpose_id, digest or "")
    now = _now()
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached[1] - EXPIRY_MARGIN > now:
            return cached[0]
    token, lifetime = request_voucher(client, settings, purpose_id, digest=digest)
    with _LOCK:
        _CACHE[key] = (token, now + lifetime)
    return token


def _tracking_for(settings: PdndSettings, service: EService, user_id: str) -> str:
    """The audit token of a user, reused while valid (so the voucher bound to it is reused too)."""
    key = (service.purpose_id, service.audience, user_id)
    now = _now()
    with _LOCK:
        cached = _TRACKING.get(key)
        if cached and cached[1] - EXPIRY_MARGIN > now:
            return cached[0]
    token = tracking_evidence(settings, service, user_id)
    with _LOCK:
        _TRACKING[key] = (token, now + MODI_LIFETIME)
    return token


def call(
    client: httpx.Client,
    settings: PdndSettings,
    service: EService,
    method: str,
    path: str,
    *,
    user_id: str,
    json_body: Any = None,
    params: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One call of an e-service with its voucher and the ModI headers it asks for. Transport errors and
    timeouts become RegistryError; the caller reads the status code."""
    headers: dict[str, str] = {"Accept": "application/json"}
    digest_claim = None
    if service.audit:
        evidence = _tracking_for(settings, service, user_id)
        headers["Agid-JWT-TrackingEvidence"] = evidence
        digest_claim = hashlib.sha256(evidence.encode("ascii")).hexdigest()
    body = None
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers["Content-Type"] = "application/json"
        if service.integrity:
            digest = body_digest(body)
            headers["Digest"] = digest
            headers["Agid-JWT-Signature"] = integrity_signature(settings, service, digest, "application/json")
    headers["Authorization"] = "Bearer " + voucher(client, settings, service.purpose_id, digest=digest_claim)
    try:
        return client.request(
            method,
            service.url.rstrip("/") + path,
            content=body,
            params=params,
            headers=headers,
            timeout=settings.timeout,
        )
    except httpx.TimeoutException as exc:
        raise RegistryError(f"{service.name} non ha risposto in tempo: riprovare più tardi.") from exc
    except httpx.HTTPError as exc:
        raise RegistryError(
            f"{service.name} non raggiungibile ({type(exc).__name__}): riprovare più tardi."
        ) from exc
