"""Reads of carichi and layouts (carichi through the per-ente scoping helper)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.carichi.models import Carico, ImportLayout
from app.core.access import Principal, scoped
from app.enti.models import Ente, Entrata


def list_carichi(session: Session, principal: Principal, *, limit: int | None = 100) -> list[Carico]:
    stmt = (
        sa.select(Carico)
        .options(joinedload(Carico.ente), joinedload(Carico.entrata))
        .order_by(Carico.created_dt.desc(), Carico.id.desc())
        .limit(limit)
    )
    return list(session.scalars(scoped(stmt, Carico, principal)))


def list_layouts(session: Session, *, active_only: bool = False) -> list[ImportLayout]:
    stmt = sa.select(ImportLayout).order_by(ImportLayout.flow, ImportLayout.name)
    if active_only:
        stmt = stmt.where(ImportLayout.active.is_(True))
    return list(session.scalars(stmt))


def list_entrate(session: Session, ente_ids: frozenset[int]) -> list[Entrata]:
    return list(
        session.scalars(
            sa.select(Entrata)
            .join(Ente)
            .where(Entrata.ente_id.in_(sorted(ente_ids)))
            .order_by(Ente.code, Entrata.code)
        )
    )
