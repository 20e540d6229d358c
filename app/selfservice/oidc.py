"""SPID/CIE login through the Regione's OpenID Connect identity broker (Authlib as relying party).

Authorization Code flow with PKCE (S256), `state` and `nonce` (48 random alphanumeric characters each,
SPID/CIE rules: at least 32). The broker is configured from its discovery URL (OIDC_DISCOVERY_URL). The ID
token is checked here with joserfc against the broker's JWKS: signature, `iss`, `aud` (our client id),
`exp`/`iat`
(with a small leeway), `nonce` equal to the one of this login and never seen before (a replayed nonce is
refused: the used ones are kept in Redis for the token's lifetime). The codice fiscale comes from the
`fiscalNumber` claim (SPID's `TINIT-<CF>`; CIE's `https://attributes.eid.gov.it/fiscal_number`; a plain CF is
accepted too), from the ID token or else from userinfo.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.core import security

PENDING = "oidc_pending"  # session key: state, nonce, code_verifier, started (epoch seconds)
PENDING_SECONDS = 600  # a login must come back from the broker within 10 minutes
LEEWAY_SECONDS = 60  # clock skew allowed on exp / iat
USED_NONCE_PREFIX = "esattoria:oidc:nonce:"
USED_NONCE_TTL = 86_400
FISCAL_CLAIMS = ("fiscalNumber", "https://attributes.eid.gov.it/fiscal_number", "fiscal_number")
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS512"]
_ALPHANUMERIC = string.ascii_letters + string.digits


class LoginError(Exception):
    """A refused SPID/CIE login: `code` for the event/log, `message` (Italian) for the taxpayer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Identity:
    codice_fiscale: str
    subject: str
    given_name: str | None
    family_name: str | None
    email: str | None


def configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("OIDC_DISCOVERY_URL") and cfg.get("OIDC_CLIENT_ID"))


def random_value(length: int = 48) -> str:
    """An alphanumeric random string (state, nonce)."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def new_nonce() -> str:
    return random_value()


_CLIENTS: dict[tuple[str, str, str, str], Any] = {}


def client() -> Any:
    """The Authlib client of the configured broker (its discovery document is read once per process)."""
    from authlib.integrations.flask_client import OAuth

    cfg = current_app.config
    key = (
        cfg["OIDC_DISCOVERY_URL"],
        cfg["OIDC_CLIENT_ID"],
        cfg.get("OIDC_CLIENT_SECRET") or "",
        cfg.get("OIDC_SCOPES") or "openid",
    )
    found = _CLIENTS.get(key)
    if found is None:
        registry = OAuth(current_app._get_current_object())  # type: ignore[attr-defined]
        registry.register(
            "broker",
            client_id=key[1],
            client_secret=key[2] or None,
            server_metadata_url=key[0],
            client_kwargs={
                "scope": key[3],
                "code_challenge_method": "S256",
                "timeout": cfg.get("OIDC_TIMEOUT", 10),
            },
        )
        found = registry.create_client("broker")
        _CLIENTS[key] = found
    return found


def start(redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """The broker's authorization URL, and what the session keeps until the callback."""
    pending = {
        "state": random_value(),
        "nonce": new_nonce(),
        "code_verifier": random_value(64),
        "started": int(security.clock().timestamp()),
        "redirect_uri": redirect_uri,
    }
    try:
        rv = client().create_authorization_url(
            redirect_uri,
            state=pending["state"],
            nonce=pending["nonce"],
            code_verifier=pending["code_verifier"],
            acr_values="https://www.spid.gov.it/SpidL2",
            prompt="login",
        )
    except Exception as exc:  # the broker unreachable or its discovery document broken
        raise LoginError(
            "broker_unavailable", "Il servizio di accesso con SPID/CIE non risponde: riprovare più tardi."
        ) from exc
    return rv["url"], pending


def finish(pending: dict[str, Any] | None, args: dict[str, str]) -> Identity:
    """Check the broker's answer (`args`: the callback's query string) against the pending login, exchange
    the code and check the ID token. Raises LoginError with the reason."""
    if args.get("error"):
        raise LoginError("broker_error", "L'accesso con SPID/CIE è stato annullato o non è riuscito.")
    if (
        not pending
        or not args.get("state")
        or not secrets.compare_digest(str(pending.get("state")), str(args.get("state")))
    ):
        raise LoginError("state", "Richiesta di accesso non valida o già usata: ricominciare l'accesso.")
    if int(security.clock().timestamp()) - int(pending.get("started", 0)) > PENDING_SECONDS:
        raise LoginError("timeout", "Tempo scaduto per completare l'accesso: ricominciare.")
    if not args.get("code"):
        raise LoginError("code", "Risposta del servizio di accesso senza codice di autorizzazione.")
    broker = client()
    try:
        token = broker.fetch_access_token(
            redirect_uri=pending["redirect_uri"], code=args["code"], code_verifier=pending["code_verifier"]
        )
    except Exception as exc:
        raise LoginError(
            "token_endpoint", "Il servizio di accesso non ha rilasciato le credenziali."
        ) from exc
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not id_token:
        raise LoginError(
            "id_token_missing", "Il servizio di accesso non ha rilasciato l'identità (ID token)."
        )
    claims = validate_id_token(broker, id_token, nonce=pending["nonce"])
    remember_nonce(claims["nonce"], int(claims.get("exp", 0)))
    cf = fiscal_code_of(claims)
    if cf is None:
        cf = fiscal_code_of(_userinfo(broker, token))
    if cf is None:
        raise LoginError("fiscal_number", "L'identità digitale non riporta il codice fiscale.")
    return Identity(
        codice_fiscale=cf,
        subject=str(claims.get("sub", "")),
        given_name=claims.get("given_name"),
        family_name=claims.get("family_name"),
        email=claims.get("email"),
    )


