"""Benchmark of mass issuance (issue 13): a campaign job rendering N acts with the pagoPA QR, against raw
Typst compiling the same template with the same data in a loop (the anchor).

    .venv/bin/python benchmarks/bench_acts.py --n 10000   # DATABASE_URL=... REDIS_URL=... (else throw-away)

1. A throw-away database (benchmarks/support.py `seeded_app`: on DATABASE_URL's server, else a throw-away
   cluster; migrated and seeded as the tests are, 40 taxpayers); N positions of ente R01 added set-based (a
   carico of capitale each, due 2024), their codici avviso assigned (app/payments/notices.py, set-based).
2. Campaign: a `sollecito` campaign over those N positions (app/atti/campaigns.py: create, approve), then two
   `esattoria worker` processes (both cores; started and listening before the approval, each in a session of
   its own, as services are in production) run the job: chunks of at most 200 acts, smaller towards the end
   (app/atti/tasks.py `chunk_sizes`), each act with its amount due of the day, protocol, Typst PDF (one page
   of text plus the pagoPA notice page with its QR, compiled once), archive document with links, `Act` row,
   fixing movements and events, written a table at a time by Core executemany INSERTs (app/atti/bulk.py).
   Timed from the approval's commit to the campaign's completion.
3. Anchor: one process compiling the same template (`typst.Compiler` reused) with the same data (the issued
   acts' data, QR made with segno) N times.
The LAST line is JSON: {"n", "campaign_seconds", "acts_per_s", "raw_seconds", "raw_acts_per_s", "ratio",
"campaign_cpu_seconds", "raw_cpu_seconds", "cpu_ratio", "statements_per_act"} with ratio = campaign_seconds /
raw_seconds (goal <= 1.25); cpu_ratio = the two workers' CPU seconds (their whole life, PostgreSQL's work not
counted) / the anchor's: what the ratio would be on one core, a figure a loaded machine does not blur; the
statements are those the chunk tasks counted (each reports its count in its RQ result). The database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import subprocess  # nosec B404: our own command, fixed arguments
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

ISSUE_DATE = dt.date.today()  # movements are read as booked by the end of the issue date
WORKERS = 2


def say(text: str) -> None:
    print(f"[bench_acts {time.strftime('%H:%M:%S')}] {text}", flush=True)


POSITIONS_SQL = """
WITH e AS (SELECT en.id AS entrata_id, en.ente_id,
                  (SELECT min(c.id) FROM carichi c WHERE c.entrata_id = en.id) AS carico_id
           FROM entrate en JOIN enti t ON t.id = en.ente_id WHERE t.code = 'R01' AND en.code = 'TASSA_AUTO'),
     tp AS (SELECT array_agg(t.id ORDER BY t.id) AS ids FROM taxpayers t
            WHERE EXISTS (SELECT 1 FROM taxpayer_addresses a WHERE a.taxpayer_id = t.id
                          AND a.valid_to_dt IS NULL
                          AND a.cap IS NOT NULL))
INSERT INTO positions (ente_id, entrata_id, carico_id, taxpayer_id, external_id, year, description, due_date,
                       state, created_dt)
SELECT e.ente_id, e.entrata_id, e.carico_id, tp.ids[1 + g % array_length(tp.ids, 1)], 'BENCH-ACT-' || g, 2024,
       'Tassa automobilistica 2024', date '2024-01-31' + (g % 300), 'notificata', now()
