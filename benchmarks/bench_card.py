"""Benchmark of the taxpayer card (issue 12, "Done when"): p50/p95 of the full card page of a heavy taxpayer
among N, and the number of SQL statements per card (constant: no N+1).

    .venv/bin/python benchmarks/bench_card.py --n 1000000   # DATABASE_URL=postgresql+psycopg://... a server

1. A throw-away database: on the server of DATABASE_URL when set, else in a throw-away PostgreSQL cluster
   (tests/pgtmp.py); migrated and seeded with the demo world (tests/conftest.py).
2. N taxpayers (persone fisiche with synthetic 16-character codes) linked to R01, inserted set-based
   (INSERT ... SELECT generate_series). Among them BIG, with 200 positions over R01's entrate (carico of
   capitale and sanzioni, a payment on ~30%), a codice avviso each, 1,000 events of every timeline group,
   300 logged contacts when the contact-log table exists (else 300 "contatto registrato" events stand in,
   counted among the 1,000), and 100 archive documents linked to it; and SMALL, with 2 positions on the same
   entrate (the engine's inputs are loaded once per entrata, so both cards load the same parameters), and
   the same 1,000 events and 100 documents as BIG: the two cards differ only by their positions.
3. Logged in as the `backoffice` persona (Flask test client, in-process WSGI: no network; every request runs
   the whole app: session, scoping, ledger, engine, templates, the access-log commit). The "full card" is
   the page plus the fragments it still loads at once (`hx-trigger="load"`, read from the page's HTML; none
   since the lower sections became accordion items loaded when opened), fetched one after the other: its
   time is their sum. After each full card, every section loaded on opening (`hx-trigger="click once"`:
   payments, contacts, messages, documents, registry checks, knowledge) is requested once, timed apart (not
   in the full card). 20 warm-up cards, then 100 measured. Statements are counted with a SQLAlchemy
   `before_cursor_execute` listener, for BIG and for SMALL.
The LAST line is one JSON object:
    {"n": N, "p50_ms": ..., "p95_ms": ..., "page_p50_ms": ..., "page_p95_ms": ..., "queries_per_card": ...,
     "queries_per_card_small": ..., "queries_page": ..., "queries_page_small": ...,
     "access_log_rows_per_card": ..., "cpu_p50_ms": ..., "queries_tabs": ..., "queries_tabs_small": ...,
     "tabs_p95_ms": {section: ms}, "ratio": p95_ms / 150}
Goal: ratio <= 1 and queries_per_card == queries_per_card_small. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import re
import sys
import time
from html import unescape as html_unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from support import seeded_app  # noqa: E402

REQUESTS, WARM_UP, GOAL_MS = 100, 20, 150
BIG_CF, SMALL_CF = "BNCBIG80A01H501Z", "BNCSML80A01H501Z"
LOAD_FRAGMENT = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="load"')
# a lower section loaded when its accordion header is first opened: (its key, its fragment's URL)
TAB_FRAGMENT = re.compile(r'data-card-section="([^"]+)"[^>]*hx-get="([^"]+)"[^>]*hx-trigger="click once"')
HX_HEADERS = re.compile(r"hx-headers='([^']+)'")  # what htmx adds to the fragments' requests (body, card)


def say(text: str) -> None:
    print(f"[bench_card {time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---------------------------------------------------------------------------------------------------------
# Data: set-based inserts

TAXPAYERS_SQL = """
INSERT INTO taxpayers (kind, codice_fiscale, surname, given_name, birth_date, birth_place, search_name,
                       created_dt)
SELECT 'PF', 'BNC' || lpad(g::text, 13, '0'), 'BENCH' || (g % 5000), 'NOME' || (g % 700),
       date '1940-01-01' + (g % 20000), 'Roma', 'BENCH' || (g % 5000) || ' NOME' || (g % 700), now()
