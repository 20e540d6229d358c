"""A real local OpenID provider (oidc-provider-mock, in a thread) standing for the Regione's SPID/CIE broker,
and in front of it a small HTTP proxy (pytest-httpserver) that serves the discovery document and forwards
the token request, so a test can make the broker misbehave: a tampered signature, an ID token for another
client (wrong audience), an old answer replayed. A second provider issues tokens that are already expired.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import httpx
import oidc_provider_mock
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CLIENT_ID = "esattoria-test"
CLIENT_SECRET = "segreto-di-prova"  # noqa: S105 (a test client of a local provider)
MARIO_CF = "RSSMRA80A01H501U"


@dataclass
class Broker:
    """The proxy in front of the providers: `mode` changes what the token endpoint answers."""

    proxy: HTTPServer
    targets: dict[str, str]  # name -> provider base URL
    mode: str = "pass"  # pass | tamper | other_client | replay
    last_token: dict[str, Any] | None = None
    seen: list[str] = field(default_factory=list)

    def discovery(self, name: str = "main") -> str:
        return self.proxy.url_for(f"/{name}/.well-known/openid-configuration")

    def put_user(self, sub: str, claims: dict[str, Any], name: str = "main") -> None:
        response = httpx.put(f"{self.targets[name]}/users/{quote(sub, safe='')}", json=claims)
        assert response.status_code == 204, response.text


def _metadata_handler(broker: Broker, name: str):
    def handler(request: Request) -> Response:
        metadata = httpx.get(f"{broker.targets[name]}/.well-known/openid-configuration").json()
        metadata["token_endpoint"] = broker.proxy.url_for(f"/{name}/token")
        return Response(json.dumps(metadata), content_type="application/json")

    return handler


def _token_handler(broker: Broker, name: str):
    def handler(request: Request) -> Response:
        broker.seen.append(broker.mode)
        if broker.mode == "replay" and broker.last_token is not None:
            return Response(json.dumps(broker.last_token), content_type="application/json")
        form = dict(request.form)
        headers = {}
        auth = request.headers.get("Authorization")
        if broker.mode == "other_client":
            form["client_id"] = "altro-servizio"
            if auth and auth.startswith("Basic "):
                _, secret = base64.b64decode(auth[6:]).decode().split(":", 1)
                auth = "Basic " + base64.b64encode(f"altro-servizio:{secret}".encode()).decode()
        if auth:
            headers["Authorization"] = auth
        upstream = httpx.post(f"{broker.targets[name]}/oauth2/token", data=form, headers=headers)
        if not upstream.headers.get("content-type", "").startswith("application/json"):
            return Response(upstream.content, status=upstream.status_code)
        body = upstream.json()
        if upstream.status_code == 200:
            if broker.mode == "tamper":
                head, payload, signature = body["id_token"].split(".")
                middle = len(signature) // 2
                flipped = "A" if signature[middle] != "A" else "B"
                body["id_token"] = ".".join(
                    (head, payload, signature[:middle] + flipped + signature[middle + 1 :])
                )
            broker.last_token = body
        return Response(json.dumps(body), status=upstream.status_code, content_type="application/json")

    return handler


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    with (
        oidc_provider_mock.run_server_in_thread() as main,
        oidc_provider_mock.run_server_in_thread(access_token_max_age=dt.timedelta(hours=-1)) as expired,
    ):
        proxy = HTTPServer(host="127.0.0.1", port=0)
        proxy.start()
        targets = {
            "main": f"http://localhost:{main.server_port}",
            "expired": f"http://localhost:{expired.server_port}",
        }
        state = Broker(proxy=proxy, targets=targets)
        for name in targets:
            proxy.expect_request(f"/{name}/.well-known/openid-configuration").respond_with_handler(
                _metadata_handler(state, name)
            )
            proxy.expect_request(f"/{name}/token", method="POST").respond_with_handler(
                _token_handler(state, name)
            )
        try:
            yield state
        finally:
            proxy.clear()
            proxy.stop()


@pytest.fixture
def oidc_app(app: Flask, broker: Broker, monkeypatch: pytest.MonkeyPatch) -> Flask:
    broker.mode, broker.last_token = "pass", None
    monkeypatch.setitem(app.config, "OIDC_DISCOVERY_URL", broker.discovery("main"))
    monkeypatch.setitem(app.config, "OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setitem(app.config, "OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setitem(app.config, "OIDC_SCOPES", "openid profile")
    return app


def start_login(client: FlaskClient) -> str:
    """Our redirect to the broker: its authorization URL."""
    response = client.get("/self-service/accesso/spid-cie")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def authorize(authorize_url: str, sub: str, *, client_id: str | None = None) -> str:
    """The citizen logs in at the broker (its form: the subject); the broker's redirect back to us."""
    if client_id is not None:
        parts = urlsplit(authorize_url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query["client_id"] = client_id
        authorize_url = urlunsplit(parts._replace(query=urlencode(query)))
    response = httpx.post(authorize_url, data={"sub": sub})
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/self-service/accesso/ritorno", location
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def nonce_in(url: str) -> str:
    value = query_of(url)["nonce"]
    assert re.fullmatch(r"[A-Za-z0-9]{32,}", value)
    return value
