"""The embedded default (SQLite): notice numbers from the counter table, reconciliation through the engine
(one payment at a time), heuristics and anomalies with the same portable SQL as on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import embedded_sqlite_app
from tests.payments.conftest import check_invariants
from tests.payments.support import ACTOR, csv_file, euro, fdr, open_positions, row

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with embedded_sqlite_app(tmp_path_factory.mktemp("payments-sqlite"), taxpayers=6) as app:
        yield app


def test_flows_reconcile_on_sqlite(sqlite_app: Flask) -> None:
    from app.engine.notice import is_valid_notice
    from app.extensions import db
    from app.payments.models import NoticeCounter, NoticeNumber, Payment, ReviewItem
    from app.payments.services import DuplicateFlow, import_flow
    from app.positions.models import Position

    with sqlite_app.app_context():
        session = db.session
        numbers = session.scalars(sa.select(NoticeNumber.notice_number)).all()
        assert numbers and all(is_valid_notice(n) for n in numbers)
        assert session.scalar(sa.select(sa.func.sum(NoticeCounter.last_base))) == len(numbers)
        a, b, c = open_positions(session, 3)
        summary = import_flow(session, fdr([row(a.iuv, "SQ-1", a.due), row(b.iuv, "SQ-2", 100)]), ACTOR)
        assert (summary.matched, summary.unmatched) == (2, 0)
        assert session.get(Position, a.id).state == "pagata"
        assert session.get(Position, b.id).state == "parzialmente_pagata"
        csv = csv_file(
            f"SQ-3;2026-11-18;;{euro(c.due)};;{c.codice_fiscale};Pagamento {c.external_id};bonifico"
        )
        summary = import_flow(session, csv, ACTOR, fmt="csv", ente_code=c.external_id[:3])
        assert summary.review == 1
        assert session.scalars(sa.select(ReviewItem.suggested_position_id)).all() == [c.id]
        session.commit()
        with pytest.raises(DuplicateFlow):
            import_flow(session, fdr([row(a.iuv, "SQ-1", a.due), row(b.iuv, "SQ-2", 100)]), ACTOR)
        session.rollback()
        revoke = import_flow(
            session,
            fdr([row(a.iuv, "SQ-1", a.due, outcome="3")], identifier="2026-11-21PSPDEMO01-REV"),
            ACTOR,
        )
        assert revoke.matched == 1
        assert (
            session.scalars(
                sa.select(Payment.status).where(Payment.iur == "SQ-1", Payment.outcome_code == "0")
            ).one()
            == "revocato"
        )
        check_invariants(session)
        session.commit()