FROM generate_series(1, :n) AS g
"""
LINK_SQL = """
INSERT INTO taxpayer_enti (taxpayer_id, ente_id)
SELECT t.id, (SELECT id FROM enti WHERE code = 'R01') FROM taxpayers t WHERE t.codice_fiscale LIKE 'BNC%'
"""
SPECIAL_SQL = """
UPDATE taxpayers SET codice_fiscale = :cf, surname = :surname, search_name = :search
WHERE codice_fiscale = :old
"""
POSITIONS_SQL = """
WITH en AS (SELECT array_agg(e.id ORDER BY e.id) AS ids,
                   array_agg((SELECT min(c.id) FROM carichi c WHERE c.entrata_id = e.id) ORDER BY e.id)
                       AS carichi
            FROM entrate e JOIN enti n ON n.id = e.ente_id
            WHERE n.code = 'R01' AND EXISTS (SELECT 1 FROM carichi c WHERE c.entrata_id = e.id)),
     g AS (SELECT g, 1 + g % least(2, (SELECT array_length(ids, 1) FROM en)) AS k,
                  date '2018-01-01' + (g % 8) * 365 + (g * 37 % 360) AS due
           FROM generate_series(1, :count) AS g)
INSERT INTO positions (ente_id, entrata_id, carico_id, taxpayer_id, external_id, year, description, due_date,
                       state, created_dt)
SELECT (SELECT id FROM enti WHERE code = 'R01'), en.ids[g.k], en.carichi[g.k], :taxpayer,
       :prefix || g.g, extract(year FROM g.due)::int, 'benchmark ' || g.g, g.due, 'notificata', now()
FROM g, en
"""
MOVEMENTS_SQL = [
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'capitale', 'carico', 5000 + id % 90000, due_date, now(), 'bench' FROM positions
       WHERE taxpayer_id = :taxpayer""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'sanzioni', 'carico', (5000 + id % 90000) * 30 / 100, due_date, now(), 'bench'
       FROM positions WHERE taxpayer_id = :taxpayer""",
    """INSERT INTO movements (position_id, component, kind, amount_cents, value_date, booked_dt, source)
       SELECT id, 'capitale', 'pagamento', -((5000 + id % 90000) / 3), due_date + 30, now(), 'bench'
       FROM positions WHERE taxpayer_id = :taxpayer AND id % 10 < 3""",
    """INSERT INTO notice_numbers (ente_id, position_id, item_kind, item_ref, iuv_base, notice_number, iuv,
                                  amount_cents, issued_date, created_dt)
       SELECT ente_id, id, 'posizione', '', 9000000000 + id, '3' || lpad((9000000000 + id)::text, 17, '0'),
              lpad((9000000000 + id)::text, 17, '0'), 5000 + id % 90000, due_date, now()
       FROM positions WHERE taxpayer_id = :taxpayer""",
]
EVENTS_SQL = """
WITH p AS (SELECT array_agg(id ORDER BY id) AS ids FROM positions WHERE taxpayer_id = :taxpayer),
     k AS (SELECT ARRAY['position.loaded', 'payment.allocated', 'act.issued', 'act.notified',
                        'document.linked', 'contact.logged', 'contact.logged', 'contact.logged',
                        'taxpayer.updated',
                        'position.state_changed'] AS kinds)
INSERT INTO events (kind, occurred_dt, ente_id, taxpayer_id, position_id, actor_label, summary, payload)
SELECT k.kinds[1 + g % 10], now() - make_interval(hours => g), (SELECT id FROM enti WHERE code = 'R01'),
       :taxpayer,
       CASE WHEN k.kinds[1 + g % 10] LIKE 'contact.%' OR k.kinds[1 + g % 10] = 'taxpayer.updated' THEN NULL
            ELSE p.ids[1 + g % array_length(p.ids, 1)] END,
       'bench', 'evento di prova ' || g, '{}'::json
FROM generate_series(1, :count) AS g, p, k
"""


