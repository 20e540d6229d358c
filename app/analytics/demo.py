"""Demo data of the analytics slice: the dashboards' summary computed once, and one saved query shared with
the Regione's role (idempotent; a few milliseconds on the demo world)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

DEMO_QUERY = "Residuo per entrata e anno"


def seed_analytics_demo(session: Session, today: dt.date | None = None) -> None:
    from app.analytics.models import SavedQuery
    from app.analytics.summary import rebuild
    from app.auth.models import User

    rebuild(session, today or dt.date.today())
    owner = session.scalars(sa.select(User).where(User.username == "regione")).first()
    if owner is None or session.scalars(sa.select(SavedQuery).where(SavedQuery.name == DEMO_QUERY)).first():
        return
    session.add(
        SavedQuery(
            name=DEMO_QUERY,
            owner_id=owner.id,
            shared_role="regione",
            dataset="posizioni",
            spec={
                "dataset": "posizioni",
                "columns": [],
                "group": ["entrata", "anno"],
                "measures": ["count", "sum:carico", "sum:residuo"],
                "filters": [],
            },
        )
    )
    session.flush()
