"""Local stubs of PDND's authorization server, ANPR C001 and INAD (pytest-httpserver) that validate EVERY
request on the published specs (/work/shared/data/specs: pdnd/authorizationServerApi.yml,
anpr/C001-servizioNotifica.yaml, inad/inad_extraction.yaml): `$ref`s inlined, unknown keys refused, every
answer itself checked on the spec's response schema. The PDND stub also checks the client assertion (RS256
signature with the client's key, kid, claims of SUMMARY-voucher-and-ModI.md) and mints vouchers; the
e-service stubs check the voucher, and for ANPR the ModI headers (Digest, Agid-JWT-Signature,
Agid-JWT-TrackingEvidence bound to the voucher's `digest`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml
from joserfc import jwt
from joserfc.jwk import RSAKey
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.payments.support import shared_file

SPECS = {
    "pdnd": shared_file("data/specs/pdnd/authorizationServerApi.yml"),
    "anpr": shared_file("data/specs/anpr/C001-servizioNotifica.yaml"),
    "inad": shared_file("data/specs/inad/inad_extraction.yaml"),
}
_LOADED: dict[str, dict[str, Any]] = {}


def spec(name: str) -> dict[str, Any]:
    if name not in _LOADED:
        _LOADED[name] = yaml.safe_load(Path(SPECS[name]).read_text(encoding="utf-8"))
    return _LOADED[name]


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Inline every `#/components/...` $ref and forbid keys the schema does not name."""
    if isinstance(node, list):
        return [resolve(doc, n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(doc, target)
    out = {k: resolve(doc, v) for k, v in node.items() if k not in ("example", "examples")}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def validator(name: str, schema: dict[str, Any]) -> OAS30Validator:
    return OAS30Validator(resolve(spec(name), schema), format_checker=oas30_format_checker)


def errors_of(v: OAS30Validator, value: Any) -> list[str]:
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in v.iter_errors(value)]


def operation(name: str, path: str, method: str) -> dict[str, Any]:
    return spec(name)["paths"][path][method]


def request_schema(name: str, path: str, method: str, content_type: str) -> OAS30Validator:
    return validator(name, operation(name, path, method)["requestBody"]["content"][content_type]["schema"])


def response(name: str, path: str, method: str, status: int, body: Any, **headers: str) -> Response:
    """A stub answer, itself checked on the spec's schema for that status."""
    answer = operation(name, path, method)["responses"][str(status)]
    if "$ref" in answer:
        answer = resolve(spec(name), answer)
    content_type, media = next(iter(answer["content"].items()))
    problems = errors_of(validator(name, media["schema"]), body)
    assert not problems, f"stub answer not valid on the {name} spec ({path} {status}): {problems}"
    return Response(json.dumps(body), status=status, content_type=content_type, headers=headers)


def new_client_key() -> tuple[RSAKey, str]:
    """An RSA key and its kid (43 base64url characters, as PDND's validator asks)."""
    key = RSAKey.generate_key(2048, private=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(key.as_pem(private=False)).digest()).decode().rstrip("=")
    return key, kid


_PDND_KEY: list[RSAKey] = []


def _pdnd_key() -> RSAKey:
    """The key PDND signs vouchers with (one per test session: generating RSA keys is slow)."""
    if not _PDND_KEY:
        _PDND_KEY.append(RSAKey.generate_key(2048, private=True))
    return _PDND_KEY[0]


CLIENT_ID = "e58035ce-c753-4f72-b613-46f8a17b71cc"
AUDIENCE = "auth.uat.interop.pagopa.it/client-assertion"
ANPR_PURPOSE = "1b2c3d4e-0000-4000-8000-00000000a001"
INAD_PURPOSE = "1b2c3d4e-0000-4000-8000-00000000a002"
ANPR_AUDIENCE = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR-PDND/C001"
INAD_AUDIENCE = "https://api.inad.gov.it/rest/inad/v1/domiciliodigitale"
ANPR_BASE = "/anpr/C001-servizioNotifica/v1"
INAD_BASE = "/inad/v1/domiciliodigitale"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
KID = re.compile(r"^[a-zA-Z0-9_-]{43}$")


@dataclass
class Person:
    """What the ANPR and INAD stubs know of one codice fiscale."""

    street: str = "ROMA"
    specie: str = "VIA"
    numero: str = "10"
    cap: str = "40100"
    comune: str = "BOLOGNA"
    provincia: str = "BO"
    since: str = "2021-11-15"
    deceased: str | None = None
    pec: str | None = None
    pec_ended: str | None = None  # usageInfo.dateEndValidity


@dataclass
class RegistryStubs:
    server: HTTPServer
    client_key: RSAKey
    kid: str
    people: dict[str, Person] = field(default_factory=dict)
    vouchers: dict[str, dict[str, Any]] = field(default_factory=dict)  # voucher -> assertion claims
    assertions: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)  # "token"/"anpr"/"inad" -> HTTP status to answer
    slow: set[str] = field(default_factory=set)
    voucher_lifetime: int = 600
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pdnd_key = _pdnd_key()
        s = self.server
        s.expect_request("/token.oauth2", method="POST").respond_with_handler(self.token)
        s.expect_request(f"{ANPR_BASE}/anpr-service-e002", method="POST").respond_with_handler(self.anpr)
        s.expect_request(re.compile(rf"^{INAD_BASE}/extract/[^/]+$"), method="GET").respond_with_handler(
            self.inad
        )

    # --- settings the app runs with --------------------------------------------------------------------
    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "REGISTRIES_ENABLED": True,
            "REGISTRY_REFRESH_DAYS": 30,
            "REGISTRY_TIMEOUT_SECONDS": 2,
            "PDND_TOKEN_URL": self.server.url_for("/token.oauth2"),
            "PDND_AUDIENCE": AUDIENCE,
            "PDND_CLIENT_ID": CLIENT_ID,
            "PDND_KID": self.kid,
            "PDND_PRIVATE_KEY": self.client_key.as_pem(private=True).decode(),
            "ANPR_C001_URL": self.server.url_for(ANPR_BASE),
            "ANPR_C001_PURPOSE_ID": ANPR_PURPOSE,
            "ANPR_C001_AUDIENCE": ANPR_AUDIENCE,
            "INAD_URL": self.server.url_for(INAD_BASE),
            "INAD_PURPOSE_ID": INAD_PURPOSE,
            "INAD_AUDIENCE": INAD_AUDIENCE,
            **overrides,
        }

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.calls if k == kind)

    def _refuse(self, problem: str) -> None:
        with self.lock:
            self.invalid.append(problem)

    def _jws(self, token: str, key: RSAKey, what: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            decoded = jwt.decode(token, key, algorithms=["RS256"])
        except Exception as exc:  # any decoding or signature error is a refused request
            self._refuse(f"{what}: {exc}")
            return None
        header = dict(decoded.header)
        if (
            header.get("alg") != "RS256"
            or header.get("kid") != self.kid
            or not KID.match(str(header.get("kid")))
        ):
            self._refuse(f"{what}: header {header}")
            return None
        return header, dict(decoded.claims)

    def _delay(self, kind: str) -> None:
        if kind in self.slow:
            time.sleep(3)  # longer than REGISTRY_TIMEOUT_SECONDS: the client gives up first

    # --- PDND authorization server ------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        path = "/token.oauth2"
        self._delay("token")
        if request.mimetype != "application/x-www-form-urlencoded":
            self._refuse(f"token: content type {request.mimetype}")
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        problems = errors_of(request_schema("pdnd", path, "post", "application/x-www-form-urlencoded"), form)
        if problems:
            self._refuse(f"token form: {problems}")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            self._refuse(f"token: client_assertion_type {form.get('client_assertion_type')}")
        decoded = self._jws(form.get("client_assertion", ""), self.client_key, "client assertion")
        claims = decoded[1] if decoded else {}
        self.check_assertion(claims, form.get("client_id"))
        with self.lock:
            self.assertions.append(claims)
            self.calls.append(("token", claims))
        if "token" in self.fail:
            status = self.fail["token"]
            return response(
                "pdnd",
                path,
                "post",
                status,
                {"type": "about:blank", "status": status, "title": "Client assertion rejected"},
            )
        now = int(time.time())
        voucher_claims = {
            "iss": "interop.pagopa.it",
            "nbf": now,
            "iat": now,
            "exp": now + self.voucher_lifetime,
            "jti": str(uuid.uuid4()),
            "aud": "e-service",
            "sub": CLIENT_ID,
            "client_id": CLIENT_ID,
            "purposeId": claims.get("purposeId"),
        }
        if "digest" in claims:
            voucher_claims["digest"] = claims["digest"]
        voucher = jwt.encode(
            {"typ": "at+jwt", "alg": "RS256", "kid": "pdnd-key"}, voucher_claims, self.pdnd_key
        )
        with self.lock:
            self.vouchers[voucher] = claims
        return response(
            "pdnd",
            path,
            "post",
            200,
            {"access_token": voucher, "token_type": "Bearer", "expires_in": self.voucher_lifetime},
            **{"Cache-Control": "no-cache, no-store"},
        )

    def check_assertion(self, claims: dict[str, Any], client_id: str | None) -> None:
        """The claims PDND's validator accepts (SUMMARY-voucher-and-ModI.md §1)."""
        allowed = {"iss", "sub", "aud", "jti", "iat", "exp", "purposeId", "digest"}
        problems = [f"claim not allowed: {k}" for k in claims if k not in allowed]
        if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
            problems.append("iss/sub must be the client id")
        if client_id is not None and client_id != claims.get("sub"):
            problems.append("client_id differs from sub")
        if claims.get("aud") != AUDIENCE:
            problems.append(f"aud {claims.get('aud')}")
        if claims.get("purposeId") not in (ANPR_PURPOSE, INAD_PURPOSE):
            problems.append(f"purposeId {claims.get('purposeId')}")
        if not claims.get("jti"):
            problems.append("jti missing")
        if not (isinstance(claims.get("iat"), int) and isinstance(claims.get("exp"), int)):
            problems.append("iat/exp must be numbers")
        elif not claims["iat"] <= time.time() + 5 < claims["exp"] + 5:
            problems.append("iat/exp out of range")
        digest = claims.get("digest")
        if digest is not None and (
            not isinstance(digest, dict)
            or digest.get("alg") != "SHA256"
            or not HEX64.match(str(digest.get("value")))
        ):
            problems.append(f"digest {digest}")
        for problem in problems:
            self._refuse(f"client assertion: {problem}")

    def _voucher(self, request: Request, purpose: str, what: str) -> dict[str, Any] | None:
        auth = request.headers.get("Authorization", "")
        claims = self.vouchers.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if claims is None or claims.get("purposeId") != purpose:
            self._refuse(f"{what}: no valid voucher for purpose {purpose}")
            return None
        return claims

    # --- ANPR C001 ---------------------------------------------------------------------------------------
    def anpr(self, request: Request) -> Response:
        path = "/anpr-service-e002"
        self._delay("anpr")
        raw = request.get_data()
        voucher = self._voucher(request, ANPR_PURPOSE, "ANPR")
        self.check_modi(request, raw, voucher or {})
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
            self._refuse("ANPR: body is not JSON")
        problems = errors_of(request_schema("anpr", path, "post", "application/json"), body)
        if problems:
            self._refuse(f"ANPR body: {problems}")
        with self.lock:
            self.calls.append(("anpr", body))
        if "anpr" in self.fail:
            status = self.fail["anpr"]
            return response(
                "anpr",
                path,
                "post",
                status,
                {
                    "idOperazioneANPR": "0",
                    "listaErrori": [
                        {
                            "codiceErroreAnomalia": "EN999",
                            "tipoErroreAnomalia": "E",
                            "testoErroreAnomalia": "Errore",
                        }
                    ],
                },
            )
        if not isinstance(body, dict) or not str(body.get("idOperazioneClient", "")).isdigit():
            self._refuse("ANPR: idOperazioneClient must be numeric")
        cf = ((body or {}).get("criteriRicerca") or {}).get("codiceFiscale")
        person = self.people.get(cf)
        if person is None:
            return response(
                "anpr",
                path,
                "post",
                404,
                {
                    "idOperazioneANPR": "1001",
                    "listaErrori": [
                        {
                            "codiceErroreAnomalia": "EN122",
                            "testoErroreAnomalia": "La ricerca non ha prodotto risultati",
                        }
                    ],
                },
            )
        subject: dict[str, Any] = {
            "generalita": {
                "codiceFiscale": {"codFiscale": cf, "validitaCF": "1"},
                "cognome": "ROSSI",
                "nome": "MARIO",
                "sesso": "M",
                "dataNascita": "1960-01-01",
            },
            "residenza": [
                {
                    "tipoIndirizzo": "1",
                    "indirizzo": {
                        "cap": person.cap,
                        "comune": {
                            "nomeComune": person.comune,
                            "codiceIstat": "037006",
                            "siglaProvinciaIstat": person.provincia,
                        },
                        "toponimo": {
                            "codSpecie": "26",
                            "specie": person.specie,
                            "denominazioneToponimo": person.street,
                        },
                        "numeroCivico": {"numero": person.numero},
                    },
                    "dataDecorrenzaResidenza": person.since,
                }
            ],
            "identificativi": {"idANPR": "AB12345CD"},
        }
        if person.deceased:
            subject["infoSoggettoEnte"] = [
                {"id": "1", "chiave": "Data decesso", "valore": "S", "valoreData": person.deceased}
            ]
        return response(
            "anpr",
            path,
            "post",
            200,
            {"idOperazioneANPR": "2001", "listaSoggetti": {"datiSoggetto": [subject]}},
        )

    def check_modi(self, request: Request, raw: bytes, voucher: dict[str, Any]) -> None:
        """INTEGRITY_REST_02 and AUDIT_REST_02 as the ANPR spec's securitySchemes name them."""
        digest = request.headers.get("Digest", "")
        expected = "SHA-256=" + base64.b64encode(hashlib.sha256(raw).digest()).decode()
        if digest != expected:
            self._refuse(f"ANPR: Digest {digest!r} does not match the body")
        signature = self._jws(
            request.headers.get("Agid-JWT-Signature", ""), self.client_key, "Agid-JWT-Signature"
        )
        if signature:
            claims = signature[1]
            signed = {k: v for item in claims.get("signed_headers", []) for k, v in item.items()}
            if signed.get("digest") != digest or signed.get("content-type") != request.headers.get(
                "Content-Type"
            ):
                self._refuse(f"Agid-JWT-Signature: signed_headers {signed}")
            if (
                claims.get("aud") != ANPR_AUDIENCE
                or not claims.get("jti")
                or not isinstance(claims.get("exp"), int)
            ):
                self._refuse(f"Agid-JWT-Signature: claims {claims}")
        evidence = request.headers.get("Agid-JWT-TrackingEvidence", "")
        audit = self._jws(evidence, self.client_key, "Agid-JWT-TrackingEvidence")
        if audit:
            claims = audit[1]
            missing = [
                k for k in ("userID", "userLocation", "LoA", "aud", "jti", "iat", "exp") if not claims.get(k)
            ]
            if missing:
                self._refuse(f"Agid-JWT-TrackingEvidence: missing {missing}")
            bound = (voucher.get("digest") or {}).get("value")
            if bound != hashlib.sha256(evidence.encode()).hexdigest():
                self._refuse("Agid-JWT-TrackingEvidence: not the one the voucher's digest names")

    # --- INAD ----------------------------------------------------------------------------------------------
    def inad(self, request: Request) -> Response:
        path = "/extract/{codice_fiscale}"
        self._delay("inad")
        self._voucher(request, INAD_PURPOSE, "INAD")
        cf = request.path.rsplit("/", 1)[1]
        params = {p["name"]: p for p in operation("inad", path, "get")["parameters"]}
        problems = errors_of(validator("inad", params["codice_fiscale"]["schema"]), cf)
        reference = request.args.get("practicalReference")
        if reference is None:
            problems.append("practicalReference is required")
        else:
            problems += errors_of(validator("inad", params["practicalReference"]["schema"]), reference)
        unknown = set(request.args) - set(params)
        if unknown:
            problems.append(f"unknown query parameters {unknown}")
        if problems:
            self._refuse(f"INAD: {problems}")
        with self.lock:
            self.calls.append(("inad", {"cf": cf, "practicalReference": reference}))
        if "inad" in self.fail:
            status = self.fail["inad"]
            kinds = {
                400: "BAD_REQUEST",
                401: "UNAUTHORIZED",
                403: "FORBIDDEN",
                404: "NOT_FOUND",
                500: "INTERNAL_SERVER_ERROR",
                503: "SERVICE_UNAVAILABLE",
            }
            return response(
                "inad",
                path,
                "get",
                status,
                {"status": str(status), "type": kinds[status], "detail": "Servizio non disponibile"},
            )
        person = self.people.get(cf)
        if person is None or person.pec is None:
            return response(
                "inad",
                path,
                "get",
                404,
                {"status": "404", "type": "NOT_FOUND", "detail": "Domicilio digitale non trovato"},
            )
        return response(
            "inad",
            path,
            "get",
            200,
            {
                "codiceFiscale": cf,
                "since": "2026-12-03T09:00:00Z",
                "digitalAddress": [
                    {
                        "digitalAddress": person.pec,
                        "usageInfo": {
                            "motivation": "CESSAZIONE_VOLONTARIA",
                            "dateEndValidity": person.pec_ended or "2099-12-31T00:00:00Z",
                        },
                    }
                ],
            },
        )
