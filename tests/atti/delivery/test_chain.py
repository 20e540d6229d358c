"""The delivery chain on PostgreSQL: acts issued by the atti service -> print pre-check and batch ZIP +
manifest -> provider outcome file imported -> acts and positions notified with the right dates, payment term
started, prescription restarted; bad files refused whole; failed notifications on the work list."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa

from app.atti.delivery import outcomes_import, services
from app.atti.delivery.models import ActDelivery, ActOutcome, PrintBatch
from app.atti.delivery.outcomes_file import OutcomesRefused
from app.core.audit import Event
from app.core.calendar import is_italian_holiday
from app.engine.dates import add_years
from app.engine.deadlines import next_useful_day, payment_term_end
from app.jobs.files import path_of
from app.positions.amounts import today_rome
from app.taxpayers.models import TaxpayerAddress
from tests.atti.delivery.conftest import ACTOR, r01
from tests.conftest import csrf_token

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def _outcomes_csv(rows: list[tuple[Any, ...]]) -> bytes:
    lines = ["id_atto;protocollo;esito;data_esito;data_cad;codice_raccomandata"]
    lines += [";".join("" if v is None else str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def _years(session: Any, position: Any) -> int:
    from app.engine.params import engine_params_from_rows
    from app.enti.queries import parameter_rows

    rows = parameter_rows(session, ente_id=position.ente_id, entrata_id=position.entrata_id)
    return (
        engine_params_from_rows(rows, today_rome())
        .prescription_regimes[position.entrata.prescription_regime]
        .years
    )


def _batch(session: Any, store: Any, acts: list[Any]) -> PrintBatch:
    return services.create_print_batch(
        session, r01(session), acts, ACTOR, file_store=str(store), today=today_rome(), now=NOW
    )


def test_issue_print_batch_outcomes_notify_positions(session, store, issue, personas) -> None:
    today = today_rome()
    acts = issue(3)
    broken = acts[2]
    for address in session.scalars(
        sa.select(TaxpayerAddress).where(TaxpayerAddress.taxpayer_id == broken.taxpayer_id)
    ):
        address.cap = None  # an address the provider cannot deliver to
    session.flush()

    check = services.print_precheck(session, acts)
    assert [i.act_id for i in check.items] == [acts[0].id, acts[1].id]
    assert [u.act_id for u in check.unfixable] == [broken.id] and "CAP: mancante" in check.unfixable[
        0
    ].problems

    batch = _batch(session, store, acts)
    assert (batch.acts, batch.status) == (2, "pronto")
    assert batch.excluded[0]["act"] == broken.id and batch.excluded[0]["problems"] == ["CAP: mancante"]
    assert broken.status == "emesso" and broken.sent_date is None  # left out, not sent
    with zipfile.ZipFile(path_of(str(store), batch.file_path)) as archive:
        rows = list(
            csv.DictReader(io.StringIO(archive.read(f"{batch.code}.csv").decode("utf-8-sig")), delimiter=";")
        )
        assert sorted(archive.namelist()) == sorted(f"{batch.code}.{ext}" for ext in ("csv", "pdf", "xml"))
    assert [(int(r["id_atto"]), r["protocollo"]) for r in rows] == [(a.id, a.protocol) for a in acts[:2]]
    assert [r["codice_fiscale"] for r in rows] == [a.taxpayer.codice_fiscale for a in acts[:2]]
    assert {a.status for a in acts[:2]} == {"inviato"} and {a.sent_date for a in acts[:2]} == {today}

    # the batch page and its ZIP download
    client = personas.client("backoffice")
    page = client.get(f"/atti/recapito/lotti/{batch.id}")
    assert page.status_code == 200 and batch.code in page.get_data(as_text=True)
    download = client.get(f"/atti/recapito/lotti/{batch.id}/zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    precheck_page = client.get("/atti/recapito/")
    assert precheck_page.status_code == 200 and broken.protocol in precheck_page.get_data(as_text=True)

    # the provider's outcomes: one delivered today, one by compiuta giacenza (CAD sent today)
    first, second = acts[0], acts[1]
    before = {a.id: a.position.state for a in acts[:2]}
    assert before == {first.id: "caricata", second.id: "caricata"}
    data = _outcomes_csv(
        [
            (first.id, first.protocol, "notificato", today.isoformat(), None, rows[0]["codice_raccomandata"]),
            (
                None,
                second.protocol,
                "compiuta_giacenza",
                today.strftime("%d/%m/%Y"),
                today.strftime("%d/%m/%Y"),
                None,
            ),
        ]
    )
    summary = outcomes_import.import_outcomes(session, r01(session), data, "esiti.csv", ACTOR)
    assert (summary.lines, summary.notified, summary.failed) == (2, 2, 0)

    giacenza = today + dt.timedelta(days=10)  # the compiuta_giacenza parameter row (art. 8 c. 4 L. 890/1982)
    for act, notified in ((first, today), (second, giacenza)):
        outcome = session.scalars(sa.select(ActOutcome).where(ActOutcome.act_id == act.id)).one()
        assert (act.status, act.notified_date, outcome.notified_date) == ("notificato", notified, notified)
        assert act.position.state == "notificata" and act.position.notified_date == notified
        assert outcome.payment_due_date == payment_term_end(
            notified, act.breakdown["term_days"], is_italian_holiday
        )
        years = _years(session, act.position)
        assert outcome.prescription_date == next_useful_day(add_years(notified, years), is_italian_holiday)
        event = session.scalars(
            sa.select(Event).where(Event.kind == "act.notified", Event.payload["act"].as_integer() == act.id)
        ).one()
        assert event.position_id == act.position_id and event.payload["notified_date"] == notified.isoformat()
        assert (
            session.scalars(
                sa.select(Event).where(
                    Event.kind == "position.state_changed", Event.position_id == act.position_id
                )
            ).first()
            is not None
        )
    second_outcome = session.scalars(sa.select(ActOutcome).where(ActOutcome.act_id == second.id)).one()
    assert second_outcome.rule_source and "890/1982" in second_outcome.rule_source
    delivery = session.scalars(sa.select(ActDelivery).where(ActDelivery.act_id == first.id)).one()
    assert delivery.status == "consegnato" and delivery.batch_id == batch.id

    # the same file again: a duplicate outcome, the whole file refused, nothing changes
    with pytest.raises(OutcomesRefused) as refused:
        outcomes_import.import_outcomes(session, r01(session), data, "esiti.csv", ACTOR)
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "esito"), (3, "esito")]
    assert "duplicato" in refused.value.errors[0].message
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ActOutcome)
            .where(ActOutcome.act_id.in_([first.id, second.id]))
        )
        == 2
    )


def test_bad_outcome_files_are_refused_whole_with_line_and_field(session, store, issue) -> None:
    today = today_rome()
    acts = issue(2)
    _batch(session, store, acts)
    good = (acts[0].id, None, "notificato", today.isoformat(), None, None)
    cases = [
        (
            [good, (999_999_999, None, "notificato", today.isoformat(), None, None)],
            (3, "id_atto", "atto 999999999 sconosciuto per l'ente R01"),
        ),
        (
            [good, (acts[1].id, None, "notificato", (today - dt.timedelta(days=1)).isoformat(), None, None)],
            (3, "data_esito", "anteriore all'invio dell'atto"),
        ),
        (
            [good, (acts[0].id, None, "irreperibile", today.isoformat(), None, None)],
            (3, "id_atto", "esito duplicato"),
        ),
        (
            [good, (None, "R01-NON-ESISTE", "notificato", today.isoformat(), None, None)],
            (3, "protocollo", "sconosciuto"),
        ),
    ]
    for rows, (line, field, text) in cases:
        with pytest.raises(OutcomesRefused) as refused:
            outcomes_import.import_outcomes(session, r01(session), _outcomes_csv(rows), "esiti.csv", ACTOR)
        assert any(e.line == line and e.field == field and text in e.message for e in refused.value.errors), (
            refused.value.errors
        )
        assert acts[0].status == "inviato" and acts[0].notified_date is None  # nothing applied
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(ActOutcome)
                .where(ActOutcome.act_id.in_([a.id for a in acts]))
            )
            == 0
        )


def test_cli_imports_and_refuses(session, store, issue, cli, tmp_path) -> None:
    today = today_rome()
    acts = issue(2)
    _batch(session, store, acts)
    session.commit()  # the command shares the test's session: its rollback on refusal must not undo these
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        _outcomes_csv(
            [(acts[0].id, None, "notificato", (today - dt.timedelta(days=3)).isoformat(), None, None)]
        )
    )
    code, body = cli("atti", "esiti", str(bad))
    assert code == 1 and body["errors"][0]["line"] == 2 and body["errors"][0]["field"] == "data_esito"
    assert "nessun esito applicato" in body["error"]
    good = tmp_path / "esiti.xml"
    good.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<esiti xmlns="urn:esattoria:esiti:1">\n'
        f"<esito><id_atto>{acts[0].id}</id_atto><esito>rifiutato</esito><data_esito>{today}</data_esito></esito>\n"
        f"<esito><protocollo>{acts[1].protocol}</protocollo><esito>trasferito</esito>"
        f"<data_esito>{today}</data_esito></esito>\n</esiti>\n",
        encoding="utf-8",
    )
    code, body = cli("atti", "esiti", str(good), "--ente", "R01")
    assert code == 0, body
    assert (body["lines"], body["notified"], body["failed"]) == (2, 1, 1)
    session.expire_all()
    assert acts[0].status == "notificato" and acts[0].notified_date == today  # a refusal is a notification
    assert acts[1].status == "non_notificato" and acts[1].position.state == "caricata"


def test_failed_notifications_go_to_the_work_list(session, store, issue, personas) -> None:
    today = today_rome()
    acts = issue(2)
    _batch(session, store, acts)
    data = _outcomes_csv(
        [
            (acts[0].id, None, "irreperibile", today.isoformat(), None, None),
            (acts[1].id, None, "deceduto", today.isoformat(), None, None),
        ]
    )
    summary = outcomes_import.import_outcomes(session, r01(session), data, "esiti.csv", ACTOR)
    assert summary.failed == 2
    items = session.scalars(
        sa.select(ActOutcome).where(ActOutcome.act_id.in_([a.id for a in acts])).order_by(ActOutcome.act_id)
    ).all()
    assert [(o.worklist_status, o.next_step) for o in items] == [
        ("aperto", "nuovo_indirizzo"),
        ("aperto", "eredi"),
    ]
    assert {a.status for a in acts} == {"non_notificato"} and {a.position.state for a in acts} == {"caricata"}
    session.commit()

    client = personas.client("backoffice")
    page = client.get("/atti/recapito/lista-lavoro")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and acts[0].protocol in text and "ANPR" in text
    token = csrf_token(client, "/atti/recapito/lista-lavoro")
    answer = client.post(
        f"/atti/recapito/esiti/{items[0].id}/lavorato",
        data={"note": "Nuovo indirizzo da ANPR, reinviato", "csrf_token": token},
    )
    assert answer.status_code == 302
    session.expire_all()
    assert items[0].worklist_status == "chiuso" and items[1].worklist_status == "aperto"
    assert acts[0].protocol not in client.get("/atti/recapito/lista-lavoro").get_data(as_text=True)


def test_manual_outcome_with_the_scanned_return_receipt(session, store, issue, personas) -> None:
    today = today_rome()
    (act,) = issue(1)
    _batch(session, store, [act])
    session.commit()
    client = personas.client("backoffice")
    path = f"/atti/recapito/atti/{act.id}"
    page = client.get(path)
    assert page.status_code == 200 and "Registra un esito a mano" in page.get_data(as_text=True)
    scan = _scanned_receipt(session, store, act)
    session.commit()
    early = (today - dt.timedelta(days=2)).isoformat()
    refused = client.post(
        path,
        data={
            "outcome": "notificato",
            "event_date": early,
            "document_id": scan,
            "csrf_token": csrf_token(client, path),
        },
    )
    assert refused.status_code == 422 and "anteriore all&#39;invio" in refused.get_data(as_text=True)
    answer = client.post(
        path,
        data={
            "outcome": "notificato",
            "event_date": today.isoformat(),
            "document_id": scan,
            "csrf_token": csrf_token(client, path),
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    session.expire_all()
    outcome = session.scalars(sa.select(ActOutcome).where(ActOutcome.act_id == act.id)).one()
    assert (outcome.source, outcome.document_id, act.notified_date) == ("manuale", scan, today)
    assert act.position.state == "notificata"


def _scanned_receipt(session: Any, store: Any, act: Any) -> int:
    """A scanned return receipt filed in the archive for the act's taxpayer (the document to pick)."""
    from app.archive.services import IncomingFile, file_documents

    path = store.parent / "cartolina.pdf"
    path.write_bytes(services.act_pdf(session, act, str(store)) + b"\n% cartolina AR\n")
    (result,) = file_documents(
        session,
        [IncomingFile("cartolina.pdf", path)],
        act.ente,
        "scansione",
        "ricevuta_ritorno",
        ACTOR,
        file_store=str(store),
        mode="sync",
        taxpayer_id=act.taxpayer_id,
    )
    assert result.document is not None, result
    return result.document
