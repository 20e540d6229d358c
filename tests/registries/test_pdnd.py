"""PDND voucher: the client assertion's shape (checked by the stub on the published spec and on the claims
PDND's validator accepts), the cache until expiry, errors in Italian; and the stub's own strictness."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import httpx
import pytest
from joserfc import jwt

from app.registries import pdnd
from app.registries.services import RegistryConfig
from tests.registries.stubs import ANPR_PURPOSE, AUDIENCE, CLIENT_ID, INAD_PURPOSE


def _settings(stubs) -> pdnd.PdndSettings:
    settings = pdnd.PdndSettings.from_config(stubs.config())
    assert settings is not None
    return settings


def test_the_voucher_request_carries_a_signed_assertion_with_the_required_claims(stubs) -> None:
    settings = _settings(stubs)
    with httpx.Client() as client:
        token = pdnd.voucher(client, settings, INAD_PURPOSE)
    assert token in stubs.vouchers
    (claims,) = stubs.assertions
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == AUDIENCE and claims["purposeId"] == INAD_PURPOSE
    assert isinstance(claims["iat"], int) and claims["exp"] - claims["iat"] == pdnd.ASSERTION_LIFETIME
    assert "nbf" not in claims and "digest" not in claims and claims["jti"]
    header = jwt.decode(pdnd.client_assertion(settings, INAD_PURPOSE), stubs.client_key).header
    assert header == {"alg": "RS256", "kid": stubs.kid, "typ": "JWT"}
    assert not stubs.invalid


def test_a_voucher_is_reused_until_it_expires(stubs, monkeypatch) -> None:
    settings = _settings(stubs)
    with httpx.Client() as client:
        first = pdnd.voucher(client, settings, INAD_PURPOSE)
        assert pdnd.voucher(client, settings, INAD_PURPOSE) == first
        assert stubs.count("token") == 1
        other = pdnd.voucher(client, settings, ANPR_PURPOSE)  # another purpose, another voucher
        assert other != first and stubs.count("token") == 2
        later = time.time() + stubs.voucher_lifetime - pdnd.EXPIRY_MARGIN + 1
        monkeypatch.setattr(pdnd, "_now", lambda: later)
        renewed = pdnd.voucher(client, settings, INAD_PURPOSE)
    assert renewed != first and stubs.count("token") == 3


def test_the_audit_token_is_bound_to_the_voucher_by_its_digest(stubs) -> None:
    config = RegistryConfig.from_config(stubs.config())
    with httpx.Client() as client:
        response = pdnd.call(
            client,
            config.pdnd,
            config.anpr,
            "POST",
            "/anpr-service-e002",
            user_id="utente-1",
            json_body={
                "idOperazioneClient": "1",
                "criteriRicerca": {"codiceFiscale": "RSSMRA80A01H501U"},
                "datiRichiesta": {
                    "dataRiferimentoRichiesta": "2026-12-03",
                    "motivoRichiesta": "x",
                    "casoUso": "C001",
                },
            },
        )
    assert response.status_code == 404  # the stub knows nobody: the headers were checked all the same
    (claims,) = stubs.assertions
    assert claims["digest"]["alg"] == "SHA256" and len(claims["digest"]["value"]) == 64
    assert not stubs.invalid


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (400, "richiesta del voucher non valida"),
        (401, "credenziali del client PDND rifiutate"),
        (429, "troppe richieste"),
    ],
)
def test_a_refused_voucher_is_an_italian_error(stubs, status: int, text: str) -> None:
    stubs.fail["token"] = status
    with httpx.Client() as client, pytest.raises(pdnd.RegistryError) as refused:
        pdnd.voucher(client, _settings(stubs), INAD_PURPOSE)
    assert f"PDND ha rifiutato il voucher (HTTP {status}: {text}" in refused.value.message
    # nothing cached: the next call asks again
    stubs.fail.clear()
    with httpx.Client() as client:
        pdnd.voucher(client, _settings(stubs), INAD_PURPOSE)
    assert stubs.count("token") == 2


def test_pdnd_not_answering_in_time_is_an_italian_error(stubs) -> None:
    stubs.slow.add("token")
    settings = _settings(stubs)
    quick = dataclasses.replace(settings, timeout=0.2)
    with httpx.Client() as client, pytest.raises(pdnd.RegistryError, match="PDND non ha risposto in tempo"):
        pdnd.voucher(client, quick, INAD_PURPOSE)


def test_the_stub_refuses_an_assertion_pdnd_would_refuse(stubs) -> None:
    """The stub is strict: an `nbf`, a wrong audience or a string iat are reported."""
    settings = _settings(stubs)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    bad = pdnd._sign(
        settings,
        {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": "altro",
            "purposeId": INAD_PURPOSE,
            "jti": "1",
            "iat": str(now),
            "exp": now + 60,
            "nbf": now,
        },
    )
    httpx.post(
        stubs.server.url_for("/token.oauth2"),
        data={
            "client_assertion": bad,
            "client_assertion_type": pdnd.ASSERTION_TYPE,
            "grant_type": "client_credentials",
        },
    )
    httpx.post(
        stubs.server.url_for("/token.oauth2"), data={"client_assertion": bad, "grant_type": "password"}
    )
    problems = " ".join(stubs.invalid)
    assert (
        "claim not allowed: nbf" in problems
        and "aud altro" in problems
        and "iat/exp must be numbers" in problems
    )
    assert "token form" in problems  # grant_type not in the spec's enum, client_assertion_type missing
    stubs.invalid.clear()


def test_the_e_service_stubs_refuse_what_their_specs_do_not_allow(stubs) -> None:
    """ANPR: a body without `casoUso` or with an unknown key, a Digest not matching; INAD: a codice fiscale
    off the pattern, a missing `practicalReference`. Each is reported by the stub."""
    anpr = stubs.server.url_for("/anpr/C001-servizioNotifica/v1/anpr-service-e002")
    body = {
        "idOperazioneClient": "1",
        "criteriRicerca": {"codiceFiscale": "RSSMRA80A01H501U"},
        "datiRichiesta": {"dataRiferimentoRichiesta": "2026-12-03", "motivoRichiesta": "x"},
        "extra": 1,
    }
    httpx.post(anpr, json=body, headers={"Digest": "SHA-256=AAAA"})
    inad = stubs.server.url_for("/inad/v1/domiciliodigitale/extract/NONVALIDO")
    httpx.get(inad)
    problems = " ".join(stubs.invalid)
    assert "'casoUso' is a required property" in problems and "'extra' was unexpected" in problems
    assert "Digest 'SHA-256=AAAA' does not match the body" in problems
    inad_problems = next(p for p in stubs.invalid if p.startswith("INAD: ["))
    assert "'NONVALIDO' does not match" in inad_problems and "practicalReference is required" in inad_problems
    assert "no valid voucher" in problems
    stubs.invalid.clear()
