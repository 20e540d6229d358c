"""Benchmark of a lista di carico import on PostgreSQL, against the anchor of a raw COPY of the same file.

    .venv/bin/python benchmarks/bench_import.py --n 1000000

1. generates N canonical CSV rows (formats.md §1) with valid codici fiscali (synthetic codes + stdnum's check
   character; ~1.25 positions per taxpayer, 8% companies with valid partite IVA, realistic optional fields);
2. on a fresh database (DATABASE_URL, a PostgreSQL server URL, or a throw-away cluster from tests/pgtmp.py),
   migrated and seeded with the demo enti: the anchor, a raw `COPY` of the same file into one table shaped
   like it (identity primary key, index on codice_fiscale);
3. the whole import through the same service and job function the worker uses (validation on all cores,
   COPY into staging, set-based load of taxpayers, addresses, contacts, positions, movements, events);
4. prints the phases, rows/s, peak RSS (self + children, resource.getrusage) and, as the last line, one JSON
   object with the figures and "ratio" = import time / anchor time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.carichi.validation import CARICO_FIELDS as FIELDS  # noqa: E402  (the canonical columns)
from benchmarks.experiments import IMPORT_TABLES  # noqa: E402

SURNAMES = (
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
)
NAMES = (
    "Giuseppe",
    "Maria",
    "Giovanni",
    "Anna",
    "Antonio",
    "Giulia",
    "Mario",
    "Francesca",
    "Luigi",
    "Sara",
    "Francesco",
    "Chiara",
    "Paolo",
    "Laura",
    "Marco",
    "Elena",
    "Andrea",
    "Nicolò",
    "Roberto",
    "Sofia",
)
PLACES = (
    ("H501", "Roma", "RM", "00100"),
    ("F205", "Milano", "MI", "20100"),
    ("F839", "Napoli", "NA", "80100"),
    ("L219", "Torino", "TO", "10100"),
    ("G273", "Palermo", "PA", "90100"),
    ("D612", "Firenze", "FI", "50100"),
    ("A944", "Bologna", "BO", "40100"),
    ("L736", "Venezia", "VE", "30100"),
    ("A662", "Bari", "BA", "70100"),
)
STREETS = (
    "Via Roma",
    "Via Garibaldi",
    "Corso Italia",
    "Via Mazzini",
    "Piazza Dante",
    "Via Verdi",
    "Viale Europa",
)
MONTHS = "ABCDEHLMPRST"
CONSONANTS = "BCDFGHLMNPRSTVZ"


def _codice_fiscale(rnd: random.Random) -> tuple[str, str]:
    from stdnum.it.codicefiscale import calc_check_digit

    place = rnd.choice(PLACES)
    day = rnd.randint(1, 28) + (40 if rnd.random() < 0.5 else 0)
    body = (
        "".join(rnd.choice(CONSONANTS) for _ in range(6))
        + f"{rnd.randint(30, 99):02d}"
        + rnd.choice(MONTHS)
        + f"{day:02d}"
        + place[0]
    )
    return body + calc_check_digit(body), place[1]


def _partita_iva(rnd: random.Random) -> str:
    from stdnum import luhn

    body = f"{rnd.randint(1, 9999999):07d}{rnd.randint(1, 100):03d}"
    return body + luhn.calc_check_digit(body)


def generate(path: Path, n: int, seed: int = 2026) -> None:
    """N rows, streamed to `path` (memory stays flat)."""
    rnd = random.Random(seed)
    recent: list[tuple] = []
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(";".join(FIELDS) + "\n")
        lines = []
        for i in range(n):
            if recent and rnd.random() < 0.2:
                person = rnd.choice(recent)  # a taxpayer with more than one debt
            elif rnd.random() < 0.08:
                person = (
                    "PG",
                    _partita_iva(rnd),
                    "",
                    "",
                    f"{rnd.choice(SURNAMES)} {rnd.choice(STREETS)} S.r.l.",
                    "",
                    "",
                )
            else:
                cf, born = _codice_fiscale(rnd)
                person = (
                    "PF",
                    cf,
                    rnd.choice(SURNAMES),
                    rnd.choice(NAMES),
                    "",
                    f"19{cf[6:8]}-{MONTHS.index(cf[8]) + 1:02d}-{int(cf[9:11]) % 40:02d}",
                    born,
                )
            recent.append(person)
            if len(recent) > 5000:
                recent = recent[-2500:]
            kind, cf, surname, name, company, birth, born = person
            _, comune, provincia, cap = rnd.choice(PLACES)
            year = rnd.randint(2018, 2024)
            capitale = rnd.randint(3000, 250000)
            sanzioni = capitale * 30 // 100 if rnd.random() < 0.6 else 0
            interessi = capitale * rnd.randint(1, 8) // 100 if rnd.random() < 0.3 else 0
            spese = rnd.choice((0, 588, 783)) if rnd.random() < 0.7 else 0
            pec = f"{cf.lower()}@pec.esempio.it" if rnd.random() < 0.2 else ""
            phone = f"+39 06 {rnd.randint(1000000, 9999999)}" if rnd.random() < 0.3 else ""
            values = (
                f"TA-{year}-{i:08d}",
                cf,
                kind,
                surname,
                name,
                company,
                birth,
                born,
                f"{rnd.choice(STREETS)} {rnd.randint(1, 200)}",
                cap,
                comune,
                provincia,
                pec,
                "",
                phone,
                str(year),
                "TASSA_AUTO",
                f"Tassa automobilistica {year}",
                f"{rnd.choice('ABCDEFGH')}{rnd.choice('ABCDEFGH')}{rnd.randint(100, 999)}"
                f"{rnd.choice('ABCDEFGH')}{rnd.choice('ABCDEFGH')}",
                f"{capitale // 100},{capitale % 100:02d}",
                f"{sanzioni // 100},{sanzioni % 100:02d}" if sanzioni else "",
                f"{interessi // 100},{interessi % 100:02d}" if interessi else "",
                f"{spese // 100},{spese % 100:02d}" if spese else "",
                f"{year + 1}-01-31",
                "",
            )
            lines.append(";".join(values))
            if len(lines) >= 10000:
                out.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            out.write("\n".join(lines) + "\n")


def anchor(url: str, path: Path) -> float:
    """Seconds to COPY the raw file into one table shaped like it (identity pk, index on codice_fiscale)."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    columns = ", ".join(f"{f} text" for f in FIELDS)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_anchor")
        conn.execute(
            f"CREATE TABLE bench_anchor (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {columns})"
        )
        conn.execute("CREATE INDEX ix_bench_anchor_codice_fiscale ON bench_anchor (codice_fiscale)")
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            open(path, "rb") as source,
            cursor.copy(
                f"COPY bench_anchor ({', '.join(FIELDS)}) FROM STDIN"
                " WITH (FORMAT csv, HEADER true, DELIMITER ';')"
            ) as copy,
        ):
            for block in iter(lambda: source.read(1 << 20), b""):
                copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_anchor")
    return elapsed


