"""Playwright on Debian's chromium (`executable_path`, RECIPES §1) against a live server on its own
database, one per test process (pytest-xdist worker) and shared by its browser tests; each test has a browser
context of its own (pytest-playwright's `page`) and logs in through tests/browser/support.py.

What the tests of a process share is the server and its data: the demo users among them. A logout ends every
session of its user (app/auth/routes.py), and so does a change of role, enti, password or status. A request
of the test before may still be running on the threaded server when the next test starts (a page closed at
teardown does not stop the server's work on what it sent, and the server is slow under load): the next test
waits until the server has answered everything it was sent (`_live_server_idle`)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import _create_database, _drop_database, build_app, migrate_and_seed


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    return {**browser_type_launch_args, "executable_path": chromium, "args": ["--disable-gpu"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "it-IT", "viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="session")
def live_app(pg_server: str, redis_settings: dict, tmp_path_factory: pytest.TempPathFactory):
    url = _create_database(pg_server, "esattoria_browser")
    # a file store of its own: the store is content-addressed, and another test's deletion or purge of the
    # same content (same path) must not take a file this database still names
    app = build_app(url, **redis_settings, FILE_STORE=str(tmp_path_factory.mktemp("browser-files")))
    migrate_and_seed(app)
    yield app
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    _drop_database(url)


class InFlight:
    """WSGI middleware counting the requests the live server is working on (body sent included)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        with self.lock:
            self.count += 1
        try:
            yield from self.app(environ, start_response)
        finally:
            with self.lock:
                self.count -= 1

    def wait_idle(self, timeout: float = 60) -> int:
        """Wait until no request is being served (at most `timeout` seconds); the number still running."""
        deadline = time.monotonic() + timeout
        while self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.count


@pytest.fixture(scope="session")
def live_server(live_app) -> InFlight:
    return InFlight(live_app)


@pytest.fixture(autouse=True)
def _live_server_idle(request: pytest.FixtureRequest) -> None:
    """A browser test starts when the live server has finished the requests of the tests before it (a late
    logout of a demo user, say, would end the session this test is about to open)."""
    if "live_server" in request.fixturenames or "base_url" in request.fixturenames:
        server: InFlight = request.getfixturevalue("live_server")
        still = server.wait_idle()
        assert still == 0, f"il server di prova serve ancora {still} richieste del test precedente"


@pytest.fixture(scope="session")
def base_url(live_server: InFlight) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