def _userinfo(broker: Any, token: dict[str, Any]) -> dict[str, Any]:
    try:
        response = broker.get(broker.load_server_metadata()["userinfo_endpoint"], token=token)
        response.raise_for_status()
        data = response.json()
    except Exception:  # no userinfo (or a signed/encrypted one we do not read): no CF from it
        return {}
    return data if isinstance(data, dict) else {}


def validate_id_token(broker: Any, id_token: str, *, nonce: str) -> dict[str, Any]:
    """The ID token's claims, or LoginError: signature against the broker's JWKS, issuer, audience, expiry,
    issue time and nonce."""
    from joserfc import jwt
    from joserfc.errors import (
        BadSignatureError,
        ExpiredTokenError,
        InvalidClaimError,
        JoseError,
        MissingClaimError,
    )
    from joserfc.jwk import KeySet

    metadata = broker.load_server_metadata()
    try:
        jwks = broker.fetch_jwk_set(force=True) if hasattr(broker, "fetch_jwk_set") else None
        keys = KeySet.import_key_set(jwks or _get_json(broker, metadata["jwks_uri"]))
    except Exception as exc:
        raise LoginError(
            "jwks", "Impossibile verificare l'identità: chiavi del servizio di accesso non disponibili."
        ) from exc
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except BadSignatureError as exc:
        raise LoginError("signature", "Identità digitale non valida: la firma non corrisponde.") from exc
    except JoseError as exc:
        raise LoginError("malformed", "Identità digitale non valida: token illeggibile.") from exc
    except ValueError as exc:
        raise LoginError("malformed", "Identità digitale non valida: token illeggibile.") from exc
    claims = dict(token.claims)
    now = int(security.clock().timestamp())
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": metadata.get("issuer")},
        aud={"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise LoginError("expired", "Identità digitale scaduta: ripetere l'accesso.") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        field = getattr(exc, "claim", "")
        if field == "aud":
            raise LoginError(
                "audience", "Identità digitale rilasciata per un altro servizio: accesso rifiutato."
            ) from exc
        if field == "iss":
            raise LoginError(
                "issuer", "Identità digitale rilasciata da un servizio non riconosciuto."
            ) from exc
        raise LoginError("claims", f"Identità digitale non valida (dato «{field}»).") from exc
    if int(claims.get("iat", 0)) > now + LEEWAY_SECONDS:
        raise LoginError("claims", "Identità digitale non valida (data di emissione futura).")
    if not secrets.compare_digest(str(claims.get("nonce") or ""), str(nonce)):
        raise LoginError("nonce", "Identità digitale non corrispondente a questa richiesta di accesso.")
    if nonce_used(nonce):
        raise LoginError("nonce_replayed", "Identità digitale già usata per un accesso: ricominciare.")
    return claims


def _get_json(broker: Any, url: str) -> Any:
    import httpx

    response = httpx.get(url, timeout=current_app.config.get("OIDC_TIMEOUT", 10))
    response.raise_for_status()
    return response.json()


def nonce_used(nonce: str) -> bool:
    from app.core.jobs import connection

    return bool(connection().exists(USED_NONCE_PREFIX + nonce))


def remember_nonce(nonce: str, exp: int) -> None:
    """A nonce is good once: kept (SET NX) at least as long as a token carrying it is valid."""
    from app.core.jobs import connection

    ttl = max(USED_NONCE_TTL, exp - int(time.time()) + LEEWAY_SECONDS)
    if not connection().set(USED_NONCE_PREFIX + nonce, "1", nx=True, ex=ttl):
        raise LoginError("nonce_replayed", "Identità digitale già usata per un accesso: ricominciare.")


def fiscal_code_of(claims: dict[str, Any]) -> str | None:
    """The codice fiscale of SPID's `TINIT-<CF>` (or a plain CF), validated (omocodia accepted)."""
    from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale

    for name in FISCAL_CLAIMS:
        value = claims.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        text = value.strip().upper()
        if text.startswith("TINIT-"):
            text = text[len("TINIT-") :]
        try:
            return validate_codice_fiscale(text)
        except InvalidIdentifier as exc:
            raise LoginError(
                "fiscal_number", "Il codice fiscale dell'identità digitale non è valido."
            ) from exc
    return None
