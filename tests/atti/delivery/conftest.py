"""Fixtures of the delivery tests: a file store of the test's own, the in-process CLI, and acts issued
through the atti issue service for demo positions of R01."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.audit import Actor

ACTOR = Actor.system("test recapito")


@pytest.fixture
def cli(app: Flask, store: Path) -> Callable[..., tuple[int, Any]]:
    runner = app.test_cli_runner()

    def run(*args: str) -> tuple[int, Any]:
        result = runner.invoke(args=list(args), catch_exceptions=False)
        out = result.stdout.strip()
        return result.exit_code, (json.loads(out) if out else None)

    return run


def r01(session: Any) -> Any:
    from app.enti.models import Ente

    return session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()


def candidate_positions(session: Any, *, pec: bool, limit: int, exclude: tuple[int, ...] = ()) -> list[Any]:
    """Open R01 positions ('caricata') of taxpayers with (or without) a current PEC."""
    from app.positions.models import Position
    from app.taxpayers.models import TaxpayerContact

    has_pec = (
        sa.select(TaxpayerContact.id)
        .where(
            TaxpayerContact.taxpayer_id == Position.taxpayer_id,
            TaxpayerContact.kind == "pec",
            TaxpayerContact.valid_to_dt.is_(None),
        )
        .exists()
    )
    stmt = (
        sa.select(Position)
        .where(
            Position.ente_id == r01(session).id, Position.state == "caricata", has_pec if pec else ~has_pec
        )
        .where(Position.id.not_in(exclude) if exclude else sa.true())
        .order_by(Position.id)
        .limit(limit * 4)
    )
    return list(session.scalars(stmt))


@pytest.fixture
def issue(app: Flask, session: Any, store: Path) -> Callable[..., list[Any]]:
    """Issue `n` ingiunzioni (app.atti.services.issue_act) for distinct taxpayers; returns the acts."""
    from app.atti.services import ActRefused, act_type_by_code, issue_act
    from app.positions.amounts import today_rome

    def run(n: int, *, pec: bool = False, code: str = "ingiunzione") -> list[Any]:
        act_type = act_type_by_code(session, code)
        acts: list[Any] = []
        seen: set[int] = set()
        for position in candidate_positions(session, pec=pec, limit=n):
            if position.taxpayer_id in seen:
                continue
            try:
                issued = issue_act(session, position, act_type, today_rome(), ACTOR, file_store=str(store))
            except ActRefused:
                continue
            seen.add(position.taxpayer_id)
            acts.append(issued.act)
            if len(acts) == n:
                break
        assert len(acts) == n, f"solo {len(acts)} atti emessi su {n}"
        session.flush()
        return acts

    return run
