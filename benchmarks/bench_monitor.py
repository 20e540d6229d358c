"""Benchmark of the Regione's searches and position monitor (issue 15 points 1-2): p95 of the carico totals
page, the position search by name, the position monitor and the dossier PDF, against the raw SQL of the carico
totals as anchor.

    .venv/bin/python benchmarks/bench_monitor.py --n 100000

1. A throw-away database as in bench_quote.py (DATABASE_URL's server, else tests/pgtmp.py), migrated and
   seeded (demo world), then N positions with realistic ledgers inserted set-based
   (bench_quote.insert_positions: every one in a carico of its entrata).
2. Through Flask's test client, logged in as the demo `regione` user (ente R01), after 3 warm-up requests,
   REQUESTS requests each of: /monitor/carichi (every carico's totals from the ledger, set-based, with the
   count), /monitor/posizioni?nome=rossi (search by name with the amount due of the page),
   /monitor/posizioni/<id> (the monitor of a benchmark position), and 5 dossier PDFs (Typst).
3. The anchor: the same totals in raw SQL of the same shape, through psycopg, no app, no scoping.
The LAST line is one JSON object with p50/p95 in ms and ratio = carichi p95 / raw SQL p95.
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
from bench_quote import insert_positions  # noqa: E402
from support import seeded_app  # noqa: E402

REQUESTS, WARM_UP, DOSSIERS = 30, 3, 5
RAW_TOTALS = """
SELECT c.id, pc.n, l.loaded, l.abated, l.paid, l.balance, l.planned, l.suspended
FROM carichi c
LEFT JOIN (SELECT carico_id, count(*) AS n FROM positions
           WHERE ente_id = (SELECT id FROM enti WHERE code = 'R01')
           GROUP BY carico_id) pc ON pc.carico_id = c.id
LEFT JOIN (SELECT p.carico_id, sum(CASE WHEN m.kind = 'carico' THEN m.amount_cents ELSE 0 END) AS loaded,
                  sum(CASE WHEN m.kind = 'sgravio' THEN m.amount_cents ELSE 0 END) AS abated,
                  sum(CASE WHEN m.kind IN ('pagamento', 'rimborso') THEN m.amount_cents ELSE 0 END) AS paid,
                  sum(m.amount_cents) AS balance,
                  sum(CASE WHEN p.state = 'in_rateazione' THEN m.amount_cents ELSE 0 END) AS planned,
                  sum(CASE WHEN p.state = 'sospesa' THEN m.amount_cents ELSE 0 END) AS suspended
           FROM positions p JOIN movements m ON m.position_id = p.id
           WHERE p.ente_id = (SELECT id FROM enti WHERE code = 'R01')
           GROUP BY p.carico_id) l ON l.carico_id = c.id
WHERE c.ente_id = (SELECT id FROM enti WHERE code = 'R01')
"""


def say(text: str) -> None:
    print(f"[bench_monitor {time.strftime('%H:%M:%S')}] {text}", flush=True)


def timed(call, n: int) -> list[float]:  # noqa: ANN001
    for _ in range(WARM_UP):
        call()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def p95(values: list[float]) -> float:
    return values[-(-95 * len(values) // 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100000, help="positions to insert (default 100000)")
    args = parser.parse_args()

    from tests.conftest import Personas

    say(f"n={args.n}, cpus={os.cpu_count()}")
    results: dict[str, list[float]] = {}
    with seeded_app("monitor", say) as bench:
        app, url = bench.app, bench.url
        from app.extensions import db

        with app.app_context():
            insert_positions(db, args.n)
            position_id = db.session.scalar(sa.text(
                "SELECT p.id FROM positions p JOIN enti e ON e.id = p.ente_id "
                "WHERE e.code = 'R01' AND p.external_id LIKE 'BENCH-%' ORDER BY p.id LIMIT 1"))
            db.session.remove()
        client = Personas(app).client("regione")

        def get(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        results["carichi"] = timed(lambda: get("/monitor/carichi"), REQUESTS)
        results["search"] = timed(lambda: get("/monitor/posizioni?nome=rossi"), REQUESTS)
        results["monitor"] = timed(lambda: get(f"/monitor/posizioni/{position_id}"), REQUESTS)
        results["dossier"] = timed(lambda: get(f"/monitor/posizioni/{position_id}/dossier.pdf"), DOSSIERS)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            results["raw_totals"] = timed(lambda: conn.execute(sa.text(RAW_TOTALS)).all(), REQUESTS)
        engine.dispose()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    summary: dict[str, float] = {"n": args.n}
    for key, values in results.items():
        summary[f"{key}_p50_ms"] = round(statistics.median(values), 1)
        summary[f"{key}_p95_ms"] = round(p95(values), 1)
    summary["ratio"] = round(summary["carichi_p95_ms"] / summary["raw_totals_p95_ms"], 2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