FROM generate_series(1, :n) AS g, e, tp
"""
MOVEMENTS_SQL = """
INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
SELECT p.id, 'capitale', 'carico', 5000 + (p.id * 7919) % 95000, p.due_date, now(), 'bench'
FROM positions p WHERE p.external_id LIKE 'BENCH-ACT-%'
"""


def setup(db, n: int) -> list[int]:  # noqa: ANN001
    from app.payments.notices import assign_notice_numbers
    from app.positions.models import Position

    with db.engine.begin() as conn:
        conn.execute(sa.text(POSITIONS_SQL), {"n": n})
        conn.execute(sa.text(MOVEMENTS_SQL))
    ids = list(db.session.scalars(sa.select(Position.id).where(Position.external_id.like("BENCH-ACT-%"))))
    assign_notice_numbers(db.session, ids, issued_on=ISSUE_DATE)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("positions", "movements", "notice_numbers"):
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))  # nosec B608: fixed table names
    return ids


def children_cpu() -> float:
    """CPU seconds of this process's finished children and their own reaped children (the workers and their
    work-horses, once the workers have exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_campaign(app, db, n: int, env: dict[str, str]) -> tuple[float, int, int, float]:  # noqa: ANN001
    from rq import Worker
    from rq.exceptions import NoSuchJobError
    from rq.registry import FinishedJobRegistry

    from app.atti.campaigns import Criteria, approve_campaign, create_campaign
    from app.atti.models import Campaign
    from app.core.access import Principal
    from app.core.audit import Actor
    from app.core.jobs import queue
    from app.enti.models import Ente, Entrata

    with app.app_context():
        queue("default").empty()
        registry = FinishedJobRegistry(queue=queue("default"))
        for job_id in registry.get_job_ids():
            with contextlib.suppress(NoSuchJobError):  # an entry outlives its job's hash (result_ttl)
                registry.remove(job_id, delete_job=True)
        ente = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        entrata = db.session.scalars(
            sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == "TASSA_AUTO")
        ).one()
        started = time.perf_counter()
        campaign = create_campaign(
            db.session,
            Principal(role="admin", ente_ids=frozenset({ente.id})),
            Actor.system("bench_acts"),
            ente=ente,
            act_code="sollecito",
            name="bench",
            criteria=Criteria(entrata_id=entrata.id, states=["notificata"]),
            issue_date=ISSUE_DATE,
        )
        db.session.commit()
        say(
            f"campaign created: {campaign.summary} in {time.perf_counter() - started:.1f} s "
            "(preview, not timed)"
        )
        # the workers are up before the approval, as in production (their start-up is not the campaign's)
        cpu_before = children_cpu()
        # Each worker in a session of its own, as services are in production: with the kernel's autogroup
        # scheduling (on here: /proc/sys/kernel/sched_autogroup_enabled) the processes of one session share
        # one fair share of a loaded machine, so two workers in the benchmark's session would get no more CPU
        # than the anchor's one process. On an idle machine it changes nothing.
        workers = [
            subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "esattoria"), "worker", "default"],  # nosec B603
                env=env,
                cwd=str(ROOT),
                start_new_session=True,
            )
            for _ in range(WORKERS)
        ]
        while Worker.count(queue=queue("default")) < WORKERS:
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker did not start")
            time.sleep(0.2)
        say(f"{WORKERS} workers listening")
        approve_campaign(db.session, campaign, Actor.system("bench_acts"), can_approve=True)
        db.session.commit()
        campaign_id = campaign.id
        started = time.perf_counter()
        status = ""
        while True:
            time.sleep(0.1)
            db.session.rollback()
            status = db.session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))
            if status != "in_corso" or any(w.poll() is not None for w in workers):
                break
        seconds = time.perf_counter() - started
        for w in workers:
            w.terminate()  # warm shutdown: the current job (none by now) finishes first
        for w in workers:
            w.wait(timeout=120)
        cpu = children_cpu() - cpu_before  # the workers' whole life: start-up and idle polling included
        issued = db.session.scalar(
            sa.text("SELECT count(*) FROM acts WHERE campaign_id = :c"), {"c": campaign_id}
        )
        statements = chunk_statements(queue("default"))
        say(
            f"campaign {status}: {issued} acts in {seconds:.1f} s with {WORKERS} workers = "
            f"{issued / seconds:.1f} acts/s; {statements} SQL statements in the chunks = "
            f"{statements / max(int(issued), 1):.2f} an act"
        )
        say(f"workers' CPU (start-up included, PostgreSQL's not): {cpu:.1f} s")
        return seconds, int(issued), statements, cpu


