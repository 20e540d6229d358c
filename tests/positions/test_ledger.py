"""The ledger is append-only in the database itself; corrections are reversals; money is conserved."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def any_position(session):
    from app.positions.models import Position

    return session.scalars(sa.select(Position).order_by(Position.id)).first()


def test_update_and_delete_of_a_movement_are_refused_by_the_database(app) -> None:
    from app.extensions import db
    from app.positions.models import Movement

    with app.app_context():
        movement_id = db.session.scalars(sa.select(Movement.id).order_by(Movement.id)).first()
        for statement in (
            sa.update(Movement).where(Movement.id == movement_id).values(amount_cents=1),
            sa.delete(Movement).where(Movement.id == movement_id),
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
                db.session.execute(statement)
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
                db.session.execute(sa.text("TRUNCATE movements CASCADE"))


def test_a_reversal_must_negate_what_it_reverses(app) -> None:
    from app.extensions import db
    from app.positions.models import Movement

    with app.app_context():
        original = db.session.scalars(sa.select(Movement).order_by(Movement.id)).first()
        wrong = Movement(
            position_id=original.position_id,
            component=original.component,
            kind=original.kind,
            amount_cents=-(original.amount_cents - 1),
            value_date=dt.date(2026, 1, 1),
            source="test",
            reverses_id=original.id,
        )
        with pytest.raises(sa.exc.DBAPIError, match="reversal"), db.session.begin_nested():
            db.session.add(wrong)
            db.session.flush()
        right = Movement(
            position_id=original.position_id,
            component=original.component,
            kind=original.kind,
            amount_cents=-original.amount_cents,
            value_date=dt.date(2026, 1, 1),
            source="test",
            reverses_id=original.id,
        )
        db.session.add(right)
        db.session.flush()
        twice = Movement(
            position_id=original.position_id,
            component=original.component,
            kind=original.kind,
            amount_cents=-original.amount_cents,
            value_date=dt.date(2026, 1, 1),
            source="test",
            reverses_id=original.id,
        )
        with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
            db.session.add(twice)
            db.session.flush()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["capitale", "sanzioni", "interessi", "spese"]),
            st.sampled_from(["carico", "pagamento", "sgravio", "interessi"]),
            st.integers(min_value=1, max_value=10**9),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_balances_conserve_money(app, lines) -> None:
    """Whatever movements are written, the balance by component sums to the ledger total, to the cent."""
    from app.extensions import db
    from app.positions.models import Movement
    from app.positions.queries import balances

    with app.app_context(), db.session.begin_nested() as nested:
        position = any_position(db.session)
        before = balances(db.session, [position.id])[position.id].due_cents
        signed = 0
        for component, kind, cents in lines:
            amount = -cents if kind in ("pagamento", "sgravio") else cents
            signed += amount
            db.session.add(
                Movement(
                    position_id=position.id,
                    component=component,
                    kind=kind,
                    amount_cents=amount,
                    value_date=dt.date(2026, 1, 1),
                    source="property test",
                )
            )
        db.session.flush()
        bal = balances(db.session, [position.id])[position.id]
        assert bal.due_cents == before + signed
        assert sum(r.due_cents for r in bal.rows()) == bal.due_cents
        ledger = db.session.scalar(
            sa.select(sa.func.sum(Movement.amount_cents)).where(Movement.position_id == position.id)
        )
        assert int(ledger) == bal.due_cents
        nested.rollback()
