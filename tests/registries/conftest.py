from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import RSAKey
from pytest_httpserver import HTTPServer

from tests.registries.stubs import RegistryStubs, new_client_key


@pytest.fixture(scope="session")
def client_key() -> tuple[RSAKey, str]:
    return new_client_key()


@pytest.fixture
def stubs(httpserver_ipv4: HTTPServer, client_key: tuple[RSAKey, str]) -> Iterator[RegistryStubs]:
    from app.registries.pdnd import clear_cache

    clear_cache()
    stub = RegistryStubs(httpserver_ipv4, *client_key)
    yield stub
    clear_cache()
    assert not stub.invalid, f"requests not valid on the published specs: {stub.invalid}"
    httpserver_ipv4.check_handler_errors()


@pytest.fixture
def configured(app: Flask, stubs: RegistryStubs) -> Iterator[dict[str, Any]]:
    """The app runs with the stubs as PDND, ANPR and INAD (restored afterwards)."""
    settings = stubs.config()
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    yield settings
    app.config.update(saved)
