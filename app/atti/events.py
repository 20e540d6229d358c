"""The event of something done to an act (issued, sent, notified or not): on the act's taxpayer, position and
ente, with the act's id first in its payload."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.atti.models import Act
from app.core.audit import Actor, Event, record_event


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
