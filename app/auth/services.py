"""Authentication: argon2 passwords, throttling, TOTP second factor, API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, User
from app.core.access import API_SCOPES, STAFF_ROLES
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.security import hash_token, new_token

_hasher = PasswordHasher()
# A hash to verify against when the username is unknown, so timing does not reveal which users exist.
_DUMMY_HASH = _hasher.hash("esattoria-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginRefused(DomainError):
    status = 401


class LoginThrottled(DomainError):
    status = 429


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    user: User
    needs_totp: bool
    needs_enrolment: bool


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    totp_required: bool,
    max_failures: int,
    lock_minutes: int,
    now: dt.datetime | None = None,
) -> LoginOutcome:
    """Check a username and password.

    1. Unknown user: verify against a dummy hash (constant time) and refuse.
    2. Locked account (too many failures): refuse with 429 until the lock expires, whatever the password.
    3. Wrong password: count the failure; the `max_failures`-th locks the account for `lock_minutes`.
    4. Right password: reset the counter; say whether a second factor (or its enrolment) is still due.
    """
    now = now or utcnow()
    user = session.scalars(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    ).first()
    if user is None or not user.active:
        password_matches(_DUMMY_HASH, password)
        raise LoginRefused("Nome utente o password non corretti.")
    if user.locked_until is not None and user.locked_until > now:
        raise LoginThrottled(
            "Troppi tentativi non riusciti: account bloccato temporaneamente. "
            f"Riprova dopo le {user.locked_until.astimezone(_rome()).strftime('%H:%M')}."
        )
    if not password_matches(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            raise LoginThrottled(
                f"Troppi tentativi non riusciti: account bloccato per {lock_minutes} minuti."
            )
        raise LoginRefused("Nome utente o password non corretti.")
    user.failed_logins = 0
    user.locked_until = None
    second_factor = totp_required and user.role in STAFF_ROLES
    return LoginOutcome(
        user=user,
        needs_totp=second_factor and user.totp_enrolled,
        needs_enrolment=second_factor and not user.totp_enrolled,
    )


def _rome() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Rome")


def record_login(user: User, now: dt.datetime | None = None) -> None:
    user.last_login_dt = now or utcnow()


def start_totp_enrolment(user: User) -> str:
    """A new secret (kept until confirmed by a valid code) and its otpauth:// URI for the QR code."""
    if not user.totp_secret or not user.totp_enrolled:
        user.totp_secret = user.totp_secret or pyotp.random_base32()
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="Esattoria")


def verify_totp(user: User, code: str, *, confirm_enrolment: bool = False) -> None:
    if not user.totp_secret or not pyotp.TOTP(user.totp_secret).verify(code.strip(), valid_window=1):
        raise LoginRefused("Codice di verifica non valido.")
    if confirm_enrolment:
        user.totp_enrolled = True


def issue_api_token(
    session: Session, *, name: str, ente_id: int, scopes: list[str], created_by_id: int | None
) -> tuple[ApiToken, str]:
    """Create a token; the clear value is returned once and never stored."""
    unknown = [s for s in scopes if s not in API_SCOPES]
    if unknown or not scopes:
        raise DomainError(f"Ambiti non validi: {', '.join(unknown) or 'nessuno'}.")
    clear, prefix = new_token()
    token = ApiToken(
        name=name,
        prefix=prefix,
        token_hash=hash_token(clear),
        ente_id=ente_id,
        scopes=scopes,
        created_by_id=created_by_id,
    )
    session.add(token)
    session.flush()
    return token, clear


def revoke_api_token(token: ApiToken, now: dt.datetime | None = None) -> None:
    if token.revoked_dt is None:
        token.revoked_dt = now or utcnow()
