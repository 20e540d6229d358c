"""The event of something done to an act (issued, sent, notified or not): on the act's taxpayer, position and
ente, with the act's id first in its payload."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.atti.models import Act, ActType
from app.core.audit import Actor, Event, event_row, record_event
from app.positions.models import Position
from app.reports.formatting import format_eur


def record_act_event(
    session: Session, actor: Actor, act: Act, kind: str, summary: str, **payload: Any
) -> Event:
    return record_event(
        session,
        actor,
        kind,
        summary,
        taxpayer_id=act.taxpayer_id,
        position_id=act.position_id,
        ente_id=act.ente_id,
        payload={"act": act.id, **payload},
    )


def issued_event_row(
    actor: Actor,
    act_type: ActType,
    position: Position,
    *,
    act_id: int,
    protocol: str,
    document_id: int,
    notice_number: str | None,
    prepared: Any,
    campaign_id: int | None,
) -> dict[str, Any]:
    """The `act.issued` event's row, the same for one act (`issue_act`) and a campaign's chunk
    (app/atti/bulk.py); `prepared` is the act's `atti.services.Prepared`."""
    return event_row(
        actor,
        "act.issued",
        f"{act_type.name} prot. {protocol} emesso: {format_eur(prepared.amount_cents)}",
        taxpayer_id=position.taxpayer_id,
        position_id=position.id,
        ente_id=position.ente_id,
        payload={
            "act": act_id,
            "type": act_type.code,
            "protocol": protocol,
            "document": document_id,
            "notice_number": notice_number,
            "amount_due_cents": prepared.amount_cents,
            "template": prepared.template.id,
            "template_version": prepared.template.version,
            "campaign": campaign_id,
        },
    )
