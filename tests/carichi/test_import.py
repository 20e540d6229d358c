"""A lista di carico end to end on PostgreSQL: taxpayers, positions, ledger, events, totals, duplicates,
refusals (the COPY + set-based path of app/carichi/loading.py)."""

from __future__ import annotations

import sqlalchemy as sa

from app.carichi.models import Carico
from app.core.audit import Event
from app.extensions import db
from app.positions.models import Movement, Position
from app.taxpayers.models import Taxpayer, TaxpayerAddress, TaxpayerContact, TaxpayerEnte
from tests.carichi.support import csv_bytes, errors_of, make_cf, row, run_file


def _positions(carico_id: int) -> list[Position]:
    return list(
        db.session.scalars(
            sa.select(Position).where(Position.carico_id == carico_id).order_by(Position.external_id)
        )
    )


def test_a_canonical_csv_loads_taxpayers_positions_movements_and_events(ctx) -> None:
    rows = [
        row(1),
        row(2, capitale="1234.5", sanzioni="", spese="0"),
        row(
            3,
            codice_fiscale="01234560017",
            cognome="",
            nome="",
            ragione_sociale="Trasporti Demo S.r.l.",
            tipo_soggetto="PG",
            data_nascita="",
            comune_nascita="",
            pec="amm@pec.trasporti.it",
            telefono="+39 051 123456",
        ),
    ]
    job = run_file(ctx, csv_bytes(rows))
    assert job.status == "done", (job.error_message, errors_of(job.id))
    result = job.result
    assert {k: result[k] for k in ("accepted", "rejected", "duplicates", "status")} == {
        "accepted": 3,
        "rejected": 0,
        "duplicates": 0,
        "status": "caricato",
    }
    carico = db.session.get(Carico, result["carico"])
    assert (carico.rows_accepted, carico.rows_rejected, carico.total_cents) == (
        3,
        0,
        10000 + 3000 + 588 + 123450 + 13588,
    )
    positions = _positions(carico.id)
    assert [p.external_id for p in positions] == ["TEST-000001", "TEST-000002", "TEST-000003"]
    assert {p.state for p in positions} == {"caricata"}
    first = positions[0]
    movements = db.session.scalars(
        sa.select(Movement).where(Movement.position_id == first.id).order_by(Movement.component)
    ).all()
    assert [(m.component, m.kind, m.amount_cents, m.source) for m in movements] == [
        ("capitale", "carico", 10000, f"lista di carico {carico.id}"),
        ("sanzioni", "carico", 3000, f"lista di carico {carico.id}"),
        ("spese", "carico", 588, f"lista di carico {carico.id}"),
    ]
    second_components = db.session.scalars(
        sa.select(Movement.component).where(Movement.position_id == positions[1].id)
    ).all()
    assert second_components == ["capitale"]  # one movement per non-zero component
    events = db.session.scalars(
        sa.select(Event).where(Event.position_id.in_([p.id for p in positions]))
    ).all()
    assert sorted(e.kind for e in events) == ["position.loaded"] * 3
    by_position = {e.position_id: e for e in events}
    # rows 1 and 2 registered new taxpayers (their first row says so), row 3 names a known company
    assert [by_position[p.id].payload["contribuente_registrato"] for p in positions] == [True, True, False]
    assert by_position[positions[0].id].summary.endswith(
        f"caricata; contribuente registrato da lista di carico {carico.id}"
    )
    assert by_position[positions[2].id].summary.endswith("caricata")
    assert {e.payload["carico"] for e in events} == {carico.id}
    company = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == "01234560017")).one()
    assert company.kind == "PG"  # the demo's company: an existing taxpayer, kept
    person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == make_cf(1))).one()
    assert (person.kind, person.surname, person.given_name, person.search_name) == (
        "PF",
        "Bianchi",
        "Anna",
        "BIANCHI ANNA",
    )
    assert db.session.get(TaxpayerEnte, (person.id, carico.ente_id)) is not None
    address = db.session.scalars(
        sa.select(TaxpayerAddress).where(TaxpayerAddress.taxpayer_id == person.id)
    ).one()
    assert (address.kind, address.one_line, address.source, address.valid_to_dt) == (
        "residenza",
        "Via Roma 1, 00100 Roma (RM)",
        f"lista di carico {carico.id}",
        None,
    )
    contacts = {
        c.kind: c.value
        for c in db.session.scalars(
            sa.select(TaxpayerContact).where(
                TaxpayerContact.taxpayer_id == company.id, TaxpayerContact.valid_to_dt.is_(None)
            )
        )
    }
    assert contacts["pec"] == "amm@pec.trasporti.it" and contacts["telefono"] == "+39 051 123456"


