"""Benchmark of the amount-due quote (issue 3): batch quotes per second and the p95 latency of the
stored-position quote endpoint.

    .venv/bin/python benchmarks/bench_quote.py --n 100000

1. A throw-away database: on the server of DATABASE_URL when set, else in a throw-away PostgreSQL cluster
   (tests/pgtmp.py); migrated and seeded with the demo world (tests/conftest.py: 40 taxpayers).
2. N positions with realistic ledgers, inserted set-based (INSERT ... SELECT generate_series, no ORM):
   carico of capitale, sanzioni (85%), interessi (40%) and spese (60%); due dates 2018-2025; a payment on ~30%
   of them (over two components, a second one on ~10%), a refund on ~1%, an abatement on ~5%.
3. (a) `batch_quotes(workers=2)` over every position at AS_OF: quotes/s (pool start-up included);
   (b) 500 requests of GET /api/v1/positions/<id>/quote?as_of= with a bearer token (positions:read), through
   Flask's test client (in-process WSGI: no network, every request runs the whole app: token lookup, scoping,
   parameter loading, ledger query, engine, JSON), after 20 warm-up requests: p95 in ms.
Progress goes to stdout; the LAST line is one JSON object:
    {"n": N, "quotes_per_s": ..., "batch_seconds": ..., "p95_ms": ..., "ratio": ...}
with ratio = extrapolated seconds for 1,000,000 batch quotes / 60 (target: < 1). The database is dropped at
the end. No clock enters the numbers quoted: AS_OF is fixed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from support import seeded_app  # noqa: E402

AS_OF = dt.date(2026, 6, 30)
REQUESTS, WARM_UP = 500, 20


def say(text: str) -> None:
    print(f"[bench_quote {time.strftime('%H:%M:%S')}] {text}", flush=True)




# ---------------------------------------------------------------------------------------------------------
# Data: set-based inserts

POSITIONS_SQL = """
WITH en AS (SELECT array_agg(e.id ORDER BY e.id) AS ids, array_agg(e.ente_id ORDER BY e.id) AS entes,
                   array_agg((SELECT min(c.id) FROM carichi c WHERE c.entrata_id = e.id) ORDER BY e.id)
                       AS carichi
            FROM entrate e),
     tp AS (SELECT array_agg(id ORDER BY id) AS ids FROM taxpayers),
     g AS (SELECT g, 1 + g % (SELECT array_length(ids, 1) FROM en) AS k,
                  date '2018-01-01' + (g % 8) * 365 + (g::bigint * 7919 % 360)::int AS due
           FROM generate_series(1, :n) AS g)
INSERT INTO positions (ente_id, entrata_id, carico_id, taxpayer_id, external_id, year, description, due_date,
                       state, created_dt)
SELECT en.entes[g.k], en.ids[g.k], en.carichi[g.k], tp.ids[1 + g.g % array_length(tp.ids, 1)],
       'BENCH-' || g.g, extract(year FROM g.due)::int, 'benchmark ' || g.g, g.due, 'notificata', now()
FROM g, en, tp
"""

# One row per position with its drawn amounts; then one INSERT per movement family, each set-based.
DRAW_SQL = """
CREATE TEMP TABLE bench_draw AS
SELECT p.id, p.due_date,
       (3000 + floor(random() * 247000))::bigint AS capitale,
       random() < 0.85 AS has_sanzioni, random() < 0.40 AS has_interessi, random() < 0.60 AS has_spese,
       random() AS pay_roll, random() AS pay_share, random() AS pay_day, random() AS second_day,
       random() < 0.05 AS abated, random() < 0.01 AS refunded
