"""Benchmark of the escalation's daily proposal job on PostgreSQL, against the anchor of one hand-written
set-based query selecting the same positions in the same run.

    .venv/bin/python benchmarks/bench_escalation.py --n 1000000

1. a fresh database (DATABASE_URL, a PostgreSQL server URL, or a throw-away cluster from tests/pgtmp.py),
   migrated and seeded with the demo enti (tests/conftest.py);
2. an entrata of its own in R01 with the default ladder (app/escalation/rules.py) and N positions (set-based
   SQL): 15% never notified (the title is due), 60% notified on dates over three years, 10% paid,
   5% suspended, 5% in a plan, 5% partly paid; one carico movement each, from 30 to 25.000 euro (some
   above the sollecito's 10.000 euro threshold);
3. the anchor: ONE hand-written query (CREATE TABLE AS SELECT) of the positions the run must propose today
   (the title for the unnotified ones 30 days after the due date; the sollecito 60 days after the title up to
   the threshold; above it the sollecito does not apply and the intimazione comes a year after the title),
   not blocked (the blocker states, a deceased taxpayer);
4. ours: `app.escalation.proposals.compute_proposals` (sync, the open positions with their balance, one
   INSERT ... SELECT per step writing the proposals, proposed or not applicable, and the skips of the blocked
   positions once per step and blocker; one summary event per step; no event per position), committed;
5. checks both selected the same positions;
6. the floor: a hand-written job (FLOOR_SQL) doing the same work for this ladder in ONE statement: the
   anchor's selection and the rows the job must write (the proposals, proposed and not applicable: the next
   step reads them; the skips of the positions a blocker holds: the card shows them), into fresh copies of the
   two tables with the same indexes, committed (its counts must equal ours): no job that writes those rows
   goes below it;
7. reruns the job the same day (after VACUUM ANALYZE, as autovacuum would have run): it must write nothing
   (idempotent), its time printed as "rerun_s";
8. prints, as the last line, one JSON object with the times, "ratio" = ours / anchor, "floor_s",
   "floor_ratio" = floor / anchor (the ratio no job writing those rows can go below) and "ours_to_floor".
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import _admin  # noqa: E402
from tests.pgtmp import server_from_env  # noqa: E402

ON = dt.date(2026, 6, 1)


def say(text: str) -> None:
    print(f"[bench_escalation {time.strftime('%H:%M:%S')}] {text}", flush=True)


@contextlib.contextmanager
def server() -> Iterator[str]:
    where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "throw-away cluster (tests/pgtmp.py)"
    say(f"server: {where}")
    with server_from_env() as url:
        yield url


POSITIONS_SQL = """
INSERT INTO positions (ente_id, entrata_id, taxpayer_id, external_id, year, description, due_date,
                       notified_date, state, created_dt)
SELECT :ente, :entrata, tp.ids[1 + g % array_length(tp.ids, 1)], 'EB-' || g, 2023, 'benchmark ' || g,
       date '2023-01-31' + (g % 700),
       CASE WHEN g % 20 < 3 THEN NULL ELSE date '2023-04-01' + (g % 1100) END,
       CASE WHEN g % 20 < 3 THEN 'caricata' WHEN g % 20 < 15 THEN 'notificata'
            WHEN g % 20 IN (15, 16) THEN 'pagata' WHEN g % 20 = 17 THEN 'sospesa'
            WHEN g % 20 = 18 THEN 'in_rateazione' ELSE 'parzialmente_pagata' END,
       now()