def test_a_comma_delimited_file_with_any_column_order_loads(ctx) -> None:
    header = list(reversed(row(1).keys()))
    job = run_file(ctx, csv_bytes([row(1, capitale="12.50"), row(2)], delimiter=",", header=header))
    assert job.status == "done" and job.result["accepted"] == 2, errors_of(job.id)


def test_the_same_file_again_is_refused_as_a_duplicate(ctx) -> None:
    content = csv_bytes([row(1), row(2)])
    first = run_file(ctx, content)
    assert first.result["status"] == "caricato"
    from app.carichi import services
    from app.core.audit import Actor
    from app.core.errors import Conflict
    from app.jobs.files import store_stream

    target = services.resolve_target(db.session, ente_code="R01", entrata_code="TASSA_AUTO")
    import io

    import pytest

    stored = store_stream(ctx.config["FILE_STORE"], io.BytesIO(content))
    with pytest.raises(Conflict, match="File già caricato"):
        services.create_import_job(db.session, Actor.system("t"), target, stored, "again.csv")
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Carico).where(Carico.file_sha256 == stored.sha256)
        )
        == 1
    )


def test_a_duplicate_file_that_reaches_the_worker_changes_nothing(ctx) -> None:
    """Two jobs queued for the same file: the second one finds the carico and is refused as a duplicate."""
    import io

    from app.carichi import services
    from app.carichi.tasks import run_import
    from app.core.audit import Actor
    from app.jobs.files import store_stream
    from app.jobs.models import BatchJob

    content = csv_bytes([row(1)])
    target = services.resolve_target(db.session, ente_code="R01", entrata_code="TASSA_AUTO")
    stored = store_stream(ctx.config["FILE_STORE"], io.BytesIO(content))
    jobs = [
        services.create_import_job(db.session, Actor.system("t"), target, stored, "a.csv", enqueue=False)
        for _ in range(2)
    ]
    db.session.commit()
    ids = [j.id for j in jobs]
    run_import(ids[0])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Position))
    result = run_import(ids[1])
    assert result["status"] == "duplicato" and "File già caricato" in result["message"]
    assert db.session.get(BatchJob, ids[1]).status == "failed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Position)) == before


def test_a_position_already_loaded_is_reported_as_duplicate_and_changes_nothing(ctx) -> None:
    first = run_file(ctx, csv_bytes([row(1), row(2)]))
    assert first.result["accepted"] == 2
    original = db.session.scalars(sa.select(Position).where(Position.external_id == "TEST-000001")).one()
    again = run_file(
        ctx, csv_bytes([row(1, capitale="999,00", indirizzo="Via Nuova 9"), row(3)]), name="seconda.csv"
    )
    assert again.status == "done"
    assert {k: again.result[k] for k in ("accepted", "rejected", "duplicates")} == {
        "accepted": 1,
        "rejected": 0,
        "duplicates": 1,
    }
    assert errors_of(again.id) == [
        (
            2,
            "id_posizione",
            "posizione già presente per l'ente e l'entrata: riga ignorata, nulla è stato modificato",
            "duplicate",
        )
    ]
    db.session.refresh(original)
    assert original.carico_id == first.result["carico"]
    assert (
        db.session.scalar(
            sa.select(sa.func.sum(Movement.amount_cents)).where(Movement.position_id == original.id)
        )
        == 13588
    )
    person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == make_cf(1))).one()
    streets = db.session.scalars(
        sa.select(TaxpayerAddress.street).where(TaxpayerAddress.taxpayer_id == person.id)
    ).all()
    assert streets == ["Via Roma 1"]  # a duplicate row changes nothing, not even the address