def insert_world(app, db, n: int) -> dict[str, int]:  # noqa: ANN001 (flask_sqlalchemy's db)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(sa.text(TAXPAYERS_SQL), {"n": n})
        conn.execute(sa.text(LINK_SQL))
        for cf, surname, old in ((BIG_CF, "BENCHGRANDE", 1), (SMALL_CF, "BENCHPICCOLO", 2)):
            params = {"cf": cf, "surname": surname, "search": f"{surname} NOME", "old": f"BNC{old:013d}"}
            conn.execute(sa.text(SPECIAL_SQL), params)
        found = conn.execute(
            sa.text("SELECT codice_fiscale, id FROM taxpayers WHERE codice_fiscale IN (:a, :b)"),
            {"a": BIG_CF, "b": SMALL_CF},
        )
        ids = {cf: taxpayer for cf, taxpayer in found}
        for cf, count, prefix in ((BIG_CF, 200, "BIG-"), (SMALL_CF, 2, "SMALL-")):
            conn.execute(sa.text(POSITIONS_SQL), {"count": count, "taxpayer": ids[cf], "prefix": prefix})
            for statement in MOVEMENTS_SQL:
                conn.execute(sa.text(statement), {"taxpayer": ids[cf]})
        conn.execute(sa.text(EVENTS_SQL), {"taxpayer": ids[BIG_CF], "count": 1000})
        conn.execute(sa.text(EVENTS_SQL), {"taxpayer": ids[SMALL_CF], "count": 1000})
    seconds = time.perf_counter() - started
    say(f"inserted {n} taxpayers, BIG's 200 positions and 1,000 events in {seconds:.1f} s")
    contact_table = insert_contacts(db, ids[BIG_CF])
    insert_documents(app, db, ids[BIG_CF], "BIG")
    insert_documents(app, db, ids[SMALL_CF], "SMALL")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("taxpayers", "taxpayer_enti", "positions", "movements", "events", "notice_numbers"):
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
        total = conn.execute(sa.text("SELECT count(*) FROM taxpayers")).scalar_one()
    say(f"database: {total} taxpayers; contact log table: {contact_table or 'absent (events stand in)'}")
    return ids


def insert_contacts(db, taxpayer: int) -> str | None:  # noqa: ANN001
    """300 rows of the contact log, if that table is on this branch (it is the crm slice's)."""
    inspector = sa.inspect(db.engine)
    for name in ("contacts", "crm_contacts", "contact_log"):
        if inspector.has_table(name):
            from app.core.db import Base

            table = Base.metadata.tables.get(name)
            if table is None:
                return None
            say(f"contact log table {name} exists: 300 rows through its model's columns")
            try:
                fill_contacts(db, table, taxpayer)
            except sa.exc.DBAPIError as exc:
                say(f"contact log table {name}: rows not inserted ({type(exc.orig).__name__})")
                return None
            return name
    return None


def fill_contacts(db, table: sa.Table, taxpayer: int) -> None:  # noqa: ANN001
    """Each row: the taxpayer, R01, and the scalar default of every other required column."""
    with db.engine.begin() as conn:
        row: dict[str, object] = {"taxpayer_id": taxpayer}
        ente = conn.execute(sa.text("SELECT id FROM enti WHERE code = 'R01'")).scalar_one()
        for column in table.columns:
            if column.key in row or column.primary_key or column.nullable:
                continue
            if column.key == "ente_id":
                row[column.key] = ente
            elif column.default is not None and column.default.is_scalar:
                row[column.key] = column.default.arg
        conn.execute(table.insert(), [dict(row) for _ in range(300)])


def insert_documents(app, db, taxpayer: int, label: str) -> None:  # noqa: ANN001
    from app.archive.models import Document, DocumentLink, DocumentType
    from app.enti.models import Ente

    with app.app_context():
        ente = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        doc_type = db.session.scalars(sa.select(DocumentType).order_by(DocumentType.id)).first()
        for n in range(100):
            digest = hashlib.sha256(f"bench-card-{label}-{n}".encode()).hexdigest()
            document = Document(
                ente_id=ente.id,
                protocol=f"BENCH-{label}-{n:05d}",
                received_date=dt.date(2026, 1, 1),
                channel="posta",
                type_id=doc_type.id,
                subject=f"Lettera {n}",
                file_name=f"lettera-{n}.pdf",
                sha256=digest,
                file_path=f"{digest[:2]}/{digest}",
                size_bytes=1000,
                mime_type="application/pdf",
                pages=1,
                status="indexed",
                created_by_label="bench",
            )
            db.session.add(document)
            db.session.flush()
            db.session.add(
                DocumentLink(
                    document_id=document.id,
                    kind="taxpayer",
                    target_id=taxpayer,
                    taxpayer_id=taxpayer,
                    state="confirmed",
                )
            )
        db.session.commit()
    say(f"100 documents linked to {label}")


