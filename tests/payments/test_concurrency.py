"""Two reconciliations of the same flow at the same time, on PostgreSQL, each with its own connection: every
payment is allocated exactly once. Runs on a database of its own (the rolled-back test transaction would
hide the concurrency)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import _create_database, _drop_database, build_app, migrate_and_seed
from tests.payments.conftest import check_invariants
from tests.payments.support import ACTOR, fdr, open_positions, row


@pytest.fixture(scope="module")
def own_app(pg_server: str) -> Iterator[Flask]:
    url = _create_database(pg_server, "esattoria_payments_concurrency")
    app = build_app(url)
    migrate_and_seed(app)
    yield app
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _drop_database(url)


def _stored_flow(app: Flask, tag: str) -> tuple[int, int]:
    """A flow whose payments are stored but not yet reconciled (committed)."""
    from app.extensions import db
    from app.payments.models import PaymentFlow
    from app.payments.services import _store_payments, parse_flow

    with app.app_context():
        session = db.session
        positions = open_positions(session, 12)
        rows = []
        for i, p in enumerate(positions):
            rows += [row(p.iuv, f"{tag}-{i}-a", p.due // 2 or 1), row(p.iuv, f"{tag}-{i}-b", p.due)]
        parsed = parse_flow(session, fdr(rows, identifier=f"2026-11-20PSPDEMO01-{tag}"))
        flow = PaymentFlow(
            ente_id=1,
            source="pagopa",
            identifier=parsed.identifier,
            sender=parsed.sender,
            flow_dt=parsed.flow_dt,
            file_sha256=parsed.sha256,
            computed_count=len(rows),
            computed_total_cents=parsed.computed_total_cents,
            status="accettato",
            report={},
        )
        session.add(flow)
        session.flush()
        _store_payments(session, flow, parsed)
        session.commit()
        return flow.id, len(rows)


@pytest.mark.parametrize("ente_lock", [True, False], ids=["ente-lock", "compare-and-set-only"])
def test_two_concurrent_reconciliations_allocate_each_payment_exactly_once(
    own_app, monkeypatch, ente_lock
) -> None:
    from app.extensions import db
    from app.payments import reconcile

    if not ente_lock:  # prove the claim alone (UPDATE ... WHERE status = 'da_riconciliare') is enough
        monkeypatch.setattr(reconcile, "lock_ente", lambda *a, **k: None)
    flow_id, n = _stored_flow(own_app, "CC" + ("L" if ente_lock else "C"))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        with own_app.app_context():
            try:
                db.session.connection()  # its own connection, before the race starts
                barrier.wait(timeout=30)
                result = reconcile.reconcile_flow(db.session, flow_id, ACTOR)
                db.session.commit()
                results.append(result.matched)
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(isinstance(r, int) for r in results), results
    assert sorted(results) == [0, n]  # one claimed everything, the other found nothing left
    with own_app.app_context():
        per_payment = db.session.execute(
            sa.text(
                "SELECT p.id, p.status, count(a.id) FILTER (WHERE a.amount_cents > 0) AS allocations, "
                "       count(DISTINCT m.id) AS movements "
                "FROM payments p LEFT JOIN payment_allocations a ON a.payment_id = p.id "
                "LEFT JOIN movements m ON m.id = a.movement_id WHERE p.flow_id = :f GROUP BY p.id, p.status"
            ),
            {"f": flow_id},
        ).all()
        assert len(per_payment) == n and {r.status for r in per_payment} == {"riconciliato"}
        events = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM events "
                "WHERE kind = 'payment.allocated' AND (payload->>'flow_id')::int = :f"
            ),
            {"f": flow_id},
        )
        assert events == n  # one event per payment, not two
        check_invariants(db.session)
        db.session.remove()


@pytest.mark.parametrize("same_position", [True, False], ids=["same-form", "key-on-another-position"])
def test_the_same_desk_form_posted_twice_at_once_registers_one_payment(own_app, same_position) -> None:
    """A double click: two requests with the same idempotency key race; one payment, one quietanza. On the
    same position the second waits for the first's lock and finds its payment; with the key sent for another
    position (no common lock) the unique index stops the second."""
    from app.core.access import Principal
    from app.extensions import db
    from app.payments import services
    from app.payments.models import Payment

    with own_app.app_context():
        a, b = open_positions(db.session, 2, skip=20)
        principal = Principal("sportello", frozenset({1, 2}), user_id=None)
    key = f"race-{same_position}-0123456789abcdef"
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker(position_id: int) -> None:
        with own_app.app_context():
            try:
                db.session.connection()
                barrier.wait(timeout=30)
                payment = services.register_desk_payment(
                    db.session,
                    principal,
                    ACTOR,
                    position_id=position_id,
                    amount_cents=100,
                    channel="contanti",
                    idempotency_key=key,
                )
                db.session.commit()
                results.append(payment.receipt_number)
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    targets = (a.id, a.id) if same_position else (a.id, b.id)
    threads = [threading.Thread(target=worker, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    receipts = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if not isinstance(r, str)]
    assert len(receipts) == 1 and len(refused) == 1, results
    if same_position:
        assert isinstance(refused[0], services.DeskFormReplayed), refused
        assert refused[0].receipt_number == receipts[0]
    else:
        assert isinstance(refused[0], services.DeskFormReused), refused
    with own_app.app_context():
        rows = db.session.scalars(sa.select(Payment).where(Payment.idempotency_key == key)).all()
        assert [p.receipt_number for p in rows] == receipts
        check_invariants(db.session)
        db.session.remove()
