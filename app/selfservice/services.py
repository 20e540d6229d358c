"""Use cases of the taxpayer portal. Never commit (the route does)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.access import Principal, scoped, scoped_join
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.selfservice.oidc import Identity
from app.taxpayers.models import Taxpayer, TaxpayerEnte

SOURCE = "contribuente"  # the source of every version the taxpayer records (contacts)
CONTACT_FIELDS = (("email", "E-mail"), ("cellulare", "Cellulare"), ("pec", "PEC"))


class NoPositions(DomainError):
    """No taxpayer with that codice fiscale in any ente: no account is created."""

    status = 403


def account_for(session: Session, identity: Identity) -> User:
    """The taxpayer account of a SPID/CIE identity: the existing one linked to the taxpayer with that codice
    fiscale, or a new one (role contribuente) when the taxpayer is known to some ente. The account has no
    usable password (it logs in with SPID/CIE only)."""
    from app.auth.services import hash_password

    taxpayer = session.scalars(
        sa.select(Taxpayer).where(
            Taxpayer.codice_fiscale == identity.codice_fiscale,
            sa.exists().where(TaxpayerEnte.taxpayer_id == Taxpayer.id),
        )
    ).first()
    if taxpayer is None:
        raise NoPositions("Nessuna posizione a suo nome.")
    user = session.scalars(
        sa.select(User).where(User.taxpayer_id == taxpayer.id, User.role == "contribuente").order_by(User.id)
    ).first()
    if user is not None:
        if not user.active:
            raise NoPositions("L'accesso di questo contribuente è disattivato: rivolgersi allo sportello.")
        return user
    user = User(
        username=f"cf-{taxpayer.codice_fiscale.lower()}",
        display_name=taxpayer.display_name[:200],
        email=identity.email,
        role="contribuente",
        password_hash=hash_password(secrets.token_urlsafe(32)),  # never told anyone: SPID/CIE only
        taxpayer_id=taxpayer.id,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        Actor(user_id=user.id, label=user.display_name),
        "taxpayer.updated",
        "Account dell'area riservata creato al primo accesso con SPID/CIE",
        taxpayer_id=taxpayer.id,
    )
    return user


def record_login(session: Session, user: User) -> None:
    record_event(
        session,
        Actor(user_id=user.id, label=user.display_name),
        "selfservice.login",
        "Accesso all'area riservata con SPID/CIE",
        taxpayer_id=user.taxpayer_id,
    )


def record_refusal(session: Session, code: str, message: str, taxpayer_id: int | None = None) -> None:
    record_event(
        session,
        Actor.system("accesso SPID/CIE"),
        "selfservice.login_refused",
        f"Accesso con SPID/CIE rifiutato: {message}"[:500],
        taxpayer_id=taxpayer_id,
        payload={"reason": code},
    )


def own_taxpayer(session: Session, principal: Principal) -> Taxpayer:
    taxpayer = session.scalars(scoped(sa.select(Taxpayer), Taxpayer, principal)).first()
    if taxpayer is None:
        raise DomainError("Nessun contribuente collegato a questo accesso.")
    return taxpayer


def own_enti(session: Session, principal: Principal) -> list[Any]:
    """The enti the taxpayer is known to (where they may send a document)."""
    from app.enti.models import Ente

    stmt = scoped_join(sa.select(Ente), TaxpayerEnte, TaxpayerEnte.ente_id == Ente.id, principal)
    return list(session.scalars(stmt.order_by(Ente.name)))


def update_contacts(
    session: Session, principal: Principal, actor: Actor, values: dict[str, str]
) -> list[str]:
    """A new version of each changed contact, with source "contribuente" (taxpayers keep the history).
    Returns the labels of the contacts changed."""
    from app.taxpayers.services import set_contact

    taxpayer = own_taxpayer(session, principal)
    changed = []
    for kind, label in CONTACT_FIELDS:
        value = (values.get(kind) or "").strip()
        if not value:
            continue
        if set_contact(session, actor, taxpayer, kind, value, source=SOURCE) is not None:
            changed.append(label)
    return changed


def upload_document(
    session: Session,
    principal: Principal,
    actor: Actor,
    path: Path,
    name: str,
    *,
    ente_id: int,
    subject: str | None,
    file_store: str,
) -> Any:
    """File the taxpayer's document in the archive of one of their enti (channel web, linked to them)."""
    from app.archive.services import IncomingFile, file_documents

    taxpayer = own_taxpayer(session, principal)
    ente = next((e for e in own_enti(session, principal) if e.id == ente_id), None)
    if ente is None:
        raise DomainError("Scegli uno degli enti presso cui risulti.")
    (result,) = file_documents(
        session,
        [IncomingFile(name, path)],
        ente,
        "web",
        None,
        actor,
        file_store=file_store,
        mode="jobs",
        sender=taxpayer.display_name[:250],
        subject=(subject or "").strip()[:500] or None,
        taxpayer_id=taxpayer.id,
    )
    return result
