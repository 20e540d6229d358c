"""Ipoteca (at least 20.000 euro, art. 77 c. 1-bis; 30 days of the comunicazione preventiva) and
pignoramento presso terzi (employer within the wage fraction of art. 72-ter; bank; 60 days; the third
party's payments through the payments slice)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.procedures import ipoteca, pignoramento
from app.procedures.machine import ProcedureRefused
from app.procedures.services import Operation, apply
from tests.procedures.support import ACTOR, make_position, principal

ON = dt.date(2026, 10, 1)


def test_ipoteca_under_20000_euro_is_refused_with_the_rule(session, store) -> None:
    position = make_position(session, capitale_cents=1_500_000)  # 15.000 € (+ interest: still under)
    with pytest.raises(ProcedureRefused) as refused:
        ipoteca.start(
            session,
            principal(session),
            ACTOR,
            position.id,
            property_text="Foglio 1 part. 2",
            on=ON,
            file_store=store,
        )
    message = refused.value.message
    assert "20.000,00 €" in message and "D.P.R. 602/1973 art. 77 c. 1-bis" in message
    assert position.state == "scaduta"


def test_ipoteca_at_the_threshold_waits_the_30_days(session, store) -> None:
    position = make_position(session, capitale_cents=2_000_000)  # exactly 20.000 € of capital
    procedure = ipoteca.start(
        session,
        principal(session),
        ACTOR,
        position.id,
        property_text="Roma, foglio 12 particella 345 sub 6",
        on=ON,
        file_store=store,
    )
    assert procedure.state == "comunicazione" and procedure.act.act_type.code == "preavviso_ipoteca"
    assert procedure.details["importo_ipoteca_cents"] == 2 * procedure.amount_cents
    with pytest.raises(ProcedureRefused) as early:
        apply(session, principal(session), ACTOR, procedure.id, Operation("iscrizione", dt.date(2026, 10, 2)))
    assert "comunicazione preventiva" in early.value.message and "art. 77, c. 2-bis" in early.value.message
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("notifica_preavviso", dt.date(2026, 10, 3)),
    )
    assert procedure.deadline == dt.date(2026, 11, 2)
    apply(session, principal(session), ACTOR, procedure.id, Operation("iscrizione", dt.date(2026, 11, 2)))
    assert procedure.state == "iscritta" and procedure.steps[-1].cost_cents == 3000


@pytest.mark.parametrize(
    "wage,monthly,fraction,limit",
    [
        (200_000, 20_001, "1/10", "200,00 €"),
        (300_000, 42_858, "1/7", "428,57 €"),
        (600_000, 120_001, "1/5", "1.200,00 €"),
    ],
)
def test_pignoramento_beyond_the_wage_fraction_is_refused(session, wage, monthly, fraction, limit) -> None:
    position = make_position(session, capitale_cents=500_000)
    with pytest.raises(ProcedureRefused) as refused:
        pignoramento.start(
            session,
            principal(session),
            ACTOR,
            position.id,
            third_party_kind="datore",
            third_party_name="Rossi Costruzioni Srl",
            wage_cents=wage,
            amount_cents=monthly,
            on=ON,
        )
    message = refused.value.message
    assert fraction in message and limit in message and "72-ter" in message
    assert position.state == "scaduta"
    within = pignoramento.start(
        session,
        principal(session),
        ACTOR,
        position.id,
        third_party_kind="datore",
        third_party_name="Rossi Costruzioni Srl",
        wage_cents=wage,
        amount_cents=monthly - 1,
        on=ON,
    )
    assert within.state == "atto_emesso" and fraction in within.details["regola"]


def test_bank_pignoramento_60_days_and_the_third_partys_payments(session) -> None:
    from app.payments.models import Allocation, Payment
    from app.positions.amounts import amount_due

    position = make_position(session, capitale_cents=100_000)
    with pytest.raises(ProcedureRefused, match="supera il dovuto"):
        pignoramento.start(
            session,
            principal(session),
            ACTOR,
            position.id,
            third_party_kind="banca",
            third_party_name="Banca Demo",
            wage_cents=None,
            amount_cents=10_000_000,
            on=ON,
        )
    procedure = pignoramento.start(
        session,
        principal(session),
        ACTOR,
        position.id,
        third_party_kind="banca",
        third_party_name="Banca Demo",
        wage_cents=None,
        amount_cents=50_000,
        on=ON,
    )
    assert procedure.steps[0].cost_cents == 3000
    with pytest.raises(ProcedureRefused, match="non è consentita"):
        apply(
            session,
            principal(session),
            ACTOR,
            procedure.id,
            Operation("pagamento_terzo", dt.date(2026, 10, 2), amount_cents=1000),
        )
    apply(session, principal(session), ACTOR, procedure.id, Operation("notifica_terzo", dt.date(2026, 10, 5)))
    assert procedure.deadline == dt.date(2026, 12, 4)  # 60 days (art. 72-bis)
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("pagamento_terzo", dt.date(2026, 11, 10), amount_cents=40_000),
    )
    assert procedure.state == "in_pagamento"
    payment = session.get(Payment, procedure.steps[-1].payment_id)
    assert (payment.channel, payment.amount_cents, payment.payer_name) == ("bonifico", 40_000, "Banca Demo")
    assert (
        session.scalar(
            sa.select(sa.func.sum(Allocation.amount_cents)).where(Allocation.payment_id == payment.id)
        )
        == 40_000
    )
    rest = amount_due(session, position, dt.date(2026, 11, 30)).total_cents
    apply(
        session,
        principal(session),
        ACTOR,
        procedure.id,
        Operation("pagamento_terzo", dt.date(2026, 11, 30), amount_cents=rest),
    )
    assert position.state == "pagata" and procedure.state == "concluso"
