"""Benchmark of the reconciliation of a payments flow on PostgreSQL, against the anchor of one set-based
UPDATE ... FROM join marking the same matches.

    .venv/bin/python benchmarks/bench_reconcile.py --n 1000000

1. a fresh database (DATABASE_URL, a PostgreSQL server URL, or a throw-away cluster from tests/pgtmp.py),
   migrated and seeded with the demo enti (tests/conftest.py);
2. N positions of ente R01 in one carico (set-based SQL): capitale, plus sanzioni (85%), interessi (40%) and
   spese (60%); their notice numbers through our set-based service (`assign_notice_numbers_for_carico`);
3. one pagoPA flow of N payments stored as `da_riconciliare`: 90% carry the IUV of a position (85% of those
   pay exactly the notice, 10% half of it, 5% more than it), 10% an unknown IUV;
4. the anchor: the same payments copied into a table with the same columns, indexes and foreign keys, and ONE
   `UPDATE ... FROM notice_numbers` marking the matches (position, notice, status) there;
5. ours: `app.payments.reconcile.reconcile_flow` on the real table (claim and match, allocation in the
   entrata's order, ledger movements, allocations, credits and refunds, anomalies, position states with their
   row versions, events, the unmatched payments to the anomaly list), committed;
6. checks both marked the same number of matches and that the ledger-sum invariant holds, and prints, as the
   last line, one JSON object with both times and "ratio" = ours / anchor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from support import seeded_app  # noqa: E402

from benchmarks.experiments import CONSTRAINED, HEAP, INDEXED, write_floors  # noqa: E402


def say(text: str) -> None:
    print(f"[bench_reconcile {time.strftime('%H:%M:%S')}] {text}", flush=True)




POSITIONS_SQL = """
INSERT INTO positions (ente_id, entrata_id, carico_id, taxpayer_id, external_id, year, description, due_date,
                       state, created_dt)
SELECT :ente, :entrata, :carico, tp.ids[1 + g % array_length(tp.ids, 1)], 'RB-' || g, 2024,
       'benchmark ' || g, date '2025-01-31', CASE WHEN g % 3 = 0 THEN 'caricata' ELSE 'notificata' END, now()
FROM generate_series(1, :n) AS g, (SELECT array_agg(id ORDER BY id) AS ids FROM taxpayers) AS tp
"""
MOVEMENTS_SQL = [
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'capitale', 'carico', 3000 + (id::bigint * 7919 % 247000), date '2026-01-15', now(), 'bench'
       FROM positions WHERE carico_id = :carico""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'sanzioni', 'carico', (3000 + (id::bigint * 7919 % 247000)) * 30 / 100, date '2026-01-15',
              now(), 'bench' FROM positions WHERE carico_id = :carico AND id % 100 < 85""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'interessi', 'carico', (3000 + (id::bigint * 7919 % 247000)) * 4 / 100, date '2026-01-15',
              now(), 'bench' FROM positions WHERE carico_id = :carico AND id % 5 < 2""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'spese', 'carico', 588, date '2026-01-15', now(), 'bench'
       FROM positions WHERE carico_id = :carico AND id % 10 < 6""",
]
PAYMENTS_SQL = """
INSERT INTO payments (flow_id, ente_id, source_key, external_id, row_number, iuv, iur, transfer_index,
                      outcome_code, channel, amount_cents, paid_date, value_date, status, credit_cents,
                      created_dt)
SELECT :flow, :ente, 'pagopa', 'RBIUR' || g.g, g.g, coalesce(n.iuv, '99' || lpad(g.g::text, 15, '0')),
       'RBIUR' || g.g, 1, '0', 'pagopa',
       CASE WHEN n.id IS NULL THEN 1000 + g.g % 5000
            WHEN g.g % 20 < 17 THEN n.amount_cents
            WHEN g.g % 20 < 19 THEN greatest(n.amount_cents / 2, 1)
            ELSE n.amount_cents + 1000 END,
       date '2026-11-20', date '2026-11-20', 'da_riconciliare', 0, now()
FROM generate_series(1, :n) AS g(g)
LEFT JOIN (SELECT row_number() OVER (ORDER BY id) AS k, id, iuv, amount_cents FROM notice_numbers
           WHERE position_id IN (SELECT id FROM positions WHERE carico_id = :carico)) n
       ON n.k = g.g AND g.g % 10 <> 0
"""
ANCHOR_SQL = """
UPDATE bench_anchor p SET status = 'riconciliato', position_id = n.position_id, notice_id = n.id,
                          match_method = 'iuv'
FROM notice_numbers n
WHERE p.flow_id = :flow AND p.status = 'da_riconciliare' AND n.ente_id = p.ente_id AND n.iuv = p.iuv
  AND n.position_id IS NOT NULL
"""