def run_import(url: str, path: Path, store: Path) -> tuple[float, dict, dict[str, float]]:
    """Seconds for the whole import (job creation to commit), its result, and when each phase started."""
    from app import create_app
    from app.jobs import progress

    phases: dict[str, float] = {}
    started = [0.0]
    original = progress.ProgressReporter.phase

    def phase(self, label: str, *, during_load: bool = False) -> None:
        phases[label] = round(time.perf_counter() - started[0], 2)
        original(self, label, during_load=during_load)

    progress.ProgressReporter.phase = phase
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "FILE_STORE": str(store),
            "REDIS_URL": None,
            "IMPORT_WORKERS": os.cpu_count() or 1,
        }
    )
    with app.app_context():
        from app.carichi import services
        from app.carichi.tasks import run_import as run
        from app.core.audit import Actor
        from app.extensions import db
        from app.jobs.files import store_path

        started[0] = time.perf_counter()
        target = services.resolve_target(db.session, ente_code="R01", entrata_code="TASSA_AUTO")
        stored = store_path(store, path)
        job = services.create_import_job(
            db.session, Actor.system("benchmark"), target, stored, path.name, enqueue=False
        )
        db.session.commit()
        result = run(job.id)
        elapsed = time.perf_counter() - started[0]
        db.session.remove()
        db.engine.dispose()
    return elapsed, result or {}, phases


