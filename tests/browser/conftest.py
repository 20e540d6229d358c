"""Playwright on Debian's chromium (`executable_path`, RECIPES §1) against a live server on its own
database."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

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


@pytest.fixture(scope="session")
def base_url(live_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