def build(app, db, n: int) -> tuple[int, int]:  # noqa: ANN001
    """N positions with notice numbers and a flow of N payments; returns (flow id, carico id)."""
    import datetime as dt

    from app.carichi.models import Carico
    from app.enti.models import Ente, Entrata
    from app.payments.models import PaymentFlow
    from app.payments.notices import assign_notice_numbers_for_carico

    with app.app_context():
        session = db.session
        ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        entrata = session.scalars(
            sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == "TASSA_AUTO")
        ).one()
        carico = Carico(
            ente_id=ente.id,
            entrata_id=entrata.id,
            reference="BENCH-RECONCILE",
            received_date=dt.date(2026, 1, 15),
            status="caricato",
        )
        session.add(carico)
        session.commit()
        started = time.perf_counter()
        params = {"ente": ente.id, "entrata": entrata.id, "carico": carico.id, "n": n}
        session.execute(sa.text(POSITIONS_SQL), params)
        for statement in MOVEMENTS_SQL:
            session.execute(sa.text(statement), params)
        session.commit()
        say(f"{n} positions with their movements in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        created = assign_notice_numbers_for_carico(session, carico.id, issued_on=dt.date(2026, 1, 15))
        session.commit()
        notice_seconds = time.perf_counter() - started
        say(
            f"{created} notice numbers (assign_notice_numbers_for_carico, set-based) "
            f"in {notice_seconds:.1f} s"
        )
        flow = PaymentFlow(
            ente_id=ente.id,
            source="pagopa",
            identifier="2026-11-20BENCHPSP-0000000001",
            sender="BENCHPSP",
            flow_dt=dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC),
            regulation_ref="BENCHTRN",
            regulation_date=dt.date(2026, 11, 20),
            declared_count=n,
            computed_count=n,
            computed_total_cents=0,
            status="accettato",
            report={},
        )
        session.add(flow)
        session.commit()
        started = time.perf_counter()
        session.execute(sa.text(PAYMENTS_SQL), {**params, "flow": flow.id})
        total = session.scalar(
            sa.select(sa.func.sum(sa.text("amount_cents")))
            .select_from(sa.text("payments"))
            .where(sa.text("flow_id = :f")),
            {"f": flow.id},
        )
        flow.computed_total_cents = flow.declared_total_cents = int(total)
        session.commit()
        say(f"{n} payments stored in {time.perf_counter() - started:.1f} s")
        return flow.id, carico.id


def prepare_anchor(db) -> None:  # noqa: ANN001
    """The anchor's table: the payments as they are before reconciling, same indexes and foreign keys."""
    with db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bench_anchor (LIKE payments INCLUDING ALL)"))
        conn.execute(sa.text("INSERT INTO bench_anchor SELECT * FROM payments"))
        fks = (
            conn.execute(
                sa.text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'payments'::regclass AND contype = 'f'"
                )
            )
            .scalars()
            .all()
        )
        for definition in fks:
            conn.execute(sa.text(f"ALTER TABLE bench_anchor ADD {definition}"))
    _vacuum(db)


def _vacuum(db) -> None:  # noqa: ANN001
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        conn.execute(sa.text("CHECKPOINT"))


def run_anchor(db, flow_id: int) -> tuple[float, int]:  # noqa: ANN001
    started = time.perf_counter()
    with db.engine.begin() as conn:
        rows = conn.execute(sa.text(ANCHOR_SQL), {"flow": flow_id}).rowcount
    return time.perf_counter() - started, rows


# What reconciliation inserted: table -> the rows of it to insert again.
WRITTEN = {
    "movements": "kind = 'pagamento'",
    "payment_allocations": "true",
    "events": "kind = 'payment.allocated'",
    "row_versions": "true",
    "payment_anomalies": "true",
    "payment_refunds": "true",
}
FLOOR_VARIANTS = (HEAP, INDEXED, CONSTRAINED)


def write_floor(db) -> dict[str, float | int]:  # noqa: ANN001
    """Seconds to write again what reconciliation wrote, in one transaction, the values already computed:
    every row it inserted, and the state of every position it paid (an UPDATE of that column, as
    reconciliation does), into copies of the tables (1) with no index (`heap_s`), (2) with the real tables'
    indexes (`indexed_s`), (3) with their indexes and foreign keys (`constrained_s`); never a trigger. The
    floors under any reconciliation that writes what this one writes (its claim, the anchor's own UPDATE,
    not included)."""

    def positions_before(conn: sa.Connection) -> None:
        # every position, those reconciliation paid back in a state before payment (the UPDATE then
        # changes an indexed column, as reconciliation's does)
        columns = conn.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'positions' ORDER BY ordinal_position"
            )
        ).scalars()
        select = ", ".join("CAST('caricata' AS varchar) AS state" if c == "state" else c for c in columns)
        conn.execute(sa.text(f"INSERT INTO floor_positions SELECT {select} FROM positions ORDER BY id"))

    def pay_positions(conn: sa.Connection) -> int:
        return conn.execute(
            sa.text(
                "UPDATE floor_positions f SET state = p.state FROM positions p"
                " WHERE p.id = f.id AND p.id IN (SELECT position_id FROM payments"
                "   WHERE status = 'riconciliato' AND position_id IS NOT NULL)"
            )
        ).rowcount

    return write_floors(
        db.engine,
        WRITTEN,
        FLOOR_VARIANTS,
        also_copy=("positions",),
        prepare=positions_before,
        timed_extra=pay_positions,
    )


