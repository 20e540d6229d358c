"""A little demo data for the "Provvedimenti" screens: a partial sgravio ordered by the Regione and a
suspension for a ricorso, on two open positions of random demo taxpayers (never the fixed ones the tests and
the README name), through the services. Called once, when the demo world is created."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import scoped
from app.core.audit import Actor
from app.dynamics.common import MeasureRequest
from app.dynamics.sgravio import abate
from app.dynamics.sospensione import suspend
from app.positions.models import Position
from app.positions.services import system_principal
from app.taxpayers.models import Taxpayer


def seed_dynamics_demo(session: Session, fixed_cfs: tuple[str, ...], today: dt.date) -> int:
    actor = Actor.system("dati demo")
    fixed = sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale.in_(fixed_cfs))
    stmt = (
        sa.select(Position)
        .where(Position.state == "caricata", Position.taxpayer_id.not_in(fixed))
        .order_by(Position.id.desc())
        .limit(2)
    )
    positions = list(session.scalars(scoped(stmt, Position, system_principal(session))))
    if len(positions) < 2:
        return 0
    day = min(today, dt.date(2026, 3, 31))
    abate(
        session,
        actor,
        positions[0],
        {"capitale": 1000},
        MeasureRequest(
            reason="Riduzione parziale in autotutela",
            ordered_by="regione",
            act_number="DEMO-1/2026",
            act_date=day,
        ),
        today=today,
    )
    suspend(
        session,
        actor,
        positions[1],
        "ricorso",
        MeasureRequest(
            reason="Ricorso presentato alla Corte di giustizia tributaria", ordered_by="gestore", act_date=day
        ),
        today=today,
    )
    return 2