# ---------------------------------------------------------------------------------------------------------
# Measurements


class Counter:
    """Statements, and among them the access-log rows written (one per card view is the rule)."""

    def __init__(self) -> None:
        self.count = 0
        self.access_rows = 0

    def __call__(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        self.count += 1
        if statement.startswith("INSERT INTO access_log"):
            self.access_rows += 1


def full_card(
    client,  # noqa: ANN001
    taxpayer: int,
    parts: dict[str, list[float]] | None = None,
    tabs: dict[str, list[float]] | None = None,
) -> tuple[float, float, int, int, int, int]:
    """(page ms, full ms, statements of the page, statements of the full card, access-log rows it wrote,
    statements of the sections opened on click); `parts` collects the time of each request of the full card
    (the page and each fragment it loads at once, by path without the taxpayer id), `tabs` the time of each
    section's fragment opened afterwards (`hx-trigger="click once"`), which the full card does not include.
    The fragments are requested as htmx does: with the headers of the page's `hx-headers`."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counter = Counter()
    event.listen(Engine, "before_cursor_execute", counter)
    cpu_started = time.process_time()
    try:
        started = time.perf_counter()
        response = client.get(f"/contribuenti/{taxpayer}")
        page_ms = (time.perf_counter() - started) * 1000
        page_queries = counter.count
        if response.status_code != 200:
            raise RuntimeError(f"card {taxpayer}: HTTP {response.status_code}")
        html = response.get_data(as_text=True)
        total_ms = page_ms
        headers = {"HX-Request": "true"}
        for found in HX_HEADERS.findall(html):
            headers.update(json.loads(html_unescape(found)))
        if parts is not None:
            parts.setdefault("page", []).append(page_ms)
        for url in LOAD_FRAGMENT.findall(html):
            started = time.perf_counter()
            fragment = client.get(html_unescape(url), headers=headers)
            fragment_ms = (time.perf_counter() - started) * 1000
            total_ms += fragment_ms
            if fragment.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {fragment.status_code}")
            if parts is not None:
                parts.setdefault(url.replace(str(taxpayer), "<id>"), []).append(fragment_ms)
        full_queries = counter.count
        cpu_ms = (time.process_time() - cpu_started) * 1000
        for key, url in TAB_FRAGMENT.findall(html):  # each section opened by its header: not in the sum
            started = time.perf_counter()
            fragment = client.get(html_unescape(url), headers=headers)
            fragment_ms = (time.perf_counter() - started) * 1000
            if fragment.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {fragment.status_code}")
            if tabs is not None:
                tabs.setdefault(key, []).append(fragment_ms)
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
    if parts is not None:  # this process's CPU time: less noisy than the wall clock on a loaded machine
        parts.setdefault("cpu", []).append(cpu_ms)
    return page_ms, total_ms, page_queries, full_queries, counter.access_rows, counter.count - full_queries


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[-(-pct * len(ordered) // 100) - 1]


def measure(app, ids: dict[str, int], requests: int, warm_up: int) -> dict[str, float]:  # noqa: ANN001
    from tests.conftest import Personas

    client = Personas(app).client("backoffice")
    big, small = ids[BIG_CF], ids[SMALL_CF]
    for _ in range(warm_up):
        full_card(client, big)
    full_card(client, small)
    pages, fulls = [], []
    parts: dict[str, list[float]] = {}
    tabs: dict[str, list[float]] = {}
    for n in range(requests):
        page_ms, full_ms, page_q, full_q, access_rows, tabs_q = full_card(client, big, parts, tabs)
        pages.append(page_ms)
        fulls.append(full_ms)
        if n % 20 == 0:
            say(f"card {n + 1}/{requests}: page {page_ms:.1f} ms, full {full_ms:.1f} ms")
    _, _, page_q_small, full_q_small, _, tabs_q_small = full_card(client, small)
    cpu = parts.pop("cpu")
    for url, times in parts.items():
        say(f"  p50 {percentile(times, 50):7.2f} ms  p95 {percentile(times, 95):7.2f} ms  {url}")
    for key, times in tabs.items():
        p50, p95 = percentile(times, 50), percentile(times, 95)
        say(f"  p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  section {key} (on click)")
    result = {
        "p50_ms": round(percentile(fulls, 50), 2),
        "p95_ms": round(percentile(fulls, 95), 2),
        "page_p50_ms": round(percentile(pages, 50), 2),
        "page_p95_ms": round(percentile(pages, 95), 2),
        "queries_per_card": full_q,
        "queries_per_card_small": full_q_small,
        "queries_page": page_q,
        "queries_page_small": page_q_small,
        "access_log_rows_per_card": access_rows,
        "cpu_p50_ms": round(percentile(cpu, 50), 2),  # the app's Python time per full card (no waits)
        "queries_tabs": tabs_q,  # the sections opened on click, all of them: the same for SMALL
        "queries_tabs_small": tabs_q_small,
        "tabs_p95_ms": {key: round(percentile(times, 95), 2) for key, times in tabs.items()},
    }
    say(f"BIG (200 positions, 1,000 events, 100 documents), {requests} cards: {result}")
    return result


def profile(app, ids: dict[str, int]) -> None:  # noqa: ANN001
    import cProfile
    import pstats

    from tests.conftest import Personas

    client = Personas(app).client("backoffice")
    full_card(client, ids[BIG_CF])
    profiler = cProfile.Profile()
    profiler.enable()
    full_card(client, ids[BIG_CF])  # the page and its fragments
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("/app/|templates/", 60)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def dump_statements(app, ids: dict[str, int]) -> None:  # noqa: ANN001
    """Every statement of one full card of BIG, grouped by text (where the queries go)."""
    from collections import Counter as Tally

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from tests.conftest import Personas

    client = Personas(app).client("backoffice")
    full_card(client, ids[BIG_CF])
    seen: Tally[str] = Tally()

    def record(conn, cursor, statement, *rest) -> None:  # noqa: ANN001
        seen[" ".join(str(statement).split())[:160]] += 1

    event.listen(Engine, "before_cursor_execute", record)
    try:
        full_card(client, ids[BIG_CF])
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    for text, count in seen.most_common():
        say(f"{count:4d} x {text}")


def explain_timeline(app, ids: dict[str, int]) -> None:  # noqa: ANN001
    """EXPLAIN (ANALYZE, BUFFERS) of the card page's timeline statement (the UNION of the events and the
    registered timeline sources, app/core/timeline.py) for BIG, as the page sends it (text and parameters)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app.extensions import db
    from tests.conftest import Personas

    client = Personas(app).client("backoffice")
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, *rest) -> None:  # noqa: ANN001
        if "UNION ALL" in statement and not seen:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        client.get(f"/contribuenti/{ids[BIG_CF]}")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    if not seen:
        say("no timeline UNION statement on the page")
        return
    statement, parameters = seen[0]
    with app.app_context(), db.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
    say("timeline statement's plan:\n" + "\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="taxpayers to insert (default 1000000)")
    parser.add_argument("--requests", type=int, default=REQUESTS, help=f"measured cards (default {REQUESTS})")
    parser.add_argument("--warm-up", type=int, default=WARM_UP, help=f"warm-up cards (default {WARM_UP})")
    parser.add_argument("--profile", action="store_true", help="cProfile one page of BIG first")
    parser.add_argument("--statements", action="store_true", help="list one full card's statements")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the page's timeline")
    args = parser.parse_args()
    if args.n < 2:
        parser.error("--n must be at least 2")

    say(f"n={args.n}, cpus={os.cpu_count()}")
    with seeded_app("card", say) as bench:
        app = bench.app
        from app.extensions import db

        with app.app_context():
            ids = insert_world(app, db, args.n)
        gc.collect()
        gc.freeze()  # as wsgi.py does once the app is loaded: the setup's objects out of the collector
        if args.profile:
            profile(app, ids)
        if args.statements:
            dump_statements(app, ids)
        if args.explain:
            explain_timeline(app, ids)
        result = measure(app, ids, args.requests, args.warm_up)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    print(json.dumps({"n": args.n, **result, "ratio": round(result["p95_ms"] / GOAL_MS, 3)}), flush=True)


if __name__ == "__main__":
    main()
