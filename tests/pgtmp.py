"""A throw-away PostgreSQL cluster for the test session (RECIPES §2): works as root (runs the binaries as the
`postgres` user) and as an ordinary user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def pg_bin() -> str:
    found = os.environ.get("PGBIN") or (sorted(glob.glob("/usr/lib/postgresql/*/bin")) or [""])[-1]
    if not found or not os.path.exists(os.path.join(found, "initdb")):
        raise RuntimeError(
            "PostgreSQL binaries not found: run `make test` (it installs them with apt) "
            "or set TEST_DATABASE_URL"
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temp_postgres() -> Iterator[str]:
    binaries = pg_bin()
    root = tempfile.mkdtemp(prefix="esattoria-pg-")
    kw: dict = {"cwd": root, "check": True, "capture_output": True}
    if os.geteuid() == 0:  # initdb refuses root: run as 'postgres'
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        kw.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], env={**os.environ, "HOME": root})
    data, port = os.path.join(root, "data"), _free_port()
    subprocess.run(
        [
            f"{binaries}/initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        **kw,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F -c full_page_writes=off"
    subprocess.run([f"{binaries}/pg_ctl", "-D", data, "-l", f"{root}/log", "-w", "-o", opts, "start"], **kw)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([f"{binaries}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], **kw)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def server_from_env(variable: str = "DATABASE_URL") -> Iterator[str]:
    """The server named by the environment variable, else a throw-away cluster (benchmarks use this)."""
    url = os.environ.get(variable)
    if url:
        yield url
        return
    with temp_postgres() as url:
        yield url
