"""Property tests (hypothesis): the set-based allocation of the reconciliation is the engine's allocation;
money is conserved to the cent and no component ever goes below zero."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.allocation import DebtPosition, allocate, apply_allocation
from app.engine.money import cents, from_cents
from app.payments.reconcile import DEFAULT_ORDER, WATERFALL_SQL

COMPONENTS = list(DEFAULT_ORDER)

position_st = st.dictionaries(st.sampled_from(COMPONENTS), st.integers(0, 150_000), min_size=1, max_size=4)
case_st = st.lists(position_st, min_size=1, max_size=4).flatmap(
    lambda positions: st.tuples(
        st.just(positions),
        st.lists(
            st.tuples(st.integers(0, len(positions) - 1), st.integers(1, 400_000), st.integers(0, 5)),
            min_size=1,
            max_size=7,
        ),
    )
)


def engine_allocation(positions, payments):
    """Each payment in date order (then id) on its own position, through app.engine.allocation.allocate."""
    debts = {
        i: DebtPosition(str(i), dt.date(2025, 1, 1), {c: from_cents(v) for c, v in comps.items() if v > 0})
        for i, comps in enumerate(positions)
    }
    result = {}
    for pid, (pos, amount, _day) in sorted(enumerate(payments), key=lambda x: (x[1][2], x[0])):
        allocation = allocate(from_cents(amount), [debts[pos]], DEFAULT_ORDER, position_key=str(pos))
        debts[pos] = apply_allocation([debts[pos]], allocation)[0]
        result[pid] = (
            {line.component: cents(line.amount) for line in allocation.lines},
            cents(allocation.credit),
        )
    return result


def sql_allocation(session, positions, payments):
    tag = uuid.uuid4().hex[:8]
    claim, ranked = f"p_claim_{tag}", f"p_ranked_{tag}"
    session.execute(
        sa.text(f"CREATE TEMP TABLE {claim} (id int, position_id int, amount_cents bigint, paid_date date)")
    )
    session.execute(
        sa.text(f"CREATE TEMP TABLE {ranked} (position_id int, component text, due bigint, rank int)")
    )
    session.execute(
        sa.text(f"INSERT INTO {claim} VALUES (:i, :p, :a, :d)"),
        [
            {"i": i, "p": pos, "a": amount, "d": dt.date(2026, 11, 1) + dt.timedelta(days=day)}
            for i, (pos, amount, day) in enumerate(payments)
        ],
    )
    ranks = [
        {"p": i, "c": c, "d": v, "r": COMPONENTS.index(c)}
        for i, comps in enumerate(positions)
        for c, v in comps.items()
        if v > 0
    ]
    if ranks:
        session.execute(sa.text(f"INSERT INTO {ranked} VALUES (:p, :c, :d, :r)"), ranks)
    rows = session.execute(sa.text(WATERFALL_SQL.format(claim=claim, ranked=ranked))).all()
    session.execute(sa.text(f"DROP TABLE {claim}, {ranked}"))
    result = {i: ({}, amount) for i, (_pos, amount, _day) in enumerate(payments)}
    for r in rows:
        result[r.payment_id][0][r.component] = int(r.amount)
    return {i: (alloc, payments[i][1] - sum(alloc.values())) for i, (alloc, _) in result.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=case_st)
def test_set_based_allocation_equals_the_engine_and_conserves_money(session, case) -> None:
    positions, payments = case
    expected = engine_allocation(positions, payments)
    got = sql_allocation(session, positions, payments)
    assert got == expected
    taken = defaultdict(int)
    for i, (alloc, credit) in got.items():
        assert sum(alloc.values()) + credit == payments[i][1]  # conserved to the cent
        assert credit >= 0 and all(v > 0 for v in alloc.values())
        for component, amount in alloc.items():
            taken[(payments[i][0], component)] += amount
    for (pos, component), amount in taken.items():
        assert amount <= positions[pos][component]  # never below zero


@settings(max_examples=300, deadline=None)
@given(case=case_st)
def test_engine_allocation_in_order_never_skips_a_component(case) -> None:
    """A later component of the order is touched only once every earlier one is fully paid."""
    positions, payments = case
    result = engine_allocation(positions, payments)
    paid = defaultdict(int)
    for pid, (pos, _amount, _day) in sorted(enumerate(payments), key=lambda x: (x[1][2], x[0])):
        alloc, _credit = result[pid]
        for component in alloc:
            for earlier in COMPONENTS[: COMPONENTS.index(component)]:
                if positions[pos].get(earlier, 0) > 0:
                    assert paid[(pos, earlier)] + alloc.get(earlier, 0) == positions[pos][earlier]
        for component, amount in alloc.items():
            paid[(pos, component)] += amount


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offset=st.integers(-30_000, 30_000),
    days=st.integers(0, 90),  # up to 30/11/2026 (a flow may not carry a date after tomorrow)
    method=st.sampled_from(["sql", "engine"]),
)
def test_a_payment_near_the_amount_due_conserves_money_and_books_interest_only_when_it_reaches_the_ledger(
    session, offset, days, method
) -> None:
    """One pagoPA payment of (amount due at its date + offset) on a position accruing interest, on both
    reconciliation paths: the payment is allocations + credit to the cent; the interest and oneri accrued
    are booked exactly when it reaches the ledger balance; the amount due drops by what was paid and the
    credit is what exceeded it; the position is "pagata" exactly when the amount due was paid."""
    from app.payments.models import Accrual, Allocation, Payment
    from app.payments.services import import_flow
    from app.positions.amounts import amount_due
    from app.positions.models import Movement, Position
    from tests.payments.support import ACTOR, fdr, open_positions, row

    first = dt.date(2026, 9, 1)
    p = next(
        o
        for o in open_positions(session, 200)
        if amount_due(session, session.get(Position, o.id), first).interest_cents > 0
    )
    day = first + dt.timedelta(days=days)
    nested = session.begin_nested()
    try:
        before = amount_due(session, session.get(Position, p.id), day)
        assert before.interest_cents > 0  # the position accrues interest at every date drawn
        amount = before.total_cents + offset
        if amount <= 0:
            return
        import_flow(
            session, fdr([row(p.iuv, f"IUR-PROP-{days}-{offset}", amount, day=day)]), ACTOR, method=method
        )
        session.expire_all()
        payment = session.scalars(sa.select(Payment).where(Payment.iur == f"IUR-PROP-{days}-{offset}")).one()
        allocated = sum(
            session.scalars(sa.select(Allocation.amount_cents).where(Allocation.payment_id == payment.id))
        )
        assert allocated + payment.credit_cents == amount
        booked = sum(
            session.scalars(
                sa.select(Movement.amount_cents)
                .join(Accrual, Accrual.movement_id == Movement.id)
                .where(Accrual.payment_id == payment.id)
            )
        )
        assert booked == (before.accrued_cents if amount >= before.ledger_cents else 0)
        after = amount_due(session, session.get(Position, p.id), day)
        assert after.total_cents == max(before.total_cents - amount, 0)
        assert payment.credit_cents == max(amount - before.total_cents, 0)
        assert (session.get(Position, p.id).state == "pagata") == (amount >= before.total_cents)
    finally:
        nested.rollback()