FROM generate_series(1, :n) AS g, (SELECT array_agg(id ORDER BY id) AS ids FROM taxpayers) AS tp
"""
MOVEMENTS_SQL = """
INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
SELECT id, 'capitale', 'carico', 3000 + (id::bigint * 7919 % 2497000), due_date, now(), 'bench'
FROM positions WHERE entrata_id = :entrata
"""
# The hand-written anchor: the positions today's run proposes, by step, in one statement.
ANCHOR_SQL = """
CREATE TABLE bench_anchor AS
WITH bal AS (
    SELECT m.position_id, sum(m.amount_cents) AS cents
    FROM movements m JOIN positions p ON p.id = m.position_id
    WHERE p.entrata_id = :entrata GROUP BY m.position_id
), free AS (
    SELECT p.id, p.state, p.due_date, p.notified_date, coalesce(b.cents, 0) AS cents
    FROM positions p LEFT JOIN bal b ON b.position_id = p.id
    JOIN taxpayers t ON t.id = p.taxpayer_id
    WHERE p.entrata_id = :entrata AND t.deceased_date IS NULL
      AND p.state NOT IN ('in_rateazione', 'sospesa', 'pagata', 'sgravata', 'prescritta', 'inesigibile')
)
SELECT id, 'ingiunzione' AS act FROM free
 WHERE notified_date IS NULL AND state = 'caricata' AND due_date <= CAST(:on AS date) - 30
UNION ALL
SELECT id, 'sollecito' FROM free
 WHERE notified_date <= CAST(:on AS date) - 60 AND cents <= :threshold
   AND state IN ('notificata', 'scaduta', 'parzialmente_pagata')
UNION ALL
SELECT id, 'intimazione' FROM free
 WHERE notified_date <= CAST(:on AS date) - 365 AND cents > :threshold
   AND state IN ('notificata', 'scaduta', 'parzialmente_pagata')
