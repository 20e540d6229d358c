"""The timeline (`Event`: every operation on a taxpayer or position) and `AccessLog`
(every read of a taxpayer card)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.access import register_scope, through
from app.core.db import Base, JsonDoc, UTCDateTime, insert_rows, utcnow

EVENT_KINDS: dict[str, str] = {
    "taxpayer.created": "Contribuente registrato",
    "taxpayer.updated": "Anagrafica aggiornata",
    "address.changed": "Indirizzo variato",
    "contact.changed": "Recapito variato",
    "position.loaded": "Posizione caricata",
    "position.state_changed": "Cambio di stato",
    "position.abated": "Sgravio",
    "position.suspended": "Sospensione",
    "position.suspension_revoked": "Revoca della sospensione",
    "payment.allocated": "Pagamento imputato",
    "payment.reversed": "Pagamento stornato",
    "payment.revocation_withdrawn": "Revoca del pagamento ritirata",
    "payment.refunded": "Rimborso eseguito",
    "act.issued": "Atto emesso",
    "act.notified": "Atto notificato",
    "contact.logged": "Contatto registrato",
    "contact.recorded": "Contatto registrato",
    "appointment.booked": "Appuntamento prenotato",
    "appointment.cancelled": "Appuntamento annullato",
    "document.linked": "Documento collegato",
    "document.filed": "Documento protocollato",
    "document.link_proposed": "Collegamento di un documento proposto",
    "document.unlinked": "Collegamento di un documento rimosso",
    "document.downloaded": "Documento scaricato",
    "document.deleted": "Documento eliminato",
    "parameter.added": "Nuovo periodo di un parametro normativo",
    "parameter.verified": "Parametro normativo verificato",
    "parameter.proposed": "Nuovo periodo di un parametro normativo proposto",
    "parameter.approved": "Nuovo periodo di un parametro normativo approvato",
    "parameter.rejected": "Nuovo periodo di un parametro normativo respinto",
    "user.created": "Utente creato",
    "user.updated": "Utente modificato",
    "user.disabled": "Utente disattivato",
    "user.enabled": "Utente riattivato",
    "user.totp_reset": "Secondo fattore azzerato",
    "user.password_reset": "Password reimpostata",
    "plan.requested": "Rateazione richiesta",
    "plan.approved": "Richiesta di rateazione approvata",
    "plan.refused": "Richiesta di rateazione respinta",
    "plan.first_approval": "Rateazione: prima approvazione (quattro occhi)",
    "plan.started": "Piano rateale attivo",
    "plan.installment_paid": "Rata pagata",
    "plan.sollecito": "Sollecito delle rate non pagate",
    "plan.decadenza": "Decadenza dalla rateazione",
    "plan.completed": "Piano rateale pagato",
    "plan.amounts_fixed": "Importi fissati dal piano rateale",
    "plan.extended": "Proroga del piano rateale",
    "plan.annulled": "Piano rateale annullato",
    "selfservice.login": "Accesso con SPID/CIE",
    "selfservice.login_refused": "Accesso con SPID/CIE rifiutato",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does an operation: a user, an API client or the system (jobs, imports)."""

    user_id: int | None
    label: str
    api_token_id: int | None = None

    @classmethod
    def system(cls, label: str = "sistema") -> Actor:
        return cls(user_id=None, label=label)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    occurred_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ente_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enti.id"))
    taxpayer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxpayers.id"))
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    summary: Mapped[str] = mapped_column(sa.String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)

    __table_args__ = (
        sa.Index("ix_events_taxpayer_occurred", "taxpayer_id", "occurred_dt"),
        sa.Index("ix_events_position_occurred", "position_id", "occurred_dt"),
    )

    @property
    def kind_label(self) -> str:
        return EVENT_KINDS.get(self.kind, self.kind)

    @property
    def actor_name(self) -> str:
        return self.actor_label


class AccessLog(Base):
    """GDPR accountability: who read which taxpayer's data, when, through which screen or API."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    accessed_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    api_token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"))
    action: Mapped[str] = mapped_column(sa.String(60))
    taxpayer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


# Who sees what (app.core.access): an event belongs to the ente it happened for; a read of a card goes with
# the taxpayer it read.
register_scope(Event, ente=Event.ente_id)
register_scope(AccessLog, ente=through(AccessLog.taxpayer_id))


def record_event(
    session: Session,
    actor: Actor,
    kind: str,
    summary: str,
    *,
    taxpayer_id: int | None = None,
    position_id: int | None = None,
    ente_id: int | None = None,
    payload: dict[str, Any] | None = None,
    occurred_dt: dt.datetime | None = None,
) -> Event:
    event = Event(
        **event_row(
            actor,
            kind,
            summary,
            taxpayer_id=taxpayer_id,
            position_id=position_id,
            ente_id=ente_id,
            payload=payload,
            occurred_dt=occurred_dt,
        )
    )
    session.add(event)
    return event


def event_row(
    actor: Actor,
    kind: str,
    summary: str,
    *,
    taxpayer_id: int | None = None,
    position_id: int | None = None,
    ente_id: int | None = None,
    payload: dict[str, Any] | None = None,
    occurred_dt: dt.datetime | None = None,
) -> dict[str, Any]:
    """The columns of an event (`record_event` makes one row; `record_events` writes many at once)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    return {
        "kind": kind,
        "summary": summary,
        "taxpayer_id": taxpayer_id,
        "position_id": position_id,
        "ente_id": ente_id,
        "actor_user_id": actor.user_id,
        "actor_label": actor.label,
        "payload": payload or {},
        "occurred_dt": occurred_dt or utcnow(),
    }


def record_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many events (`event_row`s) in one executemany INSERT (a campaign's chunk)."""
    insert_rows(session, Event.__table__, rows)


def log_access(
    session: Session,
    actor: Actor,
    action: str,
    *,
    taxpayer_id: int | None,
    remote_addr: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AccessLog(
            user_id=actor.user_id,
            api_token_id=actor.api_token_id,
            action=action,
            taxpayer_id=taxpayer_id,
            remote_addr=remote_addr,
            detail=detail or {},
        )
    )