def test_an_id_repeated_within_the_file_is_rejected_naming_the_first_line(ctx) -> None:
    job = run_file(
        ctx, csv_bytes([row(1)] + [row(n) for n in range(2, 40)] + [row(1, codice_fiscale=make_cf(99))])
    )
    assert job.result["accepted"] == 39 and job.result["rejected"] == 1
    assert errors_of(job.id) == [
        (41, "id_posizione", "id_posizione ripetuto nel file (già alla riga 2)", "rejected")
    ]


def test_an_error_rate_above_the_limit_keeps_nothing_but_keeps_the_report(ctx) -> None:
    rows = [row(n) for n in range(1, 20)] + [row(20, codice_fiscale="RSSMRA80A01H501X")]  # 1 of 20 = 5%: ok
    ok = run_file(ctx, csv_bytes(rows))
    assert ok.status == "done" and ok.result["rejected"] == 1
    positions_before = db.session.scalar(sa.select(sa.func.count()).select_from(Position))
    taxpayers_before = db.session.scalar(sa.select(sa.func.count()).select_from(Taxpayer))
    rows = [row(n) for n in range(101, 119)] + [row(119, cap="ABC"), row(120, capitale="-5")]  # 2 of 20 = 10%
    refused = run_file(ctx, csv_bytes(rows), name="troppi_errori.csv")
    assert refused.status == "failed"
    assert refused.result["status"] == "rifiutato" and refused.result["carico"] is None
    assert (
        "oltre il limite del 5%" in refused.error_message
        and "nessuna riga è stata caricata" in refused.error_message
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Position)) == positions_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Taxpayer)) == taxpayers_before
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Carico).where(Carico.file_name == "troppi_errori.csv")
        )
        == 0
    )
    assert [(e[0], e[1]) for e in errors_of(refused.id)] == [(20, "cap"), (21, "capitale")]


def test_a_changed_address_becomes_a_new_version_and_history_is_kept(ctx) -> None:
    first = run_file(ctx, csv_bytes([row(1, pec="anna@pec.it")]))
    person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == make_cf(1))).one()
    second = run_file(
        ctx,
        csv_bytes(
            [
                row(
                    2,
                    codice_fiscale=make_cf(1),
                    indirizzo="Corso Italia 5",
                    cap="20121",
                    comune="Milano",
                    provincia="MI",
                    pec="anna.nuova@pec.it",
                )
            ]
        ),
        name="seconda.csv",
    )
    assert second.status == "done"
    versions = db.session.scalars(
        sa.select(TaxpayerAddress)
        .where(TaxpayerAddress.taxpayer_id == person.id)
        .order_by(TaxpayerAddress.valid_from_dt, TaxpayerAddress.id)
    ).all()
    assert len(versions) == 2
    old, new = versions
    assert old.street == "Via Roma 1" and old.valid_to_dt is not None
    assert old.source == f"lista di carico {first.result['carico']}"
    assert new.street == "Corso Italia 5" and new.valid_to_dt is None
    assert new.source == f"lista di carico {second.result['carico']}"
    assert new.valid_from_dt == old.valid_to_dt
    pecs = db.session.scalars(
        sa.select(TaxpayerContact)
        .where(TaxpayerContact.taxpayer_id == person.id, TaxpayerContact.kind == "pec")
        .order_by(TaxpayerContact.id)
    ).all()
    assert [(c.value, c.valid_to_dt is None) for c in pecs] == [
        ("anna@pec.it", False),
        ("anna.nuova@pec.it", True),
    ]
    kinds = db.session.scalars(
        sa.select(Event.kind).where(
            Event.taxpayer_id == person.id, Event.kind.in_(("address.changed", "contact.changed"))
        )
    ).all()
    assert sorted(kinds) == ["address.changed", "contact.changed"]
    changed = db.session.scalars(
        sa.select(Event).where(Event.taxpayer_id == person.id, Event.kind == "address.changed")
    ).one()
    assert changed.summary == "Residenza: Corso Italia 5, 20121 Milano (MI)"
    assert changed.payload == {
        "source": f"lista di carico {second.result['carico']}",
        "previous": "Via Roma 1, 00100 Roma (RM)",
    }


