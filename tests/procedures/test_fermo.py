"""Fermo amministrativo: preavviso (act) → 30 days from notification → iscrizione → paid → cancellation
request (daily job) → cancellation; the strumentale vehicle refused with the rule; the PRA lookup through the
adapter against a stub server validating each request."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.core.audit import Event
from app.positions.models import Movement
from app.procedures import fermo
from app.procedures.machine import ProcedureRefused
from app.procedures.services import Operation, apply
from tests.procedures.support import ACTOR, PRA_TOKEN, make_position, pra_stub, principal

VEHICLE = {"targa": "AB123CD", "tipo": "autovettura", "marca": "FIAT", "modello": "PANDA"}
START = dt.date(2026, 10, 1)


def _start(session, store, position):  # type: ignore[no-untyped-def]
    return fermo.start(
        session,
        principal(session),
        ACTOR,
        position.id,
        vehicle=dict(VEHICLE),
        vehicle_source="PRA/ACI, consultazione del 01/10/2026",
        on=START,
        file_store=store,
    )


def test_fermo_from_preavviso_to_cancellation_when_paid(session, store) -> None:
    from app.payments.services import register_desk_payment
    from app.positions.amounts import amount_due

    position = make_position(session, capitale_cents=150_000)
    procedure = _start(session, store, position)
    assert procedure.state == "preavviso" and position.state == "in_procedura"
    assert procedure.act.act_type.code == "preavviso_fermo" and procedure.act.issue_date == START
    first = procedure.steps[0]
    assert (first.cost_cents, first.cost_source) == (600, "D.M. 21 novembre 2000, Tabella A")
    spese = session.scalars(
        sa.select(Movement).where(Movement.position_id == position.id, Movement.kind == "spese")
    ).all()
    assert [m.amount_cents for m in spese] == [600]
    kinds = set(session.scalars(sa.select(Event.kind).where(Event.position_id == position.id)))
    assert {"procedure.started", "position.state_changed", "act.issued"} <= kinds

    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("notifica_preavviso", dt.date(2026, 10, 5)),
    )
    assert procedure.deadline == dt.date(2026, 11, 4)  # 30 days (parameter termine_preavviso_fermo)
    with pytest.raises(ProcedureRefused) as early:
        apply(session, principal(session), ACTOR, procedure.id, Operation("iscrizione", dt.date(2026, 11, 3)))
    assert "dal 04/11/2026" in early.value.message and "art. 187" in early.value.message
    apply(session, principal(session), ACTOR, procedure.id, Operation("iscrizione", dt.date(2026, 11, 4)))
    assert procedure.state == "iscritto" and procedure.steps[-1].cost_cents == 600

    with pytest.raises(ProcedureRefused) as unpaid:
        apply(
            session,
            principal(session),
            ACTOR,
            procedure.id,
            Operation("richiesta_cancellazione", dt.date(2026, 11, 10)),
        )
    assert "restano da pagare" in unpaid.value.message
    assert fermo.request_cancellations_of_paid(session, ACTOR, dt.date(2026, 11, 20)) == []

    paid_on = dt.date(2026, 11, 20)
    due = amount_due(session, position, paid_on).total_cents
    register_desk_payment(
        session,
        principal(session),
        ACTOR,
        position_id=position.id,
        amount_cents=due,
        channel="contanti",
        paid_date=paid_on,
    )
    session.refresh(position)
    assert position.state == "pagata"
    assert fermo.request_cancellations_of_paid(session, ACTOR, dt.date(2026, 11, 21)) == [procedure.id]
    assert procedure.state == "cancellazione_richiesta"
    assert fermo.request_cancellations_of_paid(session, ACTOR, dt.date(2026, 11, 22)) == []  # idempotent
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.kind == "procedure.cancellation_requested", Event.position_id == position.id)
        )
        == 1
    )
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("cancellazione", dt.date(2026, 11, 30), note="PRA: cancellazione eseguita"),
    )
    assert procedure.state == "cancellato" and procedure.closed_on == dt.date(2026, 11, 30)


def test_fermo_on_a_declared_strumentale_vehicle_is_refused(session, store) -> None:
    position = make_position(session, capitale_cents=80_000)
    procedure = _start(session, store, position)
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("notifica_preavviso", dt.date(2026, 10, 2)),
    )
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation(
            "dichiarazione_strumentale",
            dt.date(2026, 10, 20),
            note="furgone dell'impresa individuale",
            document_protocol=procedure.act.protocol,  # any archive document of the ente: here the act's
        ),
    )
    assert procedure.steps[-1].document_id == procedure.act.document_id
    assert procedure.state == "esente" and procedure.details["vehicle"]["strumentale"] is True
    with pytest.raises(ProcedureRefused, match="Nessun documento"):
        apply(
            session,
            principal(session),
            ACTOR,
            procedure.id,
            Operation("chiusura", dt.date(2026, 10, 21), document_protocol="R01-1999-0000000"),
        )
    with pytest.raises(ProcedureRefused) as refused:
        apply(session, principal(session), ACTOR, procedure.id, Operation("iscrizione", dt.date(2026, 12, 1)))
    assert "strumentale" in refused.value.message and "art. 187" in refused.value.message
    assert procedure.state == "esente"
    other = make_position(session, capitale_cents=50_000)
    with pytest.raises(ProcedureRefused) as again:
        _start(session, store, other)  # a new fermo on the same vehicle of the same debtor
    assert "strumentale" in again.value.message


def test_a_position_not_yet_due_refuses_the_fermo(session, store) -> None:
    position = make_position(session, capitale_cents=80_000, state="notificata")
    with pytest.raises(ProcedureRefused) as refused:
        _start(session, store, position)
    assert "scaduta" in refused.value.message and "art. 146" in refused.value.message
    assert position.state == "notificata"


def test_pra_lookup_through_the_stub_and_the_start_form(app, personas, store) -> None:
    from app.demo.seed import MARIO_ROSSI_CF
    from app.extensions import db
    from app.procedures.models import Procedure
    from tests.conftest import csrf_token

    vehicles = {
        MARIO_ROSSI_CF: [
            {
                "targa": "ZZ999ZZ",
                "tipo": "autovettura",
                "marca": "LANCIA",
                "modello": "YPSILON",
                "data_immatricolazione": "2018-05-01",
                "intestatario_dal": "2018-05-01",
                "gravami": [],
            }
        ]
    }
    with pra_stub(vehicles) as (url, seen):
        app.config.update(PRA_API_URL=url, PRA_API_TOKEN=PRA_TOKEN)
        try:
            with app.app_context():
                position_id = make_position(db.session, capitale_cents=90_000).id
                db.session.commit()
            client = personas.client("backoffice")
            page = f"/procedure/nuova?posizione={position_id}&tipo=fermo"
            html = client.get(page).get_data(as_text=True)
            assert "ZZ999ZZ" in html and "PRA/ACI, consultazione del 01/12/2026" in html
            assert seen == [f"/veicoli?codice_fiscale={MARIO_ROSSI_CF}"]
            response = client.post(
                page,
                data={
                    "kind": "fermo",
                    "on": "2026-12-01",
                    "vehicle": "ZZ999ZZ",
                    "csrf_token": csrf_token(client, page),
                },
            )
            assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        finally:
            app.config.update(PRA_API_URL=None, PRA_API_TOKEN=None)
    with app.app_context():
        procedure = db.session.scalars(sa.select(Procedure).where(Procedure.position_id == position_id)).one()
        assert procedure.details["vehicle"]["targa"] == "ZZ999ZZ"
        assert procedure.details["vehicle"]["fonte"] == "PRA/ACI, consultazione del 01/12/2026"


def test_pra_adapter_errors_are_italian() -> None:
    from app.registries.pra import PraClient, PraUnavailable

    with pytest.raises(PraUnavailable, match="non configurata"):
        PraClient(None).vehicles("RSSMRA80A01H501U")
    with pra_stub({}) as (url, _):
        assert PraClient(url, PRA_TOKEN).vehicles("RSSMRA80A01H501U").vehicles == ()  # 404: none
        with pytest.raises(PraUnavailable, match="errore 400"):
            PraClient(url, "wrong").vehicles("RSSMRA80A01H501U")  # the stub refuses a bad token
