"""The embedded default (SQLite): the batched path loads, versions, rejects and refuses like PostgreSQL's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.carichi.support import csv_bytes, errors_of, make_cf, row, run_file
from tests.conftest import embedded_sqlite_app

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with embedded_sqlite_app(tmp_path_factory.mktemp("sqlite"), taxpayers=5) as app:
        yield app


def test_a_lista_di_carico_loads_on_sqlite(sqlite_app: Flask) -> None:
    from app.carichi.models import Carico
    from app.core.audit import Event
    from app.extensions import db
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer, TaxpayerAddress

    with sqlite_app.app_context():
        job = run_file(sqlite_app, csv_bytes([row(n) for n in range(1, 40)] + [row(40, cap="1"), row(1)]))
        assert job.status == "done", job.error_message
        assert (job.result["accepted"], job.result["rejected"]) == (39, 2)
        assert [(e[0], e[1]) for e in errors_of(job.id)] == [(41, "cap"), (42, "id_posizione")]
        carico = db.session.get(Carico, job.result["carico"])
        assert carico.rows_accepted == 39 and carico.total_cents == 39 * 13588
        ids = db.session.scalars(sa.select(Position.id).where(Position.carico_id == carico.id)).all()
        assert len(ids) == 39
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Movement).where(Movement.position_id.in_(ids))
            )
            == 39 * 3
        )
        event = db.session.scalars(sa.select(Event).where(Event.position_id == ids[0])).one()
        assert event.kind == "position.loaded" and event.payload["carico"] == carico.id
        assert event.payload["contribuente_registrato"] is True  # a new taxpayer's first row

        again = run_file(
            sqlite_app,
            csv_bytes(
                [
                    row(1, indirizzo="Via Nuova 1"),
                    row(2, codice_fiscale=make_cf(2), indirizzo="Via Nuova 2", id_posizione="ALTRA-2"),
                ]
            ),
            name="seconda.csv",
        )
        assert (again.result["accepted"], again.result["duplicates"]) == (1, 1)
        person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == make_cf(2))).one()
        versions = db.session.scalars(
            sa.select(TaxpayerAddress)
            .where(TaxpayerAddress.taxpayer_id == person.id)
            .order_by(TaxpayerAddress.id)
        ).all()
        assert [(v.street, v.valid_to_dt is None, v.source) for v in versions] == [
            ("Via Roma 1", False, f"lista di carico {carico.id}"),
            ("Via Nuova 2", True, f"lista di carico {again.result['carico']}"),
        ]
        assert db.session.scalars(
            sa.select(Event.summary).where(Event.taxpayer_id == person.id, Event.kind == "address.changed")
        ).all() == ["Residenza: Via Nuova 2, 00100 Roma (RM)"]


def test_an_error_rate_above_the_limit_keeps_nothing_on_sqlite(sqlite_app: Flask) -> None:
    from app.extensions import db
    from app.positions.models import Position

    with sqlite_app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Position))
        job = run_file(sqlite_app, csv_bytes([row(500), row(501, capitale="-1")]), name="errata.csv")
        assert job.status == "failed" and job.result["status"] == "rifiutato"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Position)) == before
        assert len(errors_of(job.id)) == 1
