"""A fixed-window rate limit on Redis, shared by every web node (no in-process state)."""

from __future__ import annotations

import time

from app.core.jobs import connection


def _key(bucket: str, client: str, window_seconds: int) -> str:
    return f"esattoria:ratelimit:{bucket}:{client}:{int(time.time() // window_seconds)}"


def allow(bucket: str, client: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit of `client` in `bucket`; False once it exceeds `limit` in the current window."""
    return record(bucket, client, window_seconds=window_seconds) <= limit


def record(bucket: str, client: str, *, window_seconds: int = 60) -> int:
    """Count one hit (e.g. a failed login) and return the hits of the current window."""
    pipe = connection().pipeline()
    key = _key(bucket, client, window_seconds)
    pipe.incr(key)
    pipe.expire(key, window_seconds * 2)
    hits, _ = pipe.execute()
    return int(hits)


def exhausted(bucket: str, client: str, *, limit: int, window_seconds: int = 60) -> bool:
    """True when `client` already has `limit` hits in the current window (nothing is counted)."""
    return int(connection().get(_key(bucket, client, window_seconds)) or 0) >= limit
