"""Payments tests: the ledger-sum invariant is checked after every test that touches the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

INVARIANTS = {
    "allocations of each payment = its matched amount (amount - credit when riconciliato, else 0)": """
        SELECT p.id FROM payments p
        LEFT JOIN (SELECT payment_id, sum(amount_cents) AS s FROM payment_allocations GROUP BY payment_id) a
               ON a.payment_id = p.id
        WHERE coalesce(a.s, 0) <> CASE WHEN p.status = 'riconciliato' THEN p.amount_cents - p.credit_cents
                                       ELSE 0 END""",
    "every allocation is exactly its ledger movement (same position, component, opposite sign)": """
        SELECT a.id FROM payment_allocations a JOIN movements m ON m.id = a.movement_id
        WHERE m.amount_cents <> -a.amount_cents OR m.position_id <> a.position_id
           OR m.component <> a.component OR m.kind <> 'pagamento'""",
    "a reversal allocation negates the allocation it reverses": """
        SELECT r.id FROM payment_allocations r JOIN payment_allocations a ON a.id = r.reverses_id
        WHERE r.amount_cents <> -a.amount_cents OR r.payment_id <> a.payment_id
           OR r.position_id <> a.position_id OR r.component <> a.component""",
    "no component of a position paid by a flow is below zero": """
        SELECT m.position_id FROM movements m
        WHERE m.position_id IN (SELECT position_id FROM payment_allocations)
        GROUP BY m.position_id, m.component HAVING sum(m.amount_cents) < 0""",
    "every accrual is the interest/oneri movement it booked (same position), a reversal negates its own": """
        SELECT a.id FROM payment_accruals a JOIN movements m ON m.id = a.movement_id
        LEFT JOIN payment_accruals r ON r.id = a.reverses_id
        LEFT JOIN movements rm ON rm.id = r.movement_id
        WHERE m.position_id <> a.position_id OR m.kind NOT IN ('interessi', 'oneri')
           OR (a.reverses_id IS NULL AND (m.amount_cents <= 0 OR m.reverses_id IS NOT NULL))
           OR (a.reverses_id IS NOT NULL AND (m.reverses_id IS DISTINCT FROM rm.id
               OR r.payment_id <> a.payment_id))""",
    "every credit of a reconciled payment is a refund (to do or done)": """
        SELECT p.id FROM payments p
        WHERE p.status = 'riconciliato' AND p.credit_cents > 0 AND p.credit_cents <> (
            SELECT coalesce(sum(r.amount_cents), 0) FROM payment_refunds r
            WHERE r.payment_id = p.id AND r.status IN ('da_rimborsare', 'rimborsato'))""",
}
TOTALS = """
    SELECT (SELECT coalesce(sum(amount_cents), 0) FROM payment_allocations),
           (SELECT coalesce(sum(amount_cents - credit_cents), 0) FROM payments
            WHERE status = 'riconciliato')"""


def check_invariants(connection: sa.Connection | sa.orm.Session) -> None:
    for name, query in INVARIANTS.items():
        bad = connection.execute(sa.text(query)).scalars().all()
        assert bad == [], f"invariant violated: {name}: {bad[:10]}"
    allocated, matched = connection.execute(sa.text(TOTALS)).one()
    assert allocated == matched, f"sum of allocations {allocated} != sum of matched payments {matched}"


@pytest.fixture(autouse=True)
def _ledger_invariant(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test (before its transaction is rolled back): sum of allocations = sum of matched payments,
    and every allocation is the ledger movement it claims to be."""
    if "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("_db_isolation")
    app = request.getfixturevalue("app")
    yield
    from app.extensions import db

    with app.app_context():
        db.session.rollback()
        check_invariants(db.session)
        db.session.remove()


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    """A file store of the test's own (uploads, riversamento files)."""
    path = tmp_path / "files"
    monkeypatch.setitem(app.config, "FILE_STORE", str(path))
    return path
