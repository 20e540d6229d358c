"""Shared helpers of the analytics tests: the demo enti, principals, and a payment movement so that every
figure (carico, abated, collected, balance) is exercised."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.access import Principal

AS_OF = dt.date(2026, 12, 3)


def ente_id(session: Any, code: str) -> int:
    from app.enti.models import Ente

    return session.scalar(sa.select(Ente.id).where(Ente.code == code))


@pytest.fixture
def r01(session: Any) -> int:
    return ente_id(session, "R01")


@pytest.fixture
def r02(session: Any) -> int:
    return ente_id(session, "R02")


def principal(ente_ids: set[int], role: str = "regione", user_id: int | None = None) -> Principal:
    return Principal(role=role, ente_ids=frozenset(ente_ids), user_id=user_id)


@pytest.fixture
def ledger(session: Any, r01: int, r02: int) -> None:
    """A payment, a refund and an abatement on one position of each ente (besides the demo's carico)."""
    from app.positions.models import Movement, Position

    for ente, amounts in ((r01, (-12_345, 2_000, -1_001)), (r02, (-777, 0, -50))):
        position_id = session.scalar(
            sa.select(Position.id).where(Position.ente_id == ente).order_by(Position.id)
        )
        for kind, cents in zip(("pagamento", "rimborso", "sgravio"), amounts, strict=True):
            if cents:
                session.add(
                    Movement(
                        position_id=position_id,
                        component="capitale",
                        kind=kind,
                        amount_cents=cents,
                        value_date=AS_OF,
                        source="test analytics",
                    )
                )
    session.flush()
