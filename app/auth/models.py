"""Users (staff, Regione, taxpayers) and API clients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.access import linked, register_scope
from app.core.db import Base, CreatedMixin, JsonDoc, UTCDateTime

user_enti = sa.Table(
    "user_enti",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("ente_id", sa.ForeignKey("enti.id"), primary_key=True),
)


class User(UserMixin, CreatedMixin, Base):
    __tablename__ = "users"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Second factor (staff roles)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enrolled: Mapped[bool] = mapped_column(default=False)
    # the last accepted TOTP time step: a code is good once (no replay within its window)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Login sessions carry the generation they started with; a bump ends them all (app/core/security.py)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Throttling
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_login_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Scope: a taxpayer account sees its own taxpayer only; staff see their enti.
    taxpayer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxpayers.id"))

    enti = relationship("Ente", secondary=user_enti, order_by="Ente.code")

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('admin','backoffice','sportello','callcenter','regione','contribuente')", name="role"
        ),
    )

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    @property
    def role_label(self) -> str:
        from app.core.access import ROLE_LABELS

        return ROLE_LABELS[self.role]


# A change of these ends every login session of the user (a copied cookie keeps none of the old rights).
SESSION_ENDING_CHANGES = ("password_hash", "role", "active", "totp_secret", "enti")


@event.listens_for(Session, "before_flush")
def _end_sessions_on_sensitive_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if not isinstance(obj, User):
            continue
        attrs = inspect(obj).attrs
        sensitive = any(attrs[name].history.has_changes() for name in SESSION_ENDING_CHANGES)
        if sensitive and not attrs.session_generation.history.has_changes():
            obj.session_generation = (obj.session_generation or 0) + 1


class ApiToken(CreatedMixin, Base):
    """A bearer token for one of the Regione's systems: bound to one ente and to named scopes."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    scopes: Mapped[list[str]] = mapped_column(JsonDoc)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    ente = relationship("Ente")


# Who sees what (app.core.access): a user belongs to the enti of user_enti, an API token to its ente.
register_scope(User, ente=linked(user_enti.c.user_id, user_enti.c.ente_id))
register_scope(ApiToken, ente=ApiToken.ente_id)