"""
# The floor: a hand-written job doing the same work in ONE statement, for this ladder only (no rules as data,
# no registry of blockers, no check of what earlier runs wrote): the anchor's selection, and the rows the job
# must write (the proposals, proposed and not applicable: the next step reads them; the skips of the positions
# a blocker holds: the card shows them), into fresh copies of the two tables with the same indexes,
# committed. No job that writes those rows can go below it.
FLOOR_TABLES = (
    "CREATE TABLE bench_floor_proposals (LIKE escalation_proposals INCLUDING ALL)",
    "CREATE TABLE bench_floor_skips (LIKE escalation_skips INCLUDING ALL)",
)
FLOOR_SQL = """
WITH bal AS (
    SELECT m.position_id, sum(m.amount_cents) AS cents
    FROM movements m JOIN positions p ON p.id = m.position_id
    WHERE p.entrata_id = :entrata GROUP BY m.position_id
), open AS (
    SELECT p.id, p.ente_id, p.state, p.due_date, p.notified_date, coalesce(b.cents, 0) AS cents
    FROM positions p LEFT JOIN bal b ON b.position_id = p.id
    JOIN taxpayers t ON t.id = p.taxpayer_id
    WHERE p.entrata_id = :entrata AND t.deceased_date IS NULL
      AND p.state NOT IN ('pagata', 'sgravata', 'prescritta', 'inesigibile')
), skips AS (
    INSERT INTO bench_floor_skips (position_id, step_id, blocker, run_date, created_dt)
    SELECT id, :sollecito, state, :on, now() FROM open
    WHERE state IN ('in_rateazione', 'sospesa') AND notified_date <= CAST(:on AS date) - 60
    RETURNING 1
), rows AS (
    SELECT id, ente_id, :ingiunzione AS step, 'ingiunzione' AS act, 'proposta' AS status, cents,
           NULL AS reason
    FROM open WHERE notified_date IS NULL AND state = 'caricata' AND due_date <= CAST(:on AS date) - 30
    UNION ALL
    SELECT id, ente_id, :sollecito, 'sollecito',
           CASE WHEN cents > :threshold THEN 'non_applicabile' ELSE 'proposta' END, cents,
           CASE WHEN cents > :threshold THEN CAST(:reason AS text) END
    FROM open WHERE notified_date <= CAST(:on AS date) - 60
      AND state IN ('notificata', 'scaduta', 'parzialmente_pagata')
    UNION ALL
    SELECT id, ente_id, :intimazione, 'intimazione', 'proposta', cents, NULL
    FROM open WHERE notified_date <= CAST(:on AS date) - 365 AND cents > :threshold
      AND state IN ('notificata', 'scaduta', 'parzialmente_pagata')
), props AS (
    INSERT INTO bench_floor_proposals (ente_id, rule_id, step_id, position_id, act_code, run_date, status,
                                       amount_cents, reason, origin, created_dt)
    SELECT ente_id, :rule, step, id, act, :on, status, cents, reason, 'regola', now() FROM rows
    ORDER BY id, step
    RETURNING 1
)
SELECT (SELECT count(*) FROM props) AS proposals, (SELECT count(*) FROM skips) AS skips
"""


def same_settings(conn) -> None:  # noqa: ANN001
    """The anchor and the floor run with the job's own session setting (app/escalation/proposals.py: no JIT),
    so that the ratios compare the queries, not the settings (JIT made no difference to the anchor: 1.33-1.43
    s with or without it at 1M)."""
    from app.escalation.proposals import JOB_SETTINGS

    conn.execute(sa.text(JOB_SETTINGS))


def floor_seconds(db, entrata_id: int, rule_id: int, threshold: int, result: dict) -> float:  # noqa: ANN001
    """The floor (FLOOR_SQL) in fresh copies of the tables, committed, then dropped; its counts must be
    ours."""
    import sqlalchemy as sa

    with db.engine.begin() as conn:
        for statement in FLOOR_TABLES:
            conn.execute(sa.text(statement))
        steps = dict(
            conn.execute(
                sa.text("SELECT act_code, id FROM escalation_steps WHERE rule_id = :rule"), {"rule": rule_id}
            ).all()
        )
        reason = conn.execute(
            sa.text("SELECT reason FROM escalation_proposals WHERE rule_id = :rule AND status = "
                    "'non_applicabile' LIMIT 1"),
            {"rule": rule_id},
        ).scalar_one()
    _vacuum(db)
    binds = {
        "entrata": entrata_id,
        "rule": rule_id,
        "on": ON,
        "threshold": threshold,
        "reason": reason,
        "ingiunzione": steps["ingiunzione"],
        "sollecito": steps["sollecito"],
        "intimazione": steps["intimazione"],
    }
    try:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            same_settings(conn)
            counts = conn.execute(sa.text(FLOOR_SQL), binds).one()
        seconds = time.perf_counter() - started
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS bench_floor_proposals, bench_floor_skips"))
    assert counts.proposals == result["proposed"] + result["not_applicable"], (counts, result)
    assert counts.skips == result["skipped"], (counts, result)
    return seconds


def build(app, db, n: int) -> tuple[int, int]:  # noqa: ANN001
    """The entrata, its default rule and N positions with their movements; returns (entrata id, rule id)."""
    from app.core.audit import Actor
    from app.enti.defaults import ENTRATA_RULES
    from app.enti.models import Ente
    from app.enti.services import ensure_entrata, ensure_entrata_parameter
    from app.escalation.rules import create_default_rule, ensure_parameters

    with app.app_context():
        session = db.session
        ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        entrata = ensure_entrata(session, ente, code="BENCH_ESC", name="Benchmark escalation")
        ensure_entrata_parameter(session, entrata, ENTRATA_RULES["SANZIONI"])
        ensure_parameters(session)
        rule = create_default_rule(session, entrata, Actor.system("bench"))
        session.commit()
        started = time.perf_counter()
        params = {"ente": ente.id, "entrata": entrata.id, "n": n}
        session.execute(sa.text(POSITIONS_SQL), params)
        session.execute(sa.text(MOVEMENTS_SQL), params)
        session.commit()
        say(f"{n} positions with their movements in {time.perf_counter() - started:.1f} s")
        return entrata.id, rule.id


def _vacuum(db) -> None:  # noqa: ANN001
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        conn.execute(sa.text("CHECKPOINT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="positions (default 1,000,000)")
    args = parser.parse_args()

    from tests.conftest import build_app, migrate_and_seed

    say(f"n={args.n}, cpus={os.cpu_count()}")
    with server() as server_url, tempfile.TemporaryDirectory(prefix="bench-escalation-") as instance:
        name = f"bench_escalation_{os.getpid()}"
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(server_url, f'CREATE DATABASE "{name}"')
        url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
        try:
            redis = (
                {"REDIS_URL": os.environ["REDIS_URL"]}
                if os.environ.get("REDIS_URL")
                else {"REDIS_URL": None, "INSTANCE_DIR": instance}
            )
            app = build_app(url, **redis)
            started = time.perf_counter()
            migrate_and_seed(app)
            say(f"migrated and seeded in {time.perf_counter() - started:.1f} s")
            from app.escalation.rules import SOLLECITO_THRESHOLD, bound_cents
            from app.extensions import db

            entrata_id, rule_id = build(app, db, args.n)
            with app.app_context():
                from app.enti.models import Entrata

                entrata = db.session.get(Entrata, entrata_id)
                threshold, _ = bound_cents(
                    db.session, SOLLECITO_THRESHOLD, ON, ente_id=entrata.ente_id, entrata_id=entrata.id
                )
                _vacuum(db)
                started = time.perf_counter()
                with db.engine.begin() as conn:
                    same_settings(conn)
                    conn.execute(
                        sa.text(ANCHOR_SQL), {"entrata": entrata_id, "on": ON, "threshold": threshold}
                    )
                anchor_seconds = time.perf_counter() - started
                with db.engine.connect() as conn:
                    anchor_rows = conn.execute(sa.text("SELECT count(*) FROM bench_anchor")).scalar_one()
                say(
                    f"anchor: one hand-written query selected {anchor_rows} positions"
                    f" in {anchor_seconds:.2f} s"
                )
                db.session.remove()
                _vacuum(db)
            with app.app_context():
                from app.escalation.proposals import compute_proposals

                started = time.perf_counter()
                summary = compute_proposals(db.session, ON, rule_ids=[rule_id])
                db.session.commit()
                ours_seconds = time.perf_counter() - started
                result = summary.as_json()
                say(
                    f"ours: compute_proposals proposed {result['proposed']}, not applicable "
                    f"{result['not_applicable']}, skipped {result['skipped']} in {ours_seconds:.2f} s"
                )
                for step in summary.steps:
                    say(
                        f"  step {step.step_id}: {step.seconds:.2f} s, proposed {step.proposed}, "
                        f"not applicable {step.not_applicable}, skipped {step.skipped}"
                    )
                with db.engine.connect() as conn:
                    differ = conn.execute(
                        sa.text(
                            "SELECT count(*) FROM ("
                            " (SELECT id, act FROM bench_anchor"
                            "  EXCEPT SELECT position_id, act_code FROM escalation_proposals"
                            "  WHERE rule_id = :rule AND status = 'proposta')"
                            " UNION ALL"
                            " (SELECT position_id, act_code FROM escalation_proposals"
                            "  WHERE rule_id = :rule AND status = 'proposta'"
                            "  EXCEPT SELECT id, act FROM bench_anchor)) d"
                        ),
                        {"rule": rule_id},
                    ).scalar_one()
                db.session.remove()
                _vacuum(db)  # as autovacuum does after the first run's inserts, before the next day's run
                started = time.perf_counter()
                again = compute_proposals(db.session, ON, rule_ids=[rule_id]).as_json()
                db.session.commit()
                rerun_seconds = time.perf_counter() - started
                say(f"rerun the same day (writes nothing new): {again} in {rerun_seconds:.2f} s")
                assert again["proposed"] == again["not_applicable"] == again["skipped"] == 0, again
                db.session.remove()
                _vacuum(db)
                floor = floor_seconds(db, entrata_id, rule_id, threshold, result)
                say(f"floor: a hand-written job selecting and writing the same rows in {floor:.2f} s")
                db.engine.dispose()
            assert differ == 0 and result["proposed"] == anchor_rows, (
                differ,
                result["proposed"],
                anchor_rows,
            )
        finally:
            if os.environ.get("BENCH_KEEP"):
                say(f"kept database {name}")
            else:
                _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            say(f"dropped database {name}")
    figures = {
        "n": args.n,
        "proposed": result["proposed"],
        "not_applicable": result["not_applicable"],
        "skipped": result["skipped"],
        "anchor_seconds": round(anchor_seconds, 2),
        "ours_seconds": round(ours_seconds, 2),
        "ratio": round(ours_seconds / anchor_seconds, 2),
        "floor_s": round(floor, 2),
        "rerun_s": round(rerun_seconds, 2),
        "floor_ratio": round(floor / anchor_seconds, 2),
        "ours_to_floor": round(ours_seconds / floor, 2),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
