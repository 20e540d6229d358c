"""Reads of the measures of a position, its acts with the "superseded by sgravio" flag, and its figures
explained down to the movements. Every query through the scoping helper."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.dynamics.models import Measure, SupersededAct
from app.positions.models import COMPONENTS, Movement


def measures_of(session: Session, principal: Principal, position_id: int) -> list[Measure]:
    stmt = sa.select(Measure).where(Measure.position_id == position_id).order_by(Measure.id.desc())
    return list(session.scalars(scoped(stmt, Measure, principal)))


def measure_of_position(
    session: Session, principal: Principal, position_id: int, measure_id: int
) -> Measure | None:
    stmt = sa.select(Measure).where(Measure.id == measure_id, Measure.position_id == position_id)
    return session.scalars(scoped(stmt, Measure, principal)).first()


def acts_of(session: Session, principal: Principal, position_id: int) -> list[dict[str, Any]]:
    """The acts issued on the position, newest first, each with the sgravi that superseded its figures."""
    from app.atti.models import Act

    acts = list(
        session.scalars(
            scoped(
                sa.select(Act)
                .where(Act.position_id == position_id)
                .order_by(Act.issue_date.desc(), Act.id.desc()),
                Act,
                principal,
            )
        )
    )
    flags: dict[int, list[int]] = defaultdict(list)
    if acts:
        stmt = sa.select(SupersededAct.act_id, SupersededAct.measure_id).where(
            SupersededAct.act_id.in_([a.id for a in acts])
        )
        for act_id, measure_id in session.execute(scoped(stmt, SupersededAct, principal)):
            flags[act_id].append(measure_id)
    return [{"act": a, "superseded_by": flags.get(a.id, [])} for a in acts]


def superseding_measures(session: Session, principal: Principal, act_id: int) -> list[Measure]:
    """The sgravi / annullamenti that superseded an act's figures (the act's page flags them)."""
    stmt = (
        sa.select(Measure)
        .where(Measure.id.in_(sa.select(SupersededAct.measure_id).where(SupersededAct.act_id == act_id)))
        .order_by(Measure.id)
    )
    return list(session.scalars(scoped(stmt, Measure, principal)))


@dataclass(slots=True)
class Figure:
    """One component of the position: its amount in the ledger and the movements that make it."""

    component: str
    cents: int = 0
    movements: list[Movement] = field(default_factory=list)


def figures(movements: list[Movement]) -> list[Figure]:
    """The ledger's movements grouped by component (the position page explains each figure with them)."""
    by_component = {c: Figure(c) for c in COMPONENTS}
    for m in movements:
        figure = by_component[m.component]
        figure.cents += m.amount_cents
        figure.movements.append(m)
    return [f for f in by_component.values() if f.movements]
