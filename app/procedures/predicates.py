"""Set-based predicates other slices compose into their queries (the escalation's blockers).

    from app.procedures.predicates import in_open_insolvency
    stmt = sa.select(Position.id).where(~in_open_insolvency(Position.taxpayer_id))

`in_open_insolvency(column)` is an EXISTS on `insolvency_proceedings` correlated on the taxpayer id column:
true while the taxpayer has an insolvency proceeding opened on or before `on` (default today, in SQL) and not
closed by then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from app.procedures.machine import MACHINES
from app.procedures.models import InsolvencyProceeding, Procedure

BLOCKER_REASON = (
    "Il contribuente è in una procedura concorsuale aperta: nessuna azione esecutiva individuale "
    "(D.Lgs. 14/2019, art. 150)"
)


def in_open_insolvency(taxpayer_id: Any, on: dt.date | None = None) -> sa.ColumnElement[bool]:
    day: Any = on if on is not None else sa.func.current_date()
    return sa.exists(
        sa.select(InsolvencyProceeding.id).where(
            InsolvencyProceeding.taxpayer_id == taxpayer_id,
            InsolvencyProceeding.opened_on <= day,
            sa.or_(InsolvencyProceeding.closed_on.is_(None), InsolvencyProceeding.closed_on > day),
        )
    )


def with_open_procedure(position_id: Any, kind: str | None = None) -> sa.ColumnElement[bool]:
    """True while the position has an open procedure (of `kind`, or any)."""
    conditions = [Procedure.position_id == position_id]
    kinds = [kind] if kind else list(MACHINES)
    conditions.append(
        sa.or_(
            *(sa.and_(Procedure.kind == k, Procedure.state.not_in(sorted(MACHINES[k].closed))) for k in kinds)
        )
    )
    return sa.exists(sa.select(Procedure.id).where(*conditions))
