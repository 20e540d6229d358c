"""Insinuazione al passivo (proceeding, amount filed, outcome) and the set-based predicate "taxpayer in an
open insolvency proceeding"; the costs of each step from the parameter rows in force at its date."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.procedures import fermo, insinuazione
from app.procedures.machine import ProcedureRefused
from app.procedures.models import InsolvencyProceeding
from app.procedures.predicates import in_open_insolvency, with_open_procedure
from app.procedures.services import Operation, apply
from tests.procedures.support import ACTOR, make_position, other_taxpayer_cf, principal

ON = dt.date(2026, 10, 1)


def _start(session, position, deadline=dt.date(2026, 11, 30)):  # type: ignore[no-untyped-def]
    return insinuazione.start(
        session,
        principal(session),
        ACTOR,
        position.id,
        proceeding_kind="liquidazione_giudiziale",
        court="Tribunale di Roma",
        case_number="123/2026",
        opened_on=dt.date(2026, 9, 15),
        filing_deadline=deadline,
        on=ON,
    )


def test_insinuazione_amount_filed_and_outcome(session) -> None:
    position = make_position(session, capitale_cents=300_000)
    procedure = _start(session, position)
    assert procedure.state == "da_insinuare" and procedure.deadline == dt.date(2026, 11, 30)
    assert position.state == "in_procedura"
    with pytest.raises(ProcedureRefused, match="supera il credito"):
        apply(
            session,
            principal(session),
            ACTOR,
            procedure.id,
            Operation("deposito_domanda", dt.date(2026, 10, 20), amount_cents=9_000_000),
        )
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("deposito_domanda", dt.date(2026, 10, 20), amount_cents=300_000),
    )
    assert procedure.state == "insinuata" and procedure.details["tardiva"] is False
    with pytest.raises(ProcedureRefused, match="inferiore a quello insinuato"):
        apply(
            session,
            principal(session),
            ACTOR,
            procedure.id,
            Operation("esito", dt.date(2027, 2, 1), outcome="ammessa_parzialmente", amount_cents=300_000),
        )
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("esito", dt.date(2027, 2, 1), outcome="ammessa_parzialmente", amount_cents=200_000),
    )
    assert procedure.state == "ammessa_parzialmente" and procedure.outcome == "Ammessa in parte: 2.000,00 €"
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("chiusura", dt.date(2027, 6, 30), note="Procedura concorsuale chiusa"),
    )
    assert procedure.state == "chiuso" and procedure.insolvency.closed_on == dt.date(2027, 6, 30)


def test_a_late_filing_is_kept_as_tardiva(session) -> None:
    procedure = _start(
        session, make_position(session, capitale_cents=100_000), deadline=dt.date(2026, 10, 10)
    )
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("deposito_domanda", dt.date(2026, 10, 20), amount_cents=50_000),
    )
    assert procedure.details["tardiva"] is True and "tardiva" in procedure.steps[-1].note


def test_open_insolvency_predicate_is_set_based_on_the_taxpayer(session) -> None:
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    debtor = make_position(session, capitale_cents=100_000)
    other = make_position(session, capitale_cents=100_000, cf=other_taxpayer_cf(session))
    procedure = _start(session, debtor)

    def blocked(on: dt.date) -> set[int]:
        rows = session.scalars(
            sa.select(Position.id).where(
                Position.id.in_([debtor.id, other.id]), in_open_insolvency(Position.taxpayer_id, on)
            )
        )
        return set(rows)

    assert blocked(dt.date(2026, 9, 14)) == set()  # not opened yet
    assert blocked(dt.date(2026, 10, 1)) == {debtor.id}
    assert (
        session.scalar(
            sa.select(sa.func.count(Taxpayer.id)).where(
                Taxpayer.id == debtor.taxpayer_id, in_open_insolvency(Taxpayer.id)
            )
        )
        == 1
    )  # today, in SQL
    session.get(InsolvencyProceeding, procedure.insolvency_id).closed_on = dt.date(2026, 12, 31)
    session.flush()
    assert blocked(dt.date(2026, 12, 30)) == {debtor.id}
    assert blocked(dt.date(2026, 12, 31)) == set()
    assert (
        session.scalar(
            sa.select(sa.func.count(Position.id)).where(
                Position.id == debtor.id, with_open_procedure(Position.id, "insinuazione")
            )
        )
        == 1
    )


def test_costs_come_from_the_parameter_row_in_force_at_the_step_date(session, store) -> None:
    from app.enti.models import Parameter

    position = make_position(session, capitale_cents=100_000)
    session.add(
        Parameter(
            code="spese_procedure",
            ente_id=position.ente_id,
            entrata_id=None,
            valid_from=dt.date(2026, 11, 1),
            valid_to=None,
            value={"preavviso_fermo": "7.50", "fermo_amministrativo": "9.25"},
            source="Delibera di prova n. 1/2026",
            note="test",
        )
    )
    session.flush()
    procedure = fermo.start(
        session,
        principal(session),
        ACTOR,
        position.id,
        vehicle={"targa": "CD456EF"},
        vehicle_source="test",
        on=dt.date(2026, 10, 1),
        file_store=store,
    )
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("notifica_preavviso", dt.date(2026, 10, 1)),
    )
    apply(session, principal(session), ACTOR, procedure.id, Operation("iscrizione", dt.date(2026, 11, 2)))
    costs = [(s.operation, s.cost_cents, s.cost_source) for s in procedure.steps if s.cost_cents]
    assert costs == [
        ("avvio", 600, "D.M. 21 novembre 2000, Tabella A"),
        ("iscrizione", 925, "Delibera di prova n. 1/2026"),
    ]
    assert procedure.costs_cents == 1525