def chunk_statements(q) -> int:  # noqa: ANN001
    """The SQL statements of the chunk tasks (each reports its count: app/atti/tasks.py)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    total = 0
    for job_id in FinishedJobRegistry(queue=q).get_job_ids():
        result = Job.fetch(job_id, connection=q.connection).return_value()
        if isinstance(result, dict) and "statements" in result:
            total += int(result["statements"])
    return total


def raw_anchor(app, db, n: int) -> tuple[float, float]:  # noqa: ANN001
    """The same template, the same data (the issued acts'), Typst alone in a loop."""
    import typst

    from app.atti import rendering, services
    from app.atti.models import Act, ActTemplate
    from app.positions.models import Position

    with app.app_context():
        acts = list(db.session.scalars(sa.select(Act).order_by(Act.id).limit(n)))
        template = db.session.get(ActTemplate, acts[0].template_id)
        datas = []
        for act in acts:
            position = db.session.get(Position, act.position_id)
            datas.append(
                services.act_data(
                    ente=position.ente,
                    entrata=position.entrata,
                    position=position,
                    taxpayer=position.taxpayer,
                    act_type=act.act_type,
                    protocol=act.protocol,
                    on=act.issue_date,
                    notice_number=act.notice_number,
                    lines=act.breakdown["lines"],
                    total_cents=act.amount_due_cents,
                    term=act.breakdown["term_days"],
                    signature=services.signatory(db.session, position.ente, act.issue_date),
                )
            )
        source = rendering._source_file(template.source)  # noqa: SLF001 (the very file the campaign compiled)
        compiler = typst.Compiler(str(source), font_paths=rendering._font_paths())  # noqa: SLF001
        compiler.compile(sys_inputs=rendering.sys_inputs(datas[0]))  # warm-up (fonts), not timed
        started, cpu = time.perf_counter(), time.process_time()
        for data in datas:
            compiler.compile(sys_inputs=rendering.sys_inputs(data))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rate = len(datas) / seconds
    say(f"raw Typst: {len(datas)} acts in {seconds:.1f} s = {rate:.1f} acts/s (one process), CPU {cpu:.1f} s")
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="acts to issue (default 10000)")
    args = parser.parse_args()
    from support import seeded_app

    say(f"n={args.n}, cpus={os.cpu_count()}")
    with seeded_app("acts", say) as bench:
        from app.core.jobs import connection
        from app.extensions import db

        with bench.app.app_context():
            started = time.perf_counter()
            setup(db, args.n)
            say(f"{args.n} positions with notice numbers in {time.perf_counter() - started:.1f} s")
            redis_url = (
                os.environ.get("REDIS_URL")
                or "unix://" + connection().connection_pool.connection_kwargs["path"]
            )
        env = {
            **os.environ,
            "DATABASE_URL": bench.url,
            "REDIS_URL": redis_url,
            "FILE_STORE": bench.store,
            "INSTANCE_DIR": bench.instance,
        }
        campaign_seconds, issued, statements, campaign_cpu = run_campaign(bench.app, db, args.n, env)
        raw_seconds, raw_cpu = raw_anchor(bench.app, db, issued)
    print(
        json.dumps(
            {
                "n": args.n,
                "issued": issued,
                "campaign_seconds": round(campaign_seconds, 2),
                "acts_per_s": round(issued / campaign_seconds, 1),
                "raw_seconds": round(raw_seconds, 2),
                "raw_acts_per_s": round(issued / raw_seconds, 1),
                "ratio": round(campaign_seconds / raw_seconds, 3),
                "campaign_cpu_seconds": round(campaign_cpu, 2),
                "raw_cpu_seconds": round(raw_cpu, 2),
                "cpu_ratio": round(campaign_cpu / raw_cpu, 3),
                "statements_per_act": round(statements / max(issued, 1), 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