def _prepare_database(server_url: str, drop_fks: bool = False) -> str:
    """A fresh database, migrated, with the demo enti and entrate (in a child process, so that the figures of
    this process are those of the anchor and the import only)."""
    import subprocess

    import sqlalchemy as sa

    name = f"esattoria_bench_{os.getpid()}"
    admin = sa.create_engine(sa.make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    extra = ["--drop-foreign-keys"] if drop_fks else []
    subprocess.run([sys.executable, __file__, "--prepare", url, *extra], check=True, cwd=ROOT)
    return url


def _migrate_and_seed(url: str, drop_fks: bool = False) -> None:
    import flask_migrate

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        from app.demo.seed import ENTI
        from app.enti.services import ensure_ente, ensure_entrata, load_default_parameters
        from app.extensions import db

        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        load_default_parameters(db.session)
        for spec in ENTI:
            ente = ensure_ente(
                db.session,
                code=spec["code"],
                name=spec["name"],
                codice_fiscale=spec["codice_fiscale"],
                segregation_code=spec["segregation_code"],
            )
            for code, entrata_name, prescription, capitolo in spec["entrate"]:
                ensure_entrata(
                    db.session,
                    ente,
                    code=code,
                    name=entrata_name,
                    prescription_regime=prescription,
                    capitolo=capitolo,
                )
        db.session.commit()
        if drop_fks:
            from benchmarks.experiments import drop_foreign_keys

            with db.engine.begin() as conn:
                print(
                    f"experiment: dropped {drop_foreign_keys(conn, IMPORT_TABLES)} foreign keys", flush=True
                )
        db.engine.dispose()


def _drop_database(url: str) -> None:
    import sqlalchemy as sa

    name = sa.make_url(url).database
    admin = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((self_kb + children_kb) / 1024, 1)


WRITTEN = ("taxpayers", *IMPORT_TABLES)  # every table the import writes


def heap_floor(url: str) -> dict[str, float | int]:
    """Seconds to write again every row the import wrote, in one transaction, the values already computed,
    into copies of its tables (1) with no index, constraint or trigger (`heap_s`), then (2) with the same
    indexes as the real tables but still no foreign key or trigger (`indexed_s`): what writing the rows
    costs on this server, without and with index maintenance (floors under any import of the same data)."""
    import sqlalchemy as sa

    from benchmarks.experiments import HEAP, INDEXED, write_floors

    engine = sa.create_engine(url)
    try:
        return write_floors(engine, dict.fromkeys(WRITTEN, "true"), (HEAP, INDEXED))
    finally:
        engine.dispose()


def _measure(url: str, path: Path, store: Path, floor: bool = False) -> None:
    """The measured part, in its own process: anchor, then import; one JSON line with the figures of this
    process and its children (the validation workers) only."""
    anchor_s = anchor(url, path)
    print(
        f"anchor: raw COPY into one table (identity pk, index on codice_fiscale): {anchor_s:.2f} s",
        flush=True,
    )
    import_s, result, phases = run_import(url, path, store)
    peak = _peak_rss_mb()
    floors = heap_floor(url) if floor else None
    print(
        json.dumps(
            {
                "anchor_s": anchor_s,
                "import_s": import_s,
                "result": result,
                "phases": phases,
                "peak_rss_mb": peak,
                "floors": floors,
            }
        )
    )


def main() -> None:
    import subprocess

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows to generate (default 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--drop-foreign-keys",
        action="store_true",
        help="experiment: drop the foreign keys of the tables the import writes (benchmarks/experiments.py)",
    )
    parser.add_argument(
        "--heap-floor",
        action="store_true",
        help="experiment: after the import, time writing the same rows again into copies of the tables"
        " without and with their indexes (no foreign key, no trigger): the floors of the writes",
    )
    parser.add_argument("--prepare", metavar="URL", help=argparse.SUPPRESS)  # internal: migrate and seed URL
    parser.add_argument(
        "--measure", nargs=4, metavar=("URL", "FILE", "STORE", "FLOOR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.prepare:
        _migrate_and_seed(args.prepare, args.drop_foreign_keys)
        return
    if args.measure:
        _measure(args.measure[0], Path(args.measure[1]), Path(args.measure[2]), args.measure[3] == "floor")
        return
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="esattoria-bench-")))
        server = os.environ.get("DATABASE_URL")
        if not server:
            from tests.pgtmp import temp_postgres

            server = stack.enter_context(temp_postgres())
        path = workdir / f"lista_{args.n}.csv"
        t0 = time.perf_counter()
        generate(path, args.n)
        print(
            f"generated {args.n:,} rows ({path.stat().st_size / 1e6:.0f} MB)"
            f" in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        url = _prepare_database(server, args.drop_foreign_keys)
        try:
            run = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--measure",
                    url,
                    str(path),
                    str(workdir / "store"),
                    "floor" if args.heap_floor else "-",
                ],
                cwd=ROOT,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
        finally:
            if not args.keep:
                _drop_database(url)
        *lines, last = run.stdout.strip().splitlines()
        print("\n".join(line for line in lines if not line.startswith("INFO")))
        measured = json.loads(last)
        import_s, anchor_s, result = measured["import_s"], measured["anchor_s"], measured["result"]
        for label, at in measured["phases"].items():
            print(f"  {at:8.2f} s  {label}")
        print(
            f"import: {import_s:.2f} s, {args.n / import_s:,.0f} rows/s; result {result.get('status')}: "
            f"{result.get('accepted')} accepted, {result.get('rejected')} rejected",
            flush=True,
        )
        figures = {
            "n": args.n,
            "import_s": round(import_s, 2),
            "rows_per_s": round(args.n / import_s),
            "anchor_s": round(anchor_s, 2),
            "ratio": round(import_s / anchor_s, 2),
            "peak_rss_mb": measured["peak_rss_mb"],
            "accepted": result.get("accepted"),
            "taxpayers_created": result.get("taxpayers_created"),
            "workers": os.cpu_count(),
            "foreign_keys": not args.drop_foreign_keys,
            "phases_s": measured["phases"],
        }
        floors = measured.get("floors")
        if floors:
            figures["rows_written"] = floors["rows"]
            for key in ("heap_s", "indexed_s"):
                figures[f"floor_{key}"] = round(floors[key], 2)
                figures[f"floor_{key.removesuffix('_s')}_ratio"] = round(floors[key] / anchor_s, 2)
            print(
                f"floors: {floors['rows']:,} rows written again in one transaction, values already computed:"
                f" {floors['heap_s']:.2f} s with no index ({figures['floor_heap_ratio']} x the anchor),"
                f" {floors['indexed_s']:.2f} s with the tables' indexes ({figures['floor_indexed_ratio']} x);"
                " neither with foreign keys or triggers",
                flush=True,
            )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
