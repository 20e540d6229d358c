"""Reads of enti and parameter rows, in the row shape of app/enti/defaults.py (what the engine takes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.enti.models import Ente, Entrata, Parameter, RatePeriod, RateTable


def list_enti(session: Session, ente_ids: frozenset[int] | None = None) -> list[Ente]:
    stmt = sa.select(Ente).order_by(Ente.code)
    if ente_ids is not None:
        stmt = stmt.where(Ente.id.in_(sorted(ente_ids)))
    return list(session.scalars(stmt))


def get_ente_by_code(session: Session, code: str) -> Ente | None:
    return session.scalars(sa.select(Ente).where(Ente.code == code)).first()


def get_entrata(session: Session, ente_id: int, code: str) -> Entrata | None:
    return session.scalars(sa.select(Entrata).where(Entrata.ente_id == ente_id, Entrata.code == code)).first()


def rate_table_rows(session: Session) -> dict[str, dict[str, Any]]:
    """Every rate table with its periods, shaped like defaults.RATE_TABLES."""
    tables = session.scalars(
        sa.select(RateTable).options(selectinload(RateTable.periods)).order_by(RateTable.code)
    )
    return {
        t.code: {
            "name": t.name,
            "kind": t.kind,
            "periods": [
                {
                    "valid_from": p.valid_from.isoformat(),
                    "valid_to": p.valid_to.isoformat() if p.valid_to else None,
                    "rate": str(p.rate.normalize()),
                    "source": p.source,
                    "verified": p.verified,
                }
                for p in t.periods
            ],
        }
        for t in tables
    }


def parameter_rows(
    session: Session, *, ente_id: int | None = None, entrata_id: int | None = None
) -> list[dict[str, Any]]:
    """National rows plus the ente's and entrata's own, the more specific last (so they win on a tie)."""
    # `== None` would render IS NULL and match every ente's own rows: each level only when it is asked for
    levels = [sa.and_(Parameter.ente_id.is_(None), Parameter.entrata_id.is_(None))]
    if ente_id is not None:
        levels.append(sa.and_(Parameter.ente_id == ente_id, Parameter.entrata_id.is_(None)))
    if entrata_id is not None:
        levels.append(Parameter.entrata_id == entrata_id)
    scope = sa.or_(*levels)
    rows = session.scalars(
        sa.select(Parameter)
        .where(scope)
        .order_by(
            Parameter.code,
            Parameter.entrata_id.is_not(None),
            Parameter.ente_id.is_not(None),
            Parameter.valid_from,
        )
    )
    return [
        {
            "code": p.code,
            "valid_from": p.valid_from.isoformat(),
            "valid_to": p.valid_to.isoformat() if p.valid_to else None,
            "value": p.value,
            "source": p.source,
            "verified": p.verified,
            "ente_id": p.ente_id,
            "entrata_id": p.entrata_id,
        }
        for p in rows
    ]


def list_parameters(session: Session) -> list[Parameter]:
    return list(session.scalars(sa.select(Parameter).order_by(Parameter.code, Parameter.valid_from)))


def list_rate_tables(session: Session) -> list[RateTable]:
    return list(
        session.scalars(
            sa.select(RateTable).options(selectinload(RateTable.periods)).order_by(RateTable.code)
        )
    )


_STAMP_KEY = "enti.parameters_stamp"


def parameters_stamp(session: Session) -> tuple[int, ...]:
    """A cheap fingerprint of every parameter and rate row: changes whenever a row is added, deleted or
    edited (edits leave a RowVersion, both models being versioned). Keys caches of derived engine inputs.

    Read once per transaction of `session` (a card asks for it once per entrata and per input: 4 times), and
    read again after any flush of the session and after its transaction ends (`_forget_stamp`)."""
    stamp = session.info.get(_STAMP_KEY)
    if stamp is None:
        stamp = session.info[_STAMP_KEY] = _read_stamp(session)
    return stamp


def _forget_stamp(session: Session, *_: Any) -> None:
    session.info.pop(_STAMP_KEY, None)


for _event in ("after_flush", "after_transaction_end"):
    sa.event.listen(Session, _event, _forget_stamp)


def _read_stamp(session: Session) -> tuple[int, ...]:
    from app.core.history import RowVersion

    tables = ("parameters", "rate_periods", "rate_tables")
    row = session.execute(sa.select(
        sa.select(sa.func.count(Parameter.id)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.max(Parameter.id), 0)).scalar_subquery(),
        sa.select(sa.func.count(RatePeriod.id)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.max(RatePeriod.id), 0)).scalar_subquery(),
        # one max per table (index ix_row_versions_table_id): with `table_name IN (...)` PostgreSQL walks the
        # primary key backwards over every later version of any table (200 ms at 300,000 versions); one
        # column each (no GREATEST: SQLite, the embedded default, has none)
        *(
            sa.select(sa.func.coalesce(sa.func.max(RowVersion.id), 0))
            .where(RowVersion.table_name == table).scalar_subquery()
            for table in tables
        ),
    )).one()
    return tuple(int(v) for v in row)


def in_force(rows: list[dict[str, Any]], code: str, day: dt.date) -> dict[str, Any] | None:
    match = None
    for row in rows:
        if (
            row["code"] == code
            and dt.date.fromisoformat(row["valid_from"]) <= day
            and (row["valid_to"] is None or day <= dt.date.fromisoformat(row["valid_to"]))
        ):
            match = row
    return match


def amount_in_force(rows: list[dict[str, Any]], code: str, day: dt.date) -> tuple[int, str] | None:
    """An amount parameter (`{"amount": "10000.00"}`) in force on `day`, in cents, with its legal source; None
    when no row is in force (thresholds: the sollecito's, the escalation's bounds, the minimum to collect)."""
    row = in_force(rows, code, day)
    if row is None:
        return None
    return int(Decimal(str(row["value"]["amount"])) * 100), str(row["source"])


def verifier_names(session: Session) -> dict[int, str]:
    """Display names of the users who verified a parameter row, by id."""
    from app.auth.models import User

    ids: set[int] = set()
    for model in (RatePeriod, Parameter):
        ids.update(session.scalars(sa.select(model.verified_by_id).where(model.verified_by_id.is_not(None))))
    from app.enti.models import ParameterProposal

    pending = sa.select(ParameterProposal.proposed_by_id).where(ParameterProposal.status == "pending")
    ids.update(session.scalars(pending))
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(sa.select(User).where(User.id.in_(sorted(ids))))}


PARAMETER_EVENT_KINDS = (
    "parameter.added", "parameter.verified", "parameter.proposed", "parameter.approved", "parameter.rejected"
)


def parameter_events(session: Session, limit: int = 20) -> list[Any]:
    """The latest changes to the legal parameters (new periods, verifications), newest first."""
    from app.core.audit import Event

    return list(
        session.scalars(
            sa.select(Event)
            .where(Event.kind.in_(PARAMETER_EVENT_KINDS))
            .order_by(Event.occurred_dt.desc(), Event.id.desc())
            .limit(limit)
        )
    )


def pending_proposals(session: Session) -> list[Any]:
    """The proposed periods waiting for a second administrator, oldest first."""
    from app.enti.models import ParameterProposal

    stmt = sa.select(ParameterProposal).where(ParameterProposal.status == "pending")
    return list(session.scalars(stmt.order_by(ParameterProposal.id)))
