"""Fixtures of the escalation: an entrata of its own in R01 (so the demo's positions stay out of the way)
with the default ladder, and positions of a demo taxpayer with a valid address."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

_SEQ = itertools.count(1)


@pytest.fixture
def worker(app: Flask, store: Path) -> Any:
    from rq import SimpleWorker

    from app.core.jobs import connection, queue

    with app.app_context():
        queue("default").empty()

    def work() -> None:
        from app.extensions import db

        db.session.commit()
        with app.app_context():
            SimpleWorker([queue("default")], connection=connection()).work(burst=True)

    return work


class Ladder:
    def __init__(self, session: Any) -> None:
        from app.core.audit import Actor
        from app.enti.defaults import ENTRATA_RULES
        from app.enti.models import Ente
        from app.enti.services import ensure_entrata, ensure_entrata_parameter
        from app.escalation.rules import create_default_rule, ensure_parameters
        from app.taxpayers.models import Taxpayer, TaxpayerAddress, TaxpayerEnte

        self.session = session
        self.ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        self.entrata = ensure_entrata(
            session, self.ente, code="ESC_TEST", name="Sanzioni di prova", prescription_regime="5y"
        )
        ensure_entrata_parameter(session, self.entrata, ENTRATA_RULES["SANZIONI"])
        ensure_parameters(session)
        self.rule = create_default_rule(session, self.entrata, Actor.system("test"))
        self.taxpayer = session.scalars(
            sa.select(Taxpayer)
            .join(TaxpayerEnte, TaxpayerEnte.taxpayer_id == Taxpayer.id)
            .join(TaxpayerAddress, TaxpayerAddress.taxpayer_id == Taxpayer.id)
            .where(
                TaxpayerEnte.ente_id == self.ente.id,
                Taxpayer.deceased_date.is_(None),
                TaxpayerAddress.valid_to_dt.is_(None),
                TaxpayerAddress.cap.is_not(None),
            )
            .order_by(Taxpayer.id)
            .limit(1)
        ).one()
        session.flush()

    def step(self, act_code: str) -> Any:
        return next(s for s in self.rule.steps if s.act_code == act_code)

    def position(
        self,
        *,
        euro: int = 5000,
        due: dt.date = dt.date(2025, 1, 31),
        notified: dt.date | None = None,
        state: str | None = None,
    ) -> Any:
        from app.positions.models import Movement, Position

        position = Position(
            ente_id=self.ente.id,
            entrata_id=self.entrata.id,
            taxpayer_id=self.taxpayer.id,
            external_id=f"ESC-{next(_SEQ)}-{dt.datetime.now().timestamp()}",
            year=due.year,
            due_date=due,
            notified_date=notified,
            state=state or ("notificata" if notified else "caricata"),
            description="Sanzione di prova",
        )
        self.session.add(position)
        self.session.flush()
        self.session.add(
            Movement(
                position_id=position.id,
                component="capitale",
                kind="carico",
                amount_cents=euro * 100,
                value_date=due,
                source="test",
                booked_dt=dt.datetime.combine(due, dt.time(12), tzinfo=dt.UTC),
            )
        )
        self.session.flush()
        return position

    def run(self, on: dt.date) -> Any:
        from app.escalation.proposals import compute_proposals

        return compute_proposals(self.session, on, rule_ids=[self.rule.id])

    def proposals(self, position: Any) -> dict[str, str]:
        from app.escalation.models import EscalationProposal

        rows = self.session.scalars(
            sa.select(EscalationProposal).where(EscalationProposal.position_id == position.id)
        ).all()
        return {r.act_code: r.status for r in rows}


@pytest.fixture
def ladder(session: Any) -> Ladder:
    return Ladder(session)
