"""What every benchmark needs before it measures: a throw-away database on DATABASE_URL's server (else a
throw-away PostgreSQL cluster, tests/pgtmp.py), migrated and seeded with the demo world exactly as the test
suite does (tests/conftest.py), Redis from REDIS_URL (else an embedded one in a temporary folder), a file
store of its own; the database is dropped at the end (BENCH_KEEP=1 keeps it for a look)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import _admin, build_app, migrate_and_seed
from tests.pgtmp import server_from_env


@dataclass(frozen=True)
class Bench:
    app: Any  # the Flask app on the throw-away database
    url: str  # the database's URL
    instance: str  # a temporary folder: the embedded Redis (when REDIS_URL is unset) and the file store
    store: str  # the app's file store


@contextlib.contextmanager
def server(say: Callable[[str], None]) -> Iterator[str]:
    where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "throw-away cluster (tests/pgtmp.py)"
    say(f"server: {where}")
    with server_from_env() as url:
        yield url


@contextlib.contextmanager
def seeded_app(name: str, say: Callable[[str], None], **overrides: Any) -> Iterator[Bench]:
    """`bench_<name>_<pid>`, migrated and seeded; the app built with `overrides` on top."""
    with server(say) as server_url, tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as instance:
        database = f"bench_{name}_{os.getpid()}"
        _admin(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _admin(server_url, f'CREATE DATABASE "{database}"')
        url = sa.make_url(server_url).set(database=database).render_as_string(hide_password=False)
        store = str(Path(instance) / "files")
        try:
            redis = (
                {"REDIS_URL": os.environ["REDIS_URL"]}
                if os.environ.get("REDIS_URL")
                else {"REDIS_URL": None, "INSTANCE_DIR": instance}
            )
            app = build_app(url, **{"FILE_STORE": store, **redis, **overrides})
            started = time.perf_counter()
            migrate_and_seed(app)
            say(f"migrated and seeded in {time.perf_counter() - started:.1f} s")
            yield Bench(app, url, instance, store)
            from app.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        finally:
            if os.environ.get("BENCH_KEEP"):
                say(f"kept database {database}")
            else:
                _admin(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                say(f"dropped database {database}")