FROM positions p WHERE p.external_id LIKE 'BENCH-%'
"""
MOVEMENTS_SQL = [
    # carico
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'capitale', 'carico', capitale, due_date, now(), 'bench' FROM bench_draw""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'sanzioni', 'carico', capitale * 30 / 100, due_date, now(), 'bench' FROM bench_draw
       WHERE has_sanzioni""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'interessi', 'carico', greatest(capitale * 4 / 100, 1), due_date, now(), 'bench'
       FROM bench_draw WHERE has_interessi""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'spese', 'carico', 588, due_date, now(), 'bench' FROM bench_draw WHERE has_spese""",
    # a payment on ~30%: spese (when any) and a share of the capital on the same day, after the due date
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'spese', 'pagamento', -588, due_date + 10 + floor(pay_day * (:as_of - due_date - 20))::int,
              now(), 'bench' FROM bench_draw WHERE pay_roll < 0.30 AND has_spese""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'capitale', 'pagamento', -greatest(floor(capitale * pay_share)::bigint, 1),
              due_date + 10 + floor(pay_day * (:as_of - due_date - 20))::int, now(), 'bench'
       FROM bench_draw WHERE pay_roll < 0.30""",
    # a second payment on ~10%, later
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'sanzioni', 'pagamento', -greatest(capitale * 10 / 100, 1),
              least(due_date + 15 + floor(second_day * (:as_of - due_date - 15))::int, :as_of), now(), 'bench'
       FROM bench_draw WHERE pay_roll < 0.10 AND has_sanzioni""",
    # a refund on ~1%, an abatement of the sanctions on ~5%
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'capitale', 'rimborso', 100, :as_of - 5, now(), 'bench' FROM bench_draw
       WHERE refunded AND pay_roll < 0.30""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'sanzioni', 'sgravio', -(capitale * 30 / 100), due_date + 60, now(), 'bench' FROM bench_draw
       WHERE abated AND has_sanzioni AND capitale * 30 / 100 > 0""",
]


def insert_positions(db, n: int) -> None:  # noqa: ANN001 (flask_sqlalchemy's db)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.42)"))
        conn.execute(sa.text(POSITIONS_SQL), {"n": n})
        conn.execute(sa.text(DRAW_SQL))
        for statement in MOVEMENTS_SQL:
            conn.execute(sa.text(statement), {"as_of": AS_OF})
        conn.execute(sa.text("DROP TABLE bench_draw"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE positions"))
        conn.execute(sa.text("VACUUM ANALYZE movements"))
        positions = conn.execute(sa.text("SELECT count(*) FROM positions")).scalar_one()
        movements = conn.execute(sa.text("SELECT count(*) FROM movements")).scalar_one()
    say(
        f"inserted {n} positions set-based in {time.perf_counter() - started:.1f} s "
        f"(database: {positions} positions, {movements} movements)"
    )


# ---------------------------------------------------------------------------------------------------------
# Measurements


def measure_batch(app, db) -> tuple[int, float]:  # noqa: ANN001
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.positions.batch_quotes import batch_quotes

    with app.app_context():
        principal = Principal(role="admin", ente_ids=frozenset(db.session.scalars(sa.select(Ente.id))))
        count, refused = 0, []
        started = time.perf_counter()
        for _pid, _total in batch_quotes(
            db.session, principal, AS_OF, workers=2, on_error=lambda pid, status, message: refused.append(pid)
        ):
            count += 1
            if count % 100000 == 0:
                say(f"batch: {count} quotes, {time.perf_counter() - started:.1f} s")
        seconds = time.perf_counter() - started
        db.session.rollback()
    if refused:
        say(f"batch: {len(refused)} positions refused by the engine (not counted): {refused[:5]}...")
    say(f"batch: {count} quotes in {seconds:.2f} s with 2 workers = {count / seconds:.0f} quotes/s")
    return count, seconds


def measure_endpoint(app, db) -> list[float]:  # noqa: ANN001
    from app.auth.services import issue_api_token
    from app.enti.models import Ente
    from app.positions.models import Position

    with app.app_context():
        ente = db.session.scalars(sa.select(Ente).order_by(Ente.id)).first()
        _, token = issue_api_token(
            db.session, name="bench_quote", ente_id=ente.id, scopes=["positions:read"], created_by_id=None
        )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Position.id).where(Position.ente_id == ente.id)))
        db.session.remove()
    rnd = random.Random(3)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for i in range(WARM_UP + REQUESTS):
        pid = rnd.choice(ids)
        started = time.perf_counter()
        response = client.get(f"/api/v1/positions/{pid}/quote?as_of={AS_OF.isoformat()}", headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            body = response.get_data(as_text=True)
            raise RuntimeError(f"position {pid}: HTTP {response.status_code} {body}")
        if i >= WARM_UP:
            timings.append(elapsed)
    timings.sort()
    p50, p95 = timings[len(timings) // 2], timings[-(-95 * len(timings) // 100) - 1]
    say(
        f"endpoint (Flask test client, in-process): {REQUESTS} requests after {WARM_UP} warm-up, "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms"
    )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100000, help="positions to insert (default 100000)")
    args = parser.parse_args()

    say(f"n={args.n}, as_of={AS_OF}, cpus={os.cpu_count()}")
    with seeded_app("quote", say) as bench:
        app = bench.app
        from app.extensions import db

        with app.app_context():
            insert_positions(db, args.n)
        count, seconds = measure_batch(app, db)
        timings = measure_endpoint(app, db)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    quotes_per_s = count / seconds
    p95 = timings[-(-95 * len(timings) // 100) - 1]
    print(
        json.dumps(
            {
                "n": args.n,
                "quotes_per_s": round(quotes_per_s, 1),
                "batch_seconds": round(seconds, 2),
                "p95_ms": round(p95, 2),
                "ratio": round(1_000_000 / quotes_per_s / 60, 3),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
