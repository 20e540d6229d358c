"""Authentication: argon2 passwords, throttling, TOTP second factor, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyotp.utils import strings_equal
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, User
from app.core.access import API_SCOPES, STAFF_ROLES
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.jobs import connection
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

    1. Locked name (too many failures): refuse with 429 until the lock expires, whatever the password.
    2. Unknown or disabled user: verify against a dummy hash (constant time) and refuse.
    3. Wrong password: count the failure; the `max_failures`-th locks the name for `lock_minutes`.
    4. Right password: reset the counter; say whether a second factor (or its enrolment) is still due.

    An unknown name answers exactly as an existing one (same messages, statuses and lock): its failures are
    counted too, in Redis since there is no row to keep them, so the answers never tell which users exist.
    """
    now = now or utcnow()
    user = session.scalars(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    ).first()
    if user is None or not user.active:
        raise _refusal_of_unknown(
            username, password, now, max_failures=max_failures, lock_minutes=lock_minutes
        )
    if user.locked_until is not None and user.locked_until > now:
        raise _locked_until(user.locked_until)
    if not password_matches(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            raise _locked_now(lock_minutes)
        raise _wrong_credentials()
    user.failed_logins = 0
    user.locked_until = None
    second_factor = totp_required and user.role in STAFF_ROLES
    return LoginOutcome(
        user=user,
        needs_totp=second_factor and user.totp_enrolled,
        needs_enrolment=second_factor and not user.totp_enrolled,
    )


def _wrong_credentials() -> LoginRefused:
    return LoginRefused("Nome utente o password non corretti.")


def _locked_now(lock_minutes: int) -> LoginThrottled:
    return LoginThrottled(f"Troppi tentativi non riusciti: account bloccato per {lock_minutes} minuti.")


def _locked_until(until: dt.datetime) -> LoginThrottled:
    return LoginThrottled(
        "Troppi tentativi non riusciti: account bloccato temporaneamente. "
        f"Riprova dopo le {until.astimezone(_rome()).strftime('%H:%M')}."
    )


UNKNOWN_FAILURES_TTL = 86_400  # seconds an unknown name's failure count is kept (a user row keeps it forever)


def _unknown_keys(username: str) -> tuple[str, str]:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    prefix = "esattoria:ratelimit:login-unknown"
    return f"{prefix}-failures:{digest}", f"{prefix}-locked:{digest}"


def _refusal_of_unknown(
    username: str, password: str, now: dt.datetime, *, max_failures: int, lock_minutes: int
) -> LoginRefused | LoginThrottled:
    """The answer of `authenticate` for a name with no active user, step by step the same as for a user."""
    failures_key, locked_key = _unknown_keys(username)
    redis = connection()
    locked = redis.get(locked_key)
    if locked is not None and float(locked) > now.timestamp():
        return _locked_until(dt.datetime.fromtimestamp(float(locked), dt.UTC))
    password_matches(_DUMMY_HASH, password)
    failures = int(redis.incr(failures_key))
    redis.expire(failures_key, UNKNOWN_FAILURES_TTL)
    if failures >= max_failures:
        until = now + dt.timedelta(minutes=lock_minutes)
        redis.set(locked_key, str(until.timestamp()), ex=lock_minutes * 60 + 60)
        redis.delete(failures_key)
        return _locked_now(lock_minutes)
    return _wrong_credentials()


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


def verify_totp(
    session: Session,
    user: User,
    code: str,
    *,
    now: dt.datetime | None = None,
    confirm_enrolment: bool = False,
) -> None:
    """Accept a code of the previous, current or next 30-second step, once: the step it belongs to becomes
    the user's last accepted step, and a code of that step or an earlier one is refused (no replay, R-B1).

    The step is claimed with one conditional UPDATE, so two requests racing with the same code cannot both
    pass: the second waits for the first's row lock and then finds the step taken."""
    now = now or utcnow()
    code = code.strip()
    if not user.totp_secret:
        raise LoginRefused("Codice di verifica non valido.")
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    steps = (current - 1, current, current + 1)
    matched = [step for step in steps if strings_equal(totp.generate_otp(step), code)]
    if not matched:
        raise LoginRefused("Codice di verifica non valido.")
    step = matched[0]
    claimed = session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    if claimed.rowcount != 1:
        raise LoginRefused("Codice di verifica già usato: attendere il codice successivo dell'app.")
    if confirm_enrolment:
        user.totp_enrolled = True


def end_sessions(user: User) -> None:
    """End every login session of `user` (each carries the generation it started with)."""
    user.session_generation = (user.session_generation or 0) + 1


API_TOKEN_TOUCH_SECONDS = 60  # `last_used_dt` is kept to the minute: one small write per token and minute


def touch_api_token(session: Session, token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Record that `token` was used now; True when there is something to commit."""
    now = now or utcnow()
    last = token.last_used_dt
    if last is not None and (now - last).total_seconds() < API_TOKEN_TOUCH_SECONDS:
        return False
    session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(last_used_dt=now))
    return True


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


def api_tokens_of(session: Session, ente_ids: frozenset[int]) -> list[ApiToken]:
    """The tokens of the given enti (an administrator manages those of their own enti only)."""
    return list(
        session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.ente_id.in_(sorted(ente_ids)))
            .order_by(ApiToken.created_dt.desc())
        )
    )


def api_token_of(session: Session, ente_ids: frozenset[int], token_id: int) -> ApiToken | None:
    return session.scalars(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.ente_id.in_(sorted(ente_ids)))
    ).first()


def revoke_api_token(token: ApiToken, now: dt.datetime | None = None) -> None:
    if token.revoked_dt is None:
        token.revoked_dt = now or utcnow()
