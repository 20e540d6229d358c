"""Request-level security: user loading, API bearer tokens, the acting user, headers."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.urls import iri_to_uri

from app.core.audit import Actor
from app.core.db import utcnow

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)

TOKEN_PREFIX = "esa_"  # nosec B105 (the public prefix of every token, not a secret)

if TYPE_CHECKING:
    from app.auth.models import User

# What a login session carries besides Flask-Login's keys (all times are epoch seconds, UTC).
# The idle stamp moves at most once a minute: a request that changes nothing in the session sends no cookie
# back (SESSION_REFRESH_EACH_REQUEST off), so a fragment or an icon fetched while a form posts cannot answer
# with the older cookie and overwrite the one carrying the form's message.
SEEN_STEP_SECONDS = 60
SESSION_GENERATION = "_gen"  # the user's session generation at login: a bump ends every older session
SESSION_AUTH_AT = "_auth_at"  # when the password (and second factor) were given: the absolute lifetime
SESSION_SEEN_AT = "_seen_at"  # the last request: the idle timeout
CLOCK_SKEW_SECONDS = 60  # web nodes' clocks may differ a little: a stamp this far in the future still counts


def clock() -> dt.datetime:
    """Now, in UTC: the one clock of session lifetimes and TOTP steps (tests patch it, never sleep)."""
    return utcnow()


def hash_token(token: str) -> str:
    """API tokens are 256-bit random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its public prefix (shown in lists to tell tokens apart)."""
    prefix = secrets.token_hex(4)
    return f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def local_path(target: str | None) -> str | None:
    """`target` as the Location a redirect would send, if that is a path of this site; else None.

    The check runs on the normalised form, the one Werkzeug writes into the header (`iri_to_uri`, which
    drops tabs and newlines as browsers do): "/\t/host" would become "//host", another host to a browser, and
    a newline cannot go into a header at all. Control characters are refused outright, "//host" and
    "/\\host" are other hosts, and anything with a scheme or a host is not a local path."""
    if not target or "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    try:
        uri = iri_to_uri(target)
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not uri.startswith("/") or uri.startswith("//"):
        return None
    return uri


def session_claims(user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """The keys a fresh login session starts with (see `session_is_current`)."""
    stamp = int((now or clock()).timestamp())
    return {SESSION_GENERATION: user.session_generation, SESSION_AUTH_AT: stamp, SESSION_SEEN_AT: stamp}


def session_is_current(
    sess: MutableMapping[str, Any],
    user: User,
    *,
    now: dt.datetime,
    idle_seconds: int,
    absolute_seconds: int,
) -> bool:
    """A login session is valid while (1) the user's session generation has not moved since the login
    (logout, a password, role, ente or status change bump it: every session of the user ends, whoever holds
    a copy of the cookie), (2) less than `absolute_seconds` have passed since the login, however busy the
    session, and (3) less than `idle_seconds` since its last request. The cookie is signed, so a client
    cannot move these values; a replayed older copy only carries older ones."""
    keys = (SESSION_GENERATION, SESSION_AUTH_AT, SESSION_SEEN_AT)
    generation, auth_at, seen_at = (sess.get(key) for key in keys)
    if not all(isinstance(v, int) for v in (generation, auth_at, seen_at)):
        return False
    stamp = int(now.timestamp())
    return (
        generation == user.session_generation
        and -CLOCK_SKEW_SECONDS <= stamp - auth_at < absolute_seconds
        and -CLOCK_SKEW_SECONDS <= stamp - seen_at < idle_seconds
    )


def current_actor() -> Actor:
    token = g.get("api_token")
    if token is not None:
        return Actor(user_id=None, label=f"API: {token.name}", api_token_id=token.id)
    if current_user.is_authenticated:
        return Actor(user_id=current_user.id, label=current_user.display_name)
    return Actor.system("anonimo")


def register(app: Flask) -> None:
    from app.auth.models import ApiToken, User
    from app.extensions import db, login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Accedi per continuare."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """The user of a login session, or None (anonymous, and the session dropped) once it has ended."""
        try:
            # with its enti (one statement: every request builds its Principal from them)
            user = db.session.get(User, int(user_id), options=[joinedload(User.enti)])
        except (TypeError, ValueError):
            user = None
        now = clock()
        if (
            user is None
            or not user.active
            or not session_is_current(
                session,
                user,
                now=now,
                idle_seconds=int(app.permanent_session_lifetime.total_seconds()),
                absolute_seconds=int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600,
            )
        ):
            session.clear()
            return None
        stamp = int(now.timestamp())
        if stamp - int(session.get(SESSION_SEEN_AT, 0)) >= SEEN_STEP_SECONDS:
            session[SESSION_SEEN_AT] = stamp
        return user

    @app.before_request
    def identify() -> None:
        g.api_token = None
        if request.endpoint == "static":
            return  # a stylesheet or an icon is not activity: it loads no user, renews no session
        header = request.headers.get("Authorization", "")
        if request.path.startswith("/api/") and header.startswith("Bearer "):
            token = db.session.scalars(
                sa.select(ApiToken).where(
                    ApiToken.token_hash == hash_token(header[7:].strip()), ApiToken.revoked_dt.is_(None)
                )
            ).first()
            g.api_token = token
            g.api_token_invalid = token is None
        db.session.info["actor_id"] = current_user.id if current_user.is_authenticated else None

    @app.after_request
    def security_headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("APP_ENV") == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint and not request.endpoint.endswith("static"):
            headers.setdefault("Cache-Control", "no-store")
        return response
