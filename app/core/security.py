"""Request-level security: user loading, API bearer tokens, the acting user, headers."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, request
from flask_login import current_user

from app.core.audit import Actor
from app.core.db import utcnow

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)

TOKEN_PREFIX = "esa_"


def hash_token(token: str) -> str:
    """API tokens are 256-bit random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its public prefix (shown in lists to tell tokens apart)."""
    prefix = secrets.token_hex(4)
    return f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def local_path(target: str | None) -> str | None:
    """`target` if it is a path of this site, else None: a redirect never leaves the site ("//host" and
    "/\\host" are other hosts to a browser)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


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
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @app.before_request
    def identify() -> None:
        g.api_token = None
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

    @app.before_request
    def touch_token() -> None:
        token = g.get("api_token")
        if token is not None:
            token.last_used_dt = utcnow()
