"""A fixed-window rate limit on Redis, shared by every web node (no in-process state)."""

from __future__ import annotations

import time

from app.core.jobs import connection


def allow(bucket: str, client: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit of `client` in `bucket`; False once it exceeds `limit` in the current window."""
    window = int(time.time() // window_seconds)
    key = f"esattoria:ratelimit:{bucket}:{client}:{window}"
    conn = connection()
    pipe = conn.pipeline()
    pipe.incr(key)
    pipe.expire(key, window_seconds * 2)
    hits, _ = pipe.execute()
    return int(hits) <= limit