def test_an_unchanged_address_adds_no_version(ctx) -> None:
    run_file(ctx, csv_bytes([row(1)]))
    run_file(ctx, csv_bytes([row(2, codice_fiscale=make_cf(1))]), name="b.csv")
    person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == make_cf(1))).one()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TaxpayerAddress)
            .where(TaxpayerAddress.taxpayer_id == person.id)
        )
        == 1
    )


def test_a_taxpayer_named_twice_in_a_file_is_one_taxpayer_with_the_last_rows_address(ctx) -> None:
    job = run_file(ctx, csv_bytes([row(1), row(2, codice_fiscale=make_cf(1), indirizzo="Via Ultima 2")]))
    assert job.result["accepted"] == 2 and job.result["taxpayers_created"] == 1
    person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == make_cf(1))).one()
    assert db.session.scalars(
        sa.select(TaxpayerAddress.street).where(TaxpayerAddress.taxpayer_id == person.id)
    ).all() == ["Via Ultima 2"]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Position).where(Position.taxpayer_id == person.id)
        )
        == 2
    )


def test_an_existing_taxpayer_of_another_ente_gets_linked(ctx) -> None:
    from app.demo.seed import SECOND_ENTE_CF

    person = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == SECOND_ENTE_CF)).one()
    job = run_file(ctx, csv_bytes([row(1, codice_fiscale=SECOND_ENTE_CF, cognome="Verdi", nome="Giuseppe")]))
    assert job.status == "done"
    ente_ids = set(
        db.session.scalars(sa.select(TaxpayerEnte.ente_id).where(TaxpayerEnte.taxpayer_id == person.id))
    )
    assert len(ente_ids) == 2
    assert db.session.get(Taxpayer, person.id).surname == "Verdi"


def test_an_unexpected_error_fails_the_job_and_keeps_nothing(ctx, monkeypatch) -> None:
    import pytest

    from app.carichi import loading

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loading, "load", broken)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Position))
    with pytest.raises(RuntimeError, match="disk full"):
        run_file(ctx, csv_bytes([row(1)]))
    from app.jobs.models import BatchJob

    job = db.session.scalars(sa.select(BatchJob).order_by(BatchJob.id.desc())).first()
    assert job.status == "failed" and job.result["status"] == "errore"
    assert job.error_message == (
        "Errore interno durante l'elaborazione: RuntimeError. Nessuna riga è stata caricata."
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Position)) == before
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Carico).where(Carico.file_sha256 == job.file_sha256)
        )
        == 0
    )


def test_xlsx_and_xml_files_load_end_to_end_with_their_row_count(ctx) -> None:
    from tests.carichi.support import xlsx_bytes, xml_bytes

    xlsx = run_file(ctx, xlsx_bytes([row(1), row(2)]), layout="canonico-xlsx", name="lista.xlsx")
    assert xlsx.status == "done" and xlsx.result["accepted"] == 2, xlsx.error_message
    assert (xlsx.rows_done, xlsx.rows_total) == (2, 2)
    rows = [row(n) for n in range(3, 23)] + [row(23, cap="x")]
    xml = run_file(ctx, xml_bytes(rows), layout="canonico-xml", name="lista.xml")
    assert xml.status == "done" and (xml.result["accepted"], xml.result["rejected"]) == (20, 1), (
        xml.error_message
    )
    assert (xml.rows_done, xml.rows_total) == (21, 21)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Position).where(Position.carico_id == xml.result["carico"])
        )
        == 20
    )


def test_loaded_positions_get_their_notice_numbers(ctx) -> None:
    """formats.md §3: every payable item gets a codice avviso as soon as it is loaded."""
    from app.engine.notice import is_valid_notice
    from app.payments.models import NoticeNumber

    job = run_file(ctx, csv_bytes([row(1), row(2)]))
    assert job.status == "done", (job.error_message, errors_of(job.id))
    rows = db.session.execute(
        sa.select(Position.id, NoticeNumber.notice_number)
        .outerjoin(NoticeNumber, NoticeNumber.position_id == Position.id)
        .where(Position.carico_id == job.result["carico"])
    ).all()
    assert len(rows) == 2
    assert all(n is not None and is_valid_notice(n) and n.startswith("301") for _, n in rows)
