"""Protocol numbers: `<ente>-<year>-<7 digits>`, gap-free and unique when two sessions file at once on
PostgreSQL (each thread its own connection, committing; some transactions roll back)."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

YEAR = 2091  # a year of its own: the rows this test commits are removed at the end


def test_protocol_numbers_are_gap_free_and_unique_under_concurrency(app, database_url) -> None:
    from app.archive.models import ProtocolCounter
    from app.archive.services import next_protocol
    from app.enti.models import Ente

    engine = sa.create_engine(database_url, pool_size=4)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with Session(engine) as session:
                    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
                    number = next_protocol(session, ente, YEAR)
                    time.sleep(0.002)  # hold the counter's row lock while the other thread waits
                    if (i + n) % 5 == 0:
                        session.rollback()  # a filing that fails gives its number back
                        continue
                    session.commit()
                with lock:
                    taken.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (0, 1)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(taken) == len(set(taken)) == 24  # 30 filings, 6 rolled back
        numbers = sorted(int(p.split("-")[2]) for p in taken)
        assert numbers == list(range(1, 25))  # no gap, no repeat
        assert all(p.startswith(f"R01-{YEAR}-") and len(p) == len(f"R01-{YEAR}-0000001") for p in taken)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(ProtocolCounter).where(ProtocolCounter.year == YEAR))
        engine.dispose()


def test_each_ente_and_year_counts_on_its_own(app, session) -> None:
    from app.archive.services import next_protocol
    from app.enti.models import Ente

    r01, r02 = (session.scalars(sa.select(Ente).where(Ente.code == c)).one() for c in ("R01", "R02"))
    assert next_protocol(session, r01, 2092) == "R01-2092-0000001"
    assert next_protocol(session, r01, 2092) == "R01-2092-0000002"
    assert next_protocol(session, r02, 2092) == "R02-2092-0000001"
    assert next_protocol(session, r01, 2093) == "R01-2093-0000001"
