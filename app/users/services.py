"""Use cases of user administration. Never commits; every change is an event (who, when, what) and the users
table keeps its versions (`User.__versioned__`).

An administrator manages the staff accounts of their own enti only: a user is in reach when every ente it has
is one of the administrator's (a user of another ente too is not theirs to change), and the enti given must be
among the administrator's.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.services import end_sessions, hash_password
from app.core.access import ROLE_LABELS, STAFF_ROLES, Principal
from app.core.audit import Actor, record_event
from app.core.errors import Conflict, DomainError
from app.enti.models import Ente

TEMPORARY_PASSWORD_BYTES = 12  # 16 URL-safe characters, shown once


@dataclass(frozen=True, slots=True)
class NewUser:
    user: User
    password: str  # the temporary password, shown once to the administrator


def _enti(session: Session, principal: Principal, ente_ids: Collection[int]) -> list[Ente]:
    wanted = set(ente_ids)
    if not wanted:
        raise DomainError("Enti: assegna almeno un ente.", field="ente_ids")
    outside = wanted - principal.ente_ids
    if outside:
        raise DomainError("Enti: puoi assegnare soltanto gli enti che amministri.", field="ente_ids")
    return list(session.scalars(sa.select(Ente).where(Ente.id.in_(wanted)).order_by(Ente.code)))


def _role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise DomainError(f"Ruolo non ammesso: {role}.", field="role")
    return role


def _event(session: Session, actor: Actor, kind: str, user: User, summary: str, **payload: object) -> None:
    record_event(
        session,
        actor,
        kind,
        summary,
        ente_id=user.enti[0].id if user.enti else None,
        payload={"user_id": user.id, "username": user.username, **payload},
    )


def create_user(
    session: Session,
    principal: Principal,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    email: str | None,
    role: str,
    ente_ids: Collection[int],
) -> NewUser:
    """A staff account with a temporary password (shown once); the second factor comes at first login."""
    username = username.strip().lower()
    if session.scalar(sa.select(sa.func.count()).select_from(User).where(User.username == username)):
        raise Conflict(f"Nome utente già in uso: {username}.", field="username")
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=(email or "").strip() or None,
        role=_role(role),
        password_hash=hash_password(password),
    )
    user.enti = _enti(session, principal, ente_ids)
    session.add(user)
    session.flush()
    _event(
        session,
        actor,
        "user.created",
        user,
        f"Utente {username} creato ({ROLE_LABELS[role]})",
        role=role,
        enti=[e.code for e in user.enti],
    )
    return NewUser(user, password)


def update_user(
    session: Session,
    principal: Principal,
    actor: Actor,
    user: User,
    *,
    display_name: str,
    email: str | None,
    role: str,
    ente_ids: Collection[int],
) -> None:
    """Name, e-mail, role and enti; a change of role or enti ends the user's sessions (auth.models)."""
    if user.id == actor.user_id and role != user.role:
        raise DomainError("Non puoi cambiare il tuo stesso ruolo.", field="role")
    before = {"role": user.role, "enti": [e.code for e in user.enti]}
    user.display_name = display_name.strip()
    user.email = (email or "").strip() or None
    user.role = _role(role)
    user.enti = _enti(session, principal, ente_ids)
    after = {"role": user.role, "enti": [e.code for e in user.enti]}
    _event(
        session, actor, "user.updated", user, f"Utente {user.username} modificato", before=before, after=after
    )


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    if user.id == actor.user_id and not active:
        raise DomainError("Non puoi disattivare il tuo stesso utente.")
    if user.active == active:
        return
    user.active = active  # a change of `active` ends every session of the user (auth.models)
    kind, verb = ("user.enabled", "riattivato") if active else ("user.disabled", "disattivato")
    _event(session, actor, kind, user, f"Utente {user.username} {verb}")


def reset_second_factor(session: Session, actor: Actor, user: User) -> None:
    """The user enrols a new authenticator at the next login; every open session ends now."""
    user.totp_secret = None
    user.totp_enrolled = False
    user.totp_last_step = None
    end_sessions(user)
    _event(session, actor, "user.totp_reset", user, f"Secondo fattore di {user.username} azzerato")


def reset_password(session: Session, actor: Actor, user: User) -> str:
    """A new temporary password (shown once); the lock from failed logins is lifted."""
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    _event(session, actor, "user.password_reset", user, f"Password di {user.username} reimpostata")
    return password
