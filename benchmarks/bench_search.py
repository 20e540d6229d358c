"""Benchmark of the embedded PostgreSQL search backend (issue 11, "Done when"): indexing docs/s and search
p50/p95 at N documents, against a raw SQL anchor on the same table.

    .venv/bin/python benchmarks/bench_search.py --n 100000   # DATABASE_URL=postgresql+psycopg://... a server

1. A throw-away database: on the server of DATABASE_URL when set, else in a throw-away PostgreSQL cluster
   (tests/pgtmp.py); the search table made by `ensure_ready()` (the DDL of `schema_statements`).
2. N synthetic Italian documents over 2 entes: 200-350 words each, 40% Italian stop words, the rest drawn
   with a Zipf-Mandelbrot law (weight 1/(rank + 300)) from ~150 words of the trade (pignoramento,
   rateazione, ...) and 20,000 Italian-sounding words made of syllables; 1-3 codici fiscali, a type and a
   protocol number each. Indexed through `SqlBackend.index` in batches of 2,000 (one transaction each):
   docs/s = N / seconds, ANALYZE excluded. `--database NAME` keeps the documents there for the next run.
3. 200 queries (after 10 warm-up ones), each for one ente, limit 20: a third single frequent words (top 200),
   a third single words drawn uniformly from the vocabulary, a third two words (one frequent, one uniform).
   `SqlBackend.search` times the whole call: ranking, exact total, highlights of the page, Python objects.
   The anchor runs the same queries as raw SQL through psycopg, without our code: the textbook ranked query
   on the stored `to_tsvector('italian', ...)` column (`WHERE tsv @@ plainto_tsquery(...) AND ente = ...
   ORDER BY ts_rank(...) DESC LIMIT 20`), with no total and no highlights.
The LAST line is one JSON object:
    {"docs": N, "index_docs_per_s": ..., "search_p50_ms": ..., "search_p95_ms": ..., "anchor_p50_ms": ...,
     "anchor": anchor p95 ms, "ratio": search_p95_ms / anchor}
Goal: search_p95_ms < 200 at 100,000 documents. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from search.embedded import SqlBackend  # noqa: E402
from search.protocol import SearchDoc  # noqa: E402
from search.text import STOP_WORDS  # noqa: E402
from tests.conftest import _admin  # noqa: E402
from tests.pgtmp import server_from_env  # noqa: E402

QUERIES, WARM_UP, BATCH, ENTES = 200, 10, 2000, ("R01", "R02")
# Zipf-Mandelbrot: a word's weight is 1 / (rank + 300). The stop words (40% of every text) hold the top ranks
# of real Italian, so the first content word is about rank 300: the most frequent one lands in ~1 document in
# 8, as in a real archive (plain 1/rank would put each of the first ~50 words in every document).
ZIPF_OFFSET = 300
TRADE = str.split("""
pignoramento ingiunzione rateazione ricorso contribuente tassa automobilistica regionale avviso
accertamento esecutivo cartella sollecito intimazione fermo amministrativo ipoteca sgravio sospensione
decadenza notifica raccomandata ricevuta ritorno delega visura catastale agenzia entrate riscossione
coattiva interessi sanzioni spese capitale importo pagamento bollettino pagopa scadenza termine giorni
mora tributo canone concessione demaniale sanitario ticket veicolo targa proprietario immatricolazione
rottamazione definizione agevolata istanza domanda rimborso compensazione credito debito posizione carico
ruolo ente regione comune provincia ufficio sportello protocollo allegato documento lettera posta
elettronica certificata firma digitale copia conforme originale dichiarazione sostitutiva
autocertificazione residenza domicilio indirizzo erede successione fallimento procedura concorsuale
curatore liquidazione banca conto corrente stipendio pensione datore lavoro terzo pignorato custode
udienza tribunale giudice opposizione sentenza decreto prescrizione decorrenza interruzione motivazione
annullamento autotutela rettifica errore omissione versamento quietanza attestazione saldo acconto rata
piano mensile garanzia fideiussione
""")
SYLLABLES = str.split("""
ba be bi bo ca ce ci co cu da de di do fa fe fi fo ga ge gi go la le li lo lu ma me mi mo mu na ne ni no
pa pe pi po ra re ri ro sa se si so ta te ti to tu va ve vi vo za zo gna gno sca sco spa spe sta ste stri
tra tre tri tro pra pre pri pro bra bri cra cri
""")
ENDINGS = ("a", "e", "i", "o", "zione", "zioni", "mento", "menti", "ante", "anti", "ente", "enti", "ale",
           "ali", "ivo", "iva", "ivi", "ive", "ato", "ata", "ati", "ate", "ista", "isti", "oso", "osa")


def say(text: str) -> None:
    print(f"[bench_search {time.strftime('%H:%M:%S')}] {text}", flush=True)


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words = dict.fromkeys(TRADE)
    while len(words) < size:
        stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
        words.setdefault(stem + rng.choice(ENDINGS))
    return list(words)


def codice_fiscale(rng: random.Random) -> str:
    letters = "ABCDEFGHILMNOPRSTUVZ"
    return ("".join(rng.choice(letters) for _ in range(6)) + f"{rng.randint(40, 99)}"
            + rng.choice("ABCDEHLMPRST") + f"{rng.randint(1, 71):02d}" + rng.choice("FGHL")
            + f"{rng.randint(100, 999)}" + rng.choice(letters))


def documents(n: int, words: list[str], rng: random.Random) -> Iterator[SearchDoc]:
    weights = [1 / (rank + ZIPF_OFFSET) for rank in range(1, len(words) + 1)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    stop = sorted(STOP_WORDS)
    types = ["istanza_rateazione", "ricorso", "ricevuta_ritorno", "delega", "visura", "lettera"]
    for i in range(1, n + 1):
        length = rng.randint(200, 350)
        content = rng.choices(words, cum_weights=cumulative, k=length)
        for j in rng.sample(range(length), k=length * 2 // 5):
            content[j] = rng.choice(stop)
        ente = ENTES[i % 2]
        yield SearchDoc(
            id=i, ente=ente, text=" ".join(content).capitalize() + ".",
            title=" ".join(rng.choices(words[:400], k=4)).capitalize(),
            protocol=f"{ente}-2026-{i:07d}",
            taxpayers=tuple(codice_fiscale(rng) for _ in range(rng.randint(1, 3))),
            doc_type=rng.choice(types), channel=rng.choice(["posta", "pec", "sportello", "scansione"]))


def queries(words: list[str], rng: random.Random, count: int) -> list[tuple[str, str]]:
    out = []
    for i in range(count):
        frequent, uniform = rng.choice(words[:200]), rng.choice(words)
        text = (frequent, uniform, f"{frequent} {uniform}")[i % 3]
        out.append((text, ENTES[rng.randrange(2)]))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(url: str, n: int, *, reuse: bool = False) -> dict[str, float]:
    rng = random.Random(20261203)
    words = vocabulary(rng)
    engine = sa.create_engine(url)
    backend = SqlBackend(engine)
    backend.ensure_ready()
    say(f"indexing {n} documents in batches of {BATCH}")
    stream, batch, seconds, done = documents(n, words, rng), [], 0.0, 0
    with engine.connect() as conn:
        if reuse and conn.exec_driver_sql("SELECT count(*) FROM search_document").scalar() == n:
            say("  already indexed (--database): index_docs_per_s is not measured")
            stream, done, seconds = iter(()), n, 0.0
    while True:
        batch = [doc for _, doc in zip(range(BATCH), stream, strict=False)]
        if not batch:
            break
        started = time.perf_counter()
        done += backend.index(batch)
        seconds += time.perf_counter() - started
        if done % 20_000 == 0:
            say(f"  {done} indexed, {done / seconds:.0f} docs/s")
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE search_document")  # autovacuum's job after a bulk load
        size = conn.exec_driver_sql(
            "SELECT pg_size_pretty(pg_total_relation_size('search_document'))").scalar()
    say(f"{done} documents (indexed in {seconds:.1f} s); table with indexes: {size}")

    plan = queries(words, random.Random(3), WARM_UP + QUERIES)  # the same queries whether indexed now or not
    ours, matches = [], []
    for i, (text, ente) in enumerate(plan):
        started = time.perf_counter()
        result = backend.search(text, entes=[ente], limit=20)
        if i >= WARM_UP:
            ours.append((time.perf_counter() - started) * 1000)
            matches.append(result.total)
    say(f"ours: p50 {percentile(ours, 50):.1f} ms, p95 {percentile(ours, 95):.1f} ms; "
        f"matches per query: median {statistics.median(matches):.0f}, max {max(matches)}")

    anchor = []
    raw = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw) as conn:
        for i, (text, ente) in enumerate(plan):
            started = time.perf_counter()
            conn.execute(
                "SELECT id, ts_rank(tsv, q) AS rank FROM search_document, plainto_tsquery('italian', %s) q "
                "WHERE tsv @@ q AND ente = %s ORDER BY rank DESC LIMIT 20", (text, ente)).fetchall()
            if i >= WARM_UP:
                anchor.append((time.perf_counter() - started) * 1000)
    say(f"anchor: p50 {percentile(anchor, 50):.1f} ms, p95 {percentile(anchor, 95):.1f} ms")
    engine.dispose()
    p95, anchor95 = percentile(ours, 95), percentile(anchor, 95)
    return {"docs": n, "index_docs_per_s": round(done / seconds, 1) if seconds else None,
            "search_p50_ms": round(percentile(ours, 50), 2),
            "search_p95_ms": round(p95, 2), "anchor_p50_ms": round(percentile(anchor, 50), 2),
            "anchor": round(anchor95, 2), "ratio": round(p95 / anchor95, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="documents to index (default 100000)")
    parser.add_argument("--database", help="keep the documents in this database and reuse them next time")
    args = parser.parse_args()
    where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "throw-away cluster (tests/pgtmp.py)"
    say(f"server: {where}")
    with server_from_env() as server:
        name = args.database or f"esattoria_bench_search_{os.getpid()}"
        url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
        admin = sa.create_engine(sa.make_url(server).set(database="postgres"), poolclass=sa.NullPool)
        with admin.connect() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).first()
        admin.dispose()
        if not exists:
            _admin(server, f'CREATE DATABASE "{name}"')
        try:
            figures = run(url, args.n, reuse=bool(args.database))
        finally:
            if not args.database:
                _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
