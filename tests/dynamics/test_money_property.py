"""Hypothesis: money is conserved across any sequence of partial sgravi and their storni. After every step the
ledger holds exactly the carico plus the interest fixed minus the sgravi still in force; a refused step
changes nothing; no component ever goes below zero; the amount due is the ledger's at the fixing date."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.dynamics.common import MeasureRequest
from app.dynamics.rules import DynamicsRefused
from app.dynamics.sgravio import abate, reverse_abatement
from app.positions.models import COMPONENTS, Movement
from app.positions.queries import balances
from tests.dynamics.conftest import ACTOR, due_cents, new_position

TODAY = dt.date(2026, 12, 3)
DAY = dt.date(2026, 11, 30)

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("sgravio"),
            st.sampled_from(("capitale", "sanzioni", "spese", "interessi")),
            st.integers(min_value=1, max_value=120_000),
        ),
        st.tuples(st.just("storno"), st.integers(min_value=0, max_value=5), st.just(0)),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    database=None,
    deadline=None,
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_money_is_conserved_across_sgravi_and_storni(session, steps) -> None:
    with session.begin_nested() as outer:
        position = new_position(session, capitale=100_000, sanzioni=30_000, spese=588)
        carico = 130_588
        measures = []
        for op, arg, cents in steps:
            before = _ledger(session, position.id)
            try:
                with session.begin_nested():
                    if op == "sgravio":
                        measures.append(
                            abate(
                                session,
                                ACTOR,
                                position,
                                {arg: cents},
                                MeasureRequest(reason="p", value_date=DAY),
                                today=TODAY,
                            )
                        )
                    elif measures:
                        reverse_abatement(session, ACTOR, measures[arg % len(measures)], "s", today=TODAY)
            except DynamicsRefused:
                session.expire_all()
                assert _ledger(session, position.id) == before  # a refusal keeps nothing
            session.expire_all()
            fixed = session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Movement.amount_cents), 0)).where(
                    Movement.position_id == position.id, Movement.kind == "interessi"
                )
            )
            live_abated = sum(m.amount_cents for m in measures if m.ended_on is None)
            assert sum(_ledger(session, position.id).values()) == carico + fixed - live_abated
            bal = balances(session, [position.id])[position.id]
            assert all(bal.component(c).due_cents >= 0 for c in COMPONENTS)
            if measures:  # a sgravio fixed the figures at DAY: the amount due then is the ledger's
                assert due_cents(session, position, DAY) == bal.due_cents
        outer.rollback()


def _ledger(session, position_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Movement.component, sa.func.sum(Movement.amount_cents))
        .where(Movement.position_id == position_id)
        .group_by(Movement.component)
    )
    return {c: int(v) for c, v in rows}
