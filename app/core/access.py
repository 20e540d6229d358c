"""Roles, permissions and the one per-ente scoping helper every taxpayer-data query goes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

ROLE_LABELS: dict[str, str] = {
    "admin": "Amministratore",
    "backoffice": "Back office",
    "sportello": "Sportello",
    "callcenter": "Call center",
    "regione": "Regione",
    "contribuente": "Contribuente",
}
STAFF_ROLES = frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "taxpayer.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "taxpayer.edit": frozenset({"admin", "backoffice", "sportello"}),
    "position.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "archive.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "archive.write": frozenset({"admin", "backoffice", "sportello"}),
    "export": frozenset({"admin", "backoffice", "sportello", "regione"}),
    "carichi.import": frozenset({"admin", "backoffice"}),
    "admin.users": frozenset({"admin"}),
    "admin.tokens": frozenset({"admin"}),
    "self_service": frozenset({"contribuente"}),
}

API_SCOPES: dict[str, str] = {
    "positions:read": "Lettura posizioni e contribuenti",
    "carichi:write": "Invio liste di carico",
    "payments:write": "Invio flussi di pagamento",
    "jobs:read": "Stato delle elaborazioni",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, reduced to what scoping needs: enti in scope, or one taxpayer (self-service)."""

    role: str
    ente_ids: frozenset[int]
    taxpayer_id: int | None = None
    user_id: int | None = None
    api_token_id: int | None = None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


def principal_of(user: Any) -> Principal:
    return Principal(
        role=user.role,
        ente_ids=frozenset(e.id for e in user.enti),
        taxpayer_id=user.taxpayer_id,
        user_id=user.id,
    )


def current_principal() -> Principal:
    return principal_of(current_user)


F = TypeVar("F", bound=Callable[..., Any])


def permission_required(permission: str) -> Callable[[F], F]:
    """Role check on the server: 401 flow for anonymous users, 403 for a role without the permission."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from app.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in PERMISSIONS[permission]:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# --- the scoping helper ---------------------------------------------------------------------------------


def scoped(stmt: sa.Select, entity: Any, principal: Principal) -> sa.Select:
    """Restrict `stmt` (which selects from `entity`) to what `principal` may see.

    The only place where per-ente visibility is decided. Positions and everything hanging off a position
    carry `ente_id`; a taxpayer is visible when linked to one of the principal's enti; a taxpayer account
    sees itself only. Unknown entities are refused rather than left unscoped.
    """
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer, TaxpayerEnte

    if principal.role == "contribuente":
        if principal.taxpayer_id is None:
            return stmt.where(sa.false())
        if entity is Taxpayer:
            return stmt.where(Taxpayer.id == principal.taxpayer_id)
        if entity is Position:
            return stmt.where(Position.taxpayer_id == principal.taxpayer_id)
        if entity is Movement:
            return stmt.where(
                Movement.position_id.in_(
                    sa.select(Position.id).where(Position.taxpayer_id == principal.taxpayer_id)
                )
            )
        raise LookupError(f"no scoping rule for {entity!r} and taxpayer accounts")

    ente_ids = sorted(principal.ente_ids)
    if entity is Taxpayer:
        return stmt.where(
            sa.exists().where(TaxpayerEnte.taxpayer_id == Taxpayer.id, TaxpayerEnte.ente_id.in_(ente_ids))
        )
    if entity is Position:
        return stmt.where(Position.ente_id.in_(ente_ids))
    if entity is Movement:
        return stmt.where(
            Movement.position_id.in_(sa.select(Position.id).where(Position.ente_id.in_(ente_ids)))
        )
    ente_col = getattr(entity, "ente_id", None)
    if ente_col is not None:
        return stmt.where(ente_col.in_(ente_ids))
    raise LookupError(f"no scoping rule for {entity!r}")