def run_ours(app, db, flow_id: int):  # noqa: ANN001, ANN201
    from app.core.audit import Actor
    from app.payments.reconcile import reconcile_flow

    with app.app_context():
        started = time.perf_counter()
        result = reconcile_flow(db.session, flow_id, Actor.system("benchmark"))
        db.session.commit()
        seconds = time.perf_counter() - started
        db.session.remove()
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="positions and payments (default 1000000)")
    parser.add_argument(
        "--drop-foreign-keys",
        action="store_true",
        help="experiment: drop the foreign keys of the tables reconciliation writes (experiments.py)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="experiment: after reconciling, time inserting the same rows again into copies of the tables"
        " without and with their indexes (no foreign key, no trigger): the floors of the writes",
    )
    parser.add_argument("--no-check", action="store_true", help="skip the invariant check at the end")
    args = parser.parse_args()

    say(f"n={args.n}, cpus={os.cpu_count()}")
    with seeded_app("reconcile", say) as bench:
        app = bench.app
        from app.extensions import db

        if args.drop_foreign_keys:
            from benchmarks.experiments import RECONCILE_TABLES, drop_foreign_keys

            with app.app_context(), db.engine.begin() as conn:
                say(f"experiment: dropped {drop_foreign_keys(conn, RECONCILE_TABLES)} foreign keys")

        with app.app_context():
            flow_id, _carico = build(app, db, args.n)
            prepare_anchor(db)
            anchor_seconds, anchor_rows = run_anchor(db, flow_id)
            say(
                f"anchor: one UPDATE ... FROM join marked {anchor_rows} matches in {anchor_seconds:.2f} s"
            )
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE bench_anchor"))
            _vacuum(db)
        ours_seconds, result = run_ours(app, db, flow_id)
        say(
            f"ours: reconcile_flow matched {result.matched}, review {result.review}, unmatched "
            f"{result.unmatched}, allocated {result.allocated_cents / 100:.2f} euro, credit "
            f"{result.credit_cents / 100:.2f} euro in {ours_seconds:.2f} s"
        )
        timings = result.details.get("timings", {})
        for key, value in sorted(timings.items(), key=lambda kv: -kv[1])[:12]:
            say(f"  {value:8.2f} s  {key}")
        with app.app_context():
            counts = {
                t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))
                for t in ("payment_allocations", "events", "payment_anomalies", "payment_refunds")
            }
            say(f"rows written: {counts}")
            if not args.no_check:
                from tests.payments.conftest import check_invariants

                started = time.perf_counter()
                check_invariants(db.session)
                say(f"ledger-sum invariant holds (checked in {time.perf_counter() - started:.1f} s)")
            floors = None
            if args.floor:
                db.session.remove()
                floors = write_floor(db)
                say(
                    f"floors: {floors['rows']:,} rows written again in one transaction, values computed:"
                    f" {floors['heap_s']:.2f} s with no index, {floors['indexed_s']:.2f} s with the"
                    f" tables' indexes, {floors['constrained_s']:.2f} s with indexes and foreign keys"
                )
            db.session.remove()
            db.engine.dispose()
        assert result.matched == anchor_rows, (result.matched, anchor_rows)
    figures = {
        "n": args.n,
        "matched": result.matched,
        "anchor_seconds": round(anchor_seconds, 2),
        "ours_seconds": round(ours_seconds, 2),
        "ratio": round(ours_seconds / anchor_seconds, 2),
        "allocations": counts["payment_allocations"],
        "foreign_keys": not args.drop_foreign_keys,
    }
    if floors:
        figures["rows_written"] = floors["rows"]
        for key, _, _ in FLOOR_VARIANTS:
            figures[f"floor_{key}"] = round(floors[key], 2)
            # the claim is the anchor's own work: the floor ratio counts it once, plus the writes
            figures[f"floor_{key.removesuffix('_s')}_ratio"] = round(1 + floors[key] / anchor_seconds, 2)
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
