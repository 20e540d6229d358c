"""The position monitor (R-A15): a position's whole life read at once — the sections registered by the slices
(`app.monitor.sections`), the amount due at a date as the engine quoted it (`app.positions.amounts`, the one
function of the amount due: never recomputed here) and the prescription date (`app.engine.deadlines`, the
entrata's regime as a parameter row, interrupted by the notified acts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.calendar import is_italian_holiday
from app.engine.deadlines import Prescription, prescription_date
from app.monitor.sections import Section, registered_sections
from app.positions.amounts import Due, amount_due
from app.positions.models import Position
from app.positions.queries import get_position
from app.positions.quotes import engine_inputs


@dataclass(slots=True)
class Monitor:
    position: Position
    on: dt.date
    due: Due
    prescription: Prescription | None
    sections: list[tuple[Section, list[dict[str, Any]]]] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return self.due.total_cents


def interruptions(session: Session, principal: Principal, position: Position) -> list[dt.date]:
    """The days prescription was interrupted: the notification of the position (its first act) and of every
    act whose type interrupts it."""
    from app.atti.models import Act, ActType

    notified = session.scalars(
        scoped(
            sa.select(Act.notified_date)
            .join(ActType, ActType.id == Act.act_type_id)
            .where(
                Act.position_id == position.id,
                Act.status == "notificato",
                Act.notified_date.is_not(None),
                ActType.interrupts_prescription.is_(True),
            ),
            Act,
            principal,
        )
    ).all()
    days = {d for d in notified if d is not None}
    if position.notified_date is not None:
        days.add(position.notified_date)
    return sorted(days)


def prescription_of(
    session: Session, principal: Principal, position: Position, on: dt.date
) -> Prescription | None:
    """None when the entrata's regime has no parameter row in force."""
    params, _ = engine_inputs(session, on, ente_id=position.ente_id, entrata_id=position.entrata_id)
    regime = params.prescription_regimes.get(position.entrata.prescription_regime)
    if regime is None:
        return None
    return prescription_date(
        regime, position.due_date, interruptions(session, principal, position), is_italian_holiday
    )


def build_monitor(session: Session, principal: Principal, position_id: int, on: dt.date) -> Monitor | None:
    """The monitor of a position the user may see (None otherwise: the route answers 404)."""
    position = get_position(session, principal, position_id)
    if position is None:
        return None
    monitor = Monitor(
        position=position,
        on=on,
        due=amount_due(session, position, on),
        prescription=prescription_of(session, principal, position, on),
    )
    for section in registered_sections():
        monitor.sections.append((section, section.rows(session, principal, position)))
    return monitor
