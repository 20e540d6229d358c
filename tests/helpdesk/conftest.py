from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from app.helpdesk.clock import ROME


def rome(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=ROME)


def ente_id(session: Any, code: str = "R01") -> int:
    from app.enti.models import Ente

    return int(session.scalars(sa.select(Ente.id).where(Ente.code == code)).one())


def new_ticket(session: Any, *, now: dt.datetime | None = None, actor: Any = None, **fields: Any) -> Any:
    from app.core.audit import Actor
    from app.helpdesk import services

    data = {
        "ente_id": ente_id(session, fields.pop("ente", "R01")),
        "channel": "telefono",
        "urgency": "alta",
        "category": "pagamenti",
        "subject": "Pagamento pagoPA non riconciliato",
        "description": "Il contribuente ha pagato l'avviso ma la posizione risulta aperta.",
        "requester_kind": "operatore",
        "requester_name": "Operatore di prova",
        **fields,
    }
    return services.open_ticket(
        session,
        services.NewTicket(**data),
        actor or Actor(user_id=None, label="test"),
        now=now or rome(2026, 12, 14, 9),
    )


