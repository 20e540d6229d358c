"""The amount due of a notice (ledger + interest and oneri accrued at the payment's date) settles a position
when paid through pagoPA, a file flow or the review queue, as at the desk: reconciliation books what accrued
before allocating a payment that reaches the ledger balance, and a reversal takes it back."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.payments import services
from app.payments.models import Accrual, Anomaly, Payment, Refund, ReviewItem
from app.positions.amounts import amount_due
from app.positions.models import Movement, Position
from app.positions.services import system_principal
from tests.payments.support import ACTOR, csv_file, euro, fdr, open_positions, row

DAY = dt.date(2026, 11, 20)  # the payments' date in the flows of these tests (support.row)


def accruing(session, n: int = 1, *, skip: int = 0):
    """Open positions (see support.open_positions) whose amount due at DAY includes interest."""
    found = []
    for p in open_positions(session, 200):
        due = amount_due(session, session.get(Position, p.id), DAY)
        if due.error is None and due.interest_cents > 0 and due.ledger_cents == p.ledger:
            found.append((p, due))
    assert len(found) >= skip + n, "the demo data has positions accruing interest at 20/11/2026"
    return found[skip : skip + n]


def due_now(session, position_id: int, on: dt.date = DAY) -> int:
    session.expire_all()
    return amount_due(session, session.get(Position, position_id), on).total_cents


def kinds(session, payment_id: int) -> set[str]:
    return set(session.scalars(sa.select(Anomaly.kind).where(Anomaly.payment_id == payment_id)))


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_an_fdr_payment_of_the_notice_amount_of_its_day_settles_the_position(session, method) -> None:
    ((p, due),) = accruing(session)
    assert due.total_cents > p.ledger  # the notice of that day asks for the interest too
    services.import_flow(session, fdr([row(p.iuv, "IUR-NOTICE", due.total_cents)]), ACTOR, method=method)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-NOTICE")).one()
    assert (payment.status, payment.credit_cents) == ("riconciliato", 0)
    assert session.get(Position, p.id).state == "pagata"
    assert due_now(session, p.id) == 0
    assert due_now(session, p.id, DAY + dt.timedelta(days=40)) == 0  # nothing accrues on a settled position
    assert kinds(session, payment.id) == set()
    assert not session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).all()
    booked = session.scalars(
        sa.select(Movement)
        .join(Accrual, Accrual.movement_id == Movement.id)
        .where(Accrual.payment_id == payment.id)
    ).all()
    assert sum(m.amount_cents for m in booked) == due.accrued_cents
    assert {m.value_date for m in booked} == {DAY}
    assert {(m.kind, m.component) for m in booked} <= {("interessi", "interessi"), ("oneri", "oneri")}


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_an_fdr_payment_of_the_ledger_balance_leaves_the_interest_due(session, method) -> None:
    ((p, due),) = accruing(session)
    services.import_flow(session, fdr([row(p.iuv, "IUR-LEDGER", p.ledger)]), ACTOR, method=method)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-LEDGER")).one()
    assert (payment.status, payment.credit_cents) == ("riconciliato", 0)
    assert session.get(Position, p.id).state == "parzialmente_pagata"
    assert due_now(session, p.id) == due.accrued_cents
    # it is not what the notice asked for that day
    anomaly = session.scalars(
        sa.select(Anomaly).where(Anomaly.payment_id == payment.id, Anomaly.kind == "importo_difforme")
    ).one()
    assert anomaly.expected_cents == due.total_cents


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_a_csv_flow_paying_the_notice_amount_settles_the_position(session, method) -> None:
    ((p, due),) = accruing(session)
    data = csv_file(f"CSV-ACC-1;{DAY:%Y-%m-%d};{DAY:%Y-%m-%d};{euro(due.total_cents)};{p.notice};;;bonifico")
    services.import_flow(session, data, ACTOR, fmt="csv", ente_code="R01", method=method)
    assert session.get(Position, p.id).state == "pagata"
    assert due_now(session, p.id) == 0


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_a_position_paid_twice_in_one_flow_books_interest_once(session, method) -> None:
    """Two payments of one position in a flow (a third and the rest of the notice amount): the second one
    reaches the ledger balance and settles the position, nothing is refunded."""
    ((p, due),) = accruing(session)
    first = p.ledger // 3
    services.import_flow(
        session,
        fdr([row(p.iuv, "IUR-TWO-A", first), row(p.iuv, "IUR-TWO-B", due.total_cents - first)]),
        ACTOR,
        method=method,
    )
    assert session.get(Position, p.id).state == "pagata"
    assert due_now(session, p.id) == 0
    assert sum(session.scalars(sa.select(Payment.credit_cents).where(Payment.iur.like("IUR-TWO-%")))) == 0


def test_a_review_confirmed_payment_of_the_amount_due_settles_the_position(session) -> None:
    ((p, due),) = accruing(session)
    paid = dt.date(2026, 11, 18)
    full = amount_due(session, session.get(Position, p.id), paid).total_cents
    data = csv_file(
        f"REV-ACC;{paid:%Y-%m-%d};2026-11-19;{euro(full)};;{p.codice_fiscale};"
        f"Pagamento {p.external_id};bonifico"
    )
    services.import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    review = session.scalars(
        sa.select(ReviewItem).join(Payment).where(Payment.external_id == "REV-ACC")
    ).one()
    payment = services.confirm_review(session, system_principal(session), ACTOR, review.id, position_id=p.id)
    assert (payment.status, payment.credit_cents) == ("riconciliato", 0)
    assert session.get(Position, p.id).state == "pagata"
    assert due_now(session, p.id, paid) == 0
    assert not session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).all()


@pytest.mark.parametrize("method", ["sql", "engine"])
def test_a_reversal_takes_back_the_booked_interest_and_restores_the_amount_due(session, method) -> None:
    ((p, due),) = accruing(session)
    later = DAY + dt.timedelta(days=30)
    before_later = due_now(session, p.id, later)
    services.import_flow(session, fdr([row(p.iuv, "IUR-REV", due.total_cents)]), ACTOR, method=method)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-REV")).one()
    assert due_now(session, p.id) == 0
    services.reverse_payment(
        session, system_principal(session), ACTOR, payment.id, reason="errore di imputazione"
    )
    assert due_now(session, p.id) == due.total_cents
    assert due_now(session, p.id, later) == before_later  # interest accrues again as before the payment
    assert session.get(Position, p.id).state == p.state
    links = session.scalars(sa.select(Accrual).where(Accrual.payment_id == payment.id)).all()
    assert links and len([a for a in links if a.reverses_id]) == len([a for a in links if not a.reverses_id])
    # append-only: the booked movements are still there, each with its reversal
    booked = {a.movement_id for a in links if not a.reverses_id}
    reversals = session.scalars(sa.select(Movement).where(Movement.reverses_id.in_(booked))).all()
    assert len(reversals) == len(booked)
    # paid again the same day: settled again, the interest booked once more
    services.import_flow(
        session,
        fdr([row(p.iuv, "IUR-REV-2", due.total_cents)], identifier="2026-11-20PSPDEMO01-0000000077"),
        ACTOR,
        method=method,
    )
    assert session.get(Position, p.id).state == "pagata"
    assert due_now(session, p.id) == 0


def test_a_desk_payoff_reversed_restores_the_amount_due(session) -> None:
    ((p, due),) = accruing(session)
    payment = services.register_desk_payment(
        session,
        system_principal(session),
        ACTOR,
        position_id=p.id,
        amount_cents=due.total_cents,
        channel="contanti",
        paid_date=DAY,
    )
    assert due_now(session, p.id) == 0 and session.get(Position, p.id).state == "pagata"
    services.reverse_payment(session, system_principal(session), ACTOR, payment.id, reason="banconota falsa")
    assert due_now(session, p.id) == due.total_cents
