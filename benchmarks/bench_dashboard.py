"""Benchmark of the dashboards (issue 15 point 3): p95 of the whole dashboard page at N positions, against an
anchor computing the same aggregates live with one hand-written SQL in the same run.

    .venv/bin/python benchmarks/bench_dashboard.py --n 3000000   # DATABASE_URL=postgresql+psycopg://...

1. A throw-away database (DATABASE_URL's server, else a throw-away cluster from tests/pgtmp.py), migrated and
   seeded (tests/conftest.py), then N positions with realistic ledgers inserted set-based by bench_quote's
   `insert_positions` (about 3.5 movements per position: carico, payments on ~30%, abatements, refunds).
2. The materialised summary rebuilt (`app.analytics.tasks.refresh_summary`, what the nightly job runs):
   `refresh_s` is its time, commit included.
3. `dashboard_p95_ms`: 100 GET /analisi/ (after 5 warm-up) as the seeded Regione user of R01 and 100 as the
   administrator (both enti), through Flask's test client: the whole request (login session, six panels,
   scoping, the live panels on acts, contacts and tickets, the template).
4. The anchor: carico and collected by entrata and year, the collection rate and the ageing buckets of both
   enti, computed live from positions and movements by one hand-written SQL through the same engine (3 runs,
   the median: `anchor_ms`). `ratio` = dashboard_p95_ms / anchor_ms (below 1: the page answers faster than the
   live aggregate it replaces).
The LAST line is one JSON object:
    {"n": N, "refresh_s": ..., "dashboard_p50_ms": ..., "dashboard_p95_ms": ..., "anchor_ms": ...,
     "ratio": ...}
Goal: dashboard_p95_ms < 1000 at 3,000,000 positions. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import sqlalchemy as sa  # noqa: E402
from bench_quote import AS_OF, insert_positions  # noqa: E402
from support import seeded_app  # noqa: E402

REQUESTS, WARM_UP, ANCHOR_RUNS = 100, 5, 3

ANCHOR_SQL = """
WITH ledger AS (
    SELECT position_id,
           sum(amount_cents) FILTER (WHERE kind = 'carico') AS carico,
           -coalesce(sum(amount_cents) FILTER (WHERE kind = 'sgravio'), 0) AS sgravi,
           -coalesce(sum(amount_cents) FILTER (WHERE kind IN ('pagamento', 'rimborso')), 0) AS riscosso,
           sum(amount_cents) AS residuo
    FROM movements GROUP BY position_id
), per_position AS (
    SELECT p.ente_id, p.entrata_id, p.year,
           CASE WHEN p.due_date <= :y5 THEN 4 WHEN p.due_date <= :y3 THEN 3 WHEN p.due_date <= :y2 THEN 2
                WHEN p.due_date <= :y1 THEN 1 ELSE 0 END AS bucket,
           l.carico, l.sgravi, l.riscosso, l.residuo
    FROM positions p LEFT JOIN ledger l ON l.position_id = p.id
)
SELECT 'anno' AS what, ente_id, entrata_id, year AS k, count(*), sum(carico), sum(sgravi), sum(riscosso),
       sum(residuo)
FROM per_position GROUP BY ente_id, entrata_id, year
UNION ALL
SELECT 'fascia', ente_id, NULL, bucket, count(*), sum(carico), sum(sgravi), sum(riscosso), sum(residuo)
FROM per_position GROUP BY ente_id, bucket
"""


def say(text: str) -> None:
    print(f"[bench_dashboard {time.strftime('%H:%M:%S')}] {text}", flush=True)


def percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[-(-q * len(ordered) // 100) - 1]


def measure_refresh(app) -> float:  # noqa: ANN001
    from app.analytics.tasks import refresh_summary

    with app.app_context():
        started = time.perf_counter()
        result = refresh_summary(AS_OF.isoformat())
        seconds = time.perf_counter() - started
    say(f"summary rebuilt: {result['rows']} rows in {seconds:.2f} s")
    return seconds


def measure_dashboard(app) -> list[float]:  # noqa: ANN001
    from tests.conftest import Personas

    timings = []
    for username in ("regione", "admin"):
        client = Personas(app).client(username)
        for i in range(WARM_UP + REQUESTS):
            started = time.perf_counter()
            response = client.get("/analisi/")
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or b"data-analytics-chart" not in response.data:
                raise RuntimeError(f"/analisi/ as {username}: HTTP {response.status_code}")
            if i >= WARM_UP:
                timings.append(elapsed)
    say(
        f"dashboard: {len(timings)} requests, p50 {percentile(timings, 50):.1f} ms, "
        f"p95 {percentile(timings, 95):.1f} ms, max {max(timings):.1f} ms"
    )
    return timings


def measure_anchor(app) -> float:  # noqa: ANN001
    from app.analytics.summary import years_before
    from app.extensions import db

    cuts = {f"y{n}": years_before(AS_OF, n) for n in (1, 2, 3, 5)}
    runs = []
    with app.app_context():
        for _ in range(ANCHOR_RUNS):
            started = time.perf_counter()
            rows = db.session.execute(sa.text(ANCHOR_SQL), cuts).all()
            runs.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    say(f"anchor (one live SQL, {len(rows)} rows): runs {', '.join(f'{r:.0f}' for r in runs)} ms")
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3_000_000, help="positions to insert (default 3,000,000)")
    args = parser.parse_args()

    say(f"n={args.n}, as_of={AS_OF}, cpus={os.cpu_count()}")
    with seeded_app("dashboard", say) as bench:
        from app.extensions import db

        app = bench.app
        with app.app_context():
            insert_positions(db, args.n)
        refresh = measure_refresh(app)
        timings = measure_dashboard(app)
        anchor = measure_anchor(app)
    p95 = percentile(timings, 95)
    print(
        json.dumps(
            {
                "n": args.n,
                "refresh_s": round(refresh, 2),
                "dashboard_p50_ms": round(percentile(timings, 50), 1),
                "dashboard_p95_ms": round(p95, 1),
                "anchor_ms": round(anchor, 1),
                "ratio": round(p95 / anchor, 4),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
