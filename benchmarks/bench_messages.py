"""Benchmark of the reminder rules (issue 12, messages): messages queued per second by the rules job, and the
cost of a rerun (which must queue nothing).

    .venv/bin/python benchmarks/bench_messages.py --n 2000

1. A throw-away database (on DATABASE_URL's server, else a throw-away cluster: tests/pgtmp.py), migrated and
   seeded with the demo world (tests/conftest.py: 40 taxpayers); REDIS_URL when set (the jobs land there).
2. N positions of R01 due on DAY + 7, each with a carico of capitale (set-based INSERT ... SELECT).
3. One rule (R01, promemoria_rata, channels pec then email, 7 days before); (a) `run_rules(DAY)` + commit:
   every position gets one message (queued on PEC when the taxpayer has one, otherwise refused with the
   reason: no e-mail consent), with its amount due, notice number and template text, its timeline event and
   its sending job pushed to RQ; (b) the same run again: nothing queued (the dedup keys).
4. The anchor: the same number of bare `messages` rows inserted with one executemany (the floor of storing
   them), rolled back.
Progress goes to stdout; the LAST line is one JSON object:
    {"n": N, "messages_per_s": ..., "run_seconds": ..., "rerun_seconds": ..., "anchor_rows_per_s": ...,
     "ratio": ...}
with ratio = run_seconds / anchor_seconds (ours over the bare inserts; lower is better). The database is
dropped and the RQ jobs of the run are removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from support import seeded_app  # noqa: E402

DAY = dt.date(2026, 12, 3)

POSITIONS_SQL = """
WITH en AS (SELECT e.id AS ente_id, min(x.id) AS entrata_id FROM enti e JOIN entrate x ON x.ente_id = e.id
            WHERE e.code = 'R01' GROUP BY e.id),
     tp AS (SELECT array_agg(t.taxpayer_id ORDER BY t.taxpayer_id) AS ids FROM taxpayer_enti t
            JOIN enti e ON e.id = t.ente_id WHERE e.code = 'R01')
INSERT INTO positions (ente_id, entrata_id, taxpayer_id, external_id, year, description, due_date, state,
                       created_dt)
SELECT en.ente_id, en.entrata_id, tp.ids[1 + g % array_length(tp.ids, 1)], 'BENCH-MSG-' || g, 2025,
       'benchmark ' || g, :due, 'notificata', now()
FROM generate_series(1, :n) AS g, en, tp
"""
MOVEMENTS_SQL = """
INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
SELECT id, 'capitale', 'carico', 10000 + id % 50000, :due, now(), 'benchmark'
FROM positions WHERE external_id LIKE 'BENCH-MSG-%'
"""


def say(text: str) -> None:
    print(f"[bench_messages {time.strftime('%H:%M:%S')}] {text}", flush=True)




def measure(app, n: int) -> dict[str, float]:  # noqa: ANN001
    from app.core.audit import Actor
    from app.crm.messages.models import Message
    from app.crm.messages.services import run_rules, save_rule
    from app.enti.models import Ente
    from app.extensions import db

    due = DAY + dt.timedelta(days=7)
    with app.app_context():
        db.session.execute(sa.text(POSITIONS_SQL), {"n": n, "due": due})
        db.session.execute(sa.text(MOVEMENTS_SQL), {"due": due})
        r01 = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        save_rule(db.session, ente_id=r01.id, entrata_id=None, purpose="promemoria_rata",
                  channels=["pec", "email"], days_before=7)
        db.session.commit()
        say(f"{n} positions due on {due}")
        started = time.perf_counter()
        first = run_rules(db.session, DAY, Actor.system("benchmark"))
        db.session.commit()
        run_seconds = time.perf_counter() - started
        say(f"run: {first.as_json()} in {run_seconds:.2f} s")
        started = time.perf_counter()
        again = run_rules(db.session, DAY, Actor.system("benchmark"))
        db.session.commit()
        rerun_seconds = time.perf_counter() - started
        say(f"rerun: {again.as_json()} in {rerun_seconds:.2f} s")
        assert again.queued == 0 and again.refused == 0
        made = first.queued + first.refused
        template = db.session.scalars(sa.select(Message.template_id)).first()
        taxpayer = db.session.scalars(sa.select(Message.taxpayer_id)).first()
        rows = [
            {"ente_id": r01.id, "taxpayer_id": taxpayer, "channel": "pec", "recipient": "x@pec.esempio.it",
             "template_id": template, "purpose": "promemoria_rata", "subject": "Promemoria",
             "body": "Gentile contribuente, " * 12, "payload": {}, "status": "in_coda", "attempts": 0,
             "dedup_key": f"anchor-{i}", "actor_label": "benchmark", "created_dt": dt.datetime.now(dt.UTC)}
            for i in range(made)
        ]
        started = time.perf_counter()
        db.session.execute(sa.insert(Message), rows)
        db.session.flush()
        anchor_seconds = time.perf_counter() - started
        db.session.rollback()
        from app.core.jobs import queue

        queue("default").empty()
        db.session.remove()
        db.engine.dispose()
    return {"made": made, "queued": first.queued, "run_seconds": run_seconds, "rerun_seconds": rerun_seconds,
            "anchor_seconds": anchor_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="positions due (default 2000)")
    args = parser.parse_args()

    with seeded_app("messages", say) as bench:
        app = bench.app
        result = measure(app, args.n)
    print(json.dumps({
        "n": args.n,
        "messages": result["made"],
        "queued": result["queued"],
        "messages_per_s": round(result["made"] / result["run_seconds"], 1),
        "run_seconds": round(result["run_seconds"], 2),
        "rerun_seconds": round(result["rerun_seconds"], 2),
        "anchor_rows_per_s": round(result["made"] / result["anchor_seconds"], 1),
        "ratio": round(result["run_seconds"] / result["anchor_seconds"], 1),
    }), flush=True)


if __name__ == "__main__":
    main()
