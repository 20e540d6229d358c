"""Operator work: desk payments with their quietanza, the review queue, refunds, reversals, bank credits."""

from __future__ import annotations

import datetime as dt

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

from app.core.audit import Event
from app.core.errors import Conflict, DomainError
from app.payments import services
from app.payments.models import Allocation, Anomaly, Payment, Refund, ReviewItem
from app.payments.receipts import render_receipt, verify_qr
from app.positions.models import Position
from app.positions.queries import balances
from app.positions.services import system_principal
from tests.payments.support import ACTOR, csv_file, euro, fdr, open_positions, row


def test_desk_payment_allocates_and_prints_a_quietanza_with_a_verifiable_qr(session) -> None:
    (p,) = open_positions(session, min_components=2, on=dt.date(2026, 11, 26))
    principal = system_principal(session)
    payment = services.register_desk_payment(
        session,
        principal,
        ACTOR,
        position_id=p.id,
        amount_cents=p.due - 100,
        channel="pos",
        paid_date=dt.date(2026, 11, 26),
        payer_name="Mario Bianchi",
    )
    assert payment.receipt_number.startswith("R01-2026-") and payment.status == "riconciliato"
    assert session.get(Position, p.id).state == "parzialmente_pagata"
    assert balances(session, [p.id])[p.id].due_cents == 100
    pdf = render_receipt(session, payment, secret="test-secret")
    page = pdfium.PdfDocument(pdf)[0]
    text = page.get_textpage().get_text_range()
    assert "Quietanza di pagamento" in text and payment.receipt_number in text and "Mario Bianchi" in text
    assert euro(p.due - 100) in text and "Carta (POS)" in text and "Regione Demo" in text
    image = page.render(scale=150 / 72).to_pil()
    (qr,) = [b.text for b in zxingcpp.read_barcodes(image)]
    assert qr.startswith(
        f"ESATTORIA|QUIETANZA|{payment.receipt_number}|80000000010|{p.codice_fiscale}|{p.due - 100}|"
        "2026-11-26|"
    )
    assert verify_qr(qr, "test-secret") and not verify_qr(qr, "another-secret")
    assert not verify_qr(qr.replace(f"|{p.due - 100}|", "|1|"), "test-secret")


def test_the_desk_refuses_more_than_what_is_due(session) -> None:
    from app.positions.amounts import amounts_due_by_id, today_rome

    (p,) = open_positions(session)
    due = amounts_due_by_id(session, [p.id], today_rome())[p.id].total_cents  # interest included
    with pytest.raises(DomainError, match="superiore al dovuto"):
        services.register_desk_payment(
            session,
            system_principal(session),
            ACTOR,
            position_id=p.id,
            amount_cents=due + 1,
            channel="contanti",
        )


def test_desk_payments_of_a_day_share_one_flow(session) -> None:
    a, b = open_positions(session, 2)
    principal = system_principal(session)
    x = services.register_desk_payment(
        session, principal, ACTOR, position_id=a.id, amount_cents=100, channel="contanti"
    )
    y = services.register_desk_payment(
        session, principal, ACTOR, position_id=b.id, amount_cents=250, channel="assegno"
    )
    assert x.flow_id == y.flow_id
    assert (x.flow.computed_count, x.flow.computed_total_cents, x.flow.source) == (2, 350, "sportello")


REVIEW_DAY = dt.date(2026, 11, 18)  # the date of the payments of _review_for


def _review_for(session, p, amount, ext="REV-1"):
    data = csv_file(
        f"{ext};2026-11-18;2026-11-19;{euro(amount)};;{p.codice_fiscale};Pagamento {p.external_id};bonifico"
    )
    services.import_flow(session, data, ACTOR, fmt="csv", ente_code="R01")
    return session.scalars(sa.select(ReviewItem).join(Payment).where(Payment.external_id == ext)).one()


def test_confirm_a_suggested_match(session) -> None:
    (p,) = open_positions(session, on=REVIEW_DAY)
    review = _review_for(session, p, p.due)
    payment = services.confirm_review(session, system_principal(session), ACTOR, review.id)
    assert (payment.status, payment.match_method, payment.position_id) == ("riconciliato", "operatore", p.id)
    assert session.get(ReviewItem, review.id).status == "confermata"
    assert session.get(Position, p.id).state == "pagata"
    with pytest.raises(Conflict):
        services.confirm_review(session, system_principal(session), ACTOR, review.id)


def test_split_a_payment_over_two_positions_rest_is_credit(session) -> None:
    a, b = open_positions(session, 2, on=REVIEW_DAY)
    review = _review_for(session, a, a.due + 1000)
    payment = services.split_review(
        session, system_principal(session), ACTOR, review.id, [(a.id, a.due), (b.id, 600)]
    )
    allocated = session.execute(
        sa.select(Allocation.position_id, sa.func.sum(Allocation.amount_cents))
        .where(Allocation.payment_id == payment.id)
        .group_by(Allocation.position_id)
    ).all()
    assert dict(allocated) == {a.id: a.due, b.id: 600}
    assert payment.credit_cents == 400
    assert session.scalars(sa.select(Refund.amount_cents).where(Refund.payment_id == payment.id)).all() == [
        400
    ]
    with pytest.raises(DomainError):
        services.split_review(session, system_principal(session), ACTOR, review.id, [(a.id, 1)])


def test_split_refuses_parts_above_the_payment(session) -> None:
    a, b = open_positions(session, 2)
    review = _review_for(session, a, 1000)
    with pytest.raises(DomainError, match="superano"):
        services.split_review(
            session, system_principal(session), ACTOR, review.id, [(a.id, 800), (b.id, 800)]
        )


def test_reject_sends_the_whole_amount_to_refund(session) -> None:
    (p,) = open_positions(session)
    review = _review_for(session, p, 4321)
    payment = services.reject_review(session, system_principal(session), ACTOR, review.id, note="non nostro")
    assert (payment.status, payment.credit_cents) == ("respinto", 4321)
    refund = session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).one()
    refunded = services.mark_refunded(
        session, system_principal(session), ACTOR, refund.id, reference="CRO123"
    )
    assert (refunded.status, refunded.reference, refunded.refunded_label) == (
        "rimborsato",
        "CRO123",
        ACTOR.label,
    )
    assert refunded.refunded_dt is not None
    with pytest.raises(Conflict):
        services.mark_refunded(session, system_principal(session), ACTOR, refund.id, reference="again")


def test_an_unmatched_payment_can_be_matched_by_hand(session) -> None:
    (p,) = open_positions(session)
    services.import_flow(
        session, csv_file("LOST-1;2026-11-18;;10,00;;;versamento;bonifico"), ACTOR, fmt="csv", ente_code="R01"
    )
    payment = session.scalars(sa.select(Payment).where(Payment.external_id == "LOST-1")).one()
    review = services.open_review(session, system_principal(session), ACTOR, payment.id)
    services.confirm_review(session, system_principal(session), ACTOR, review.id, position_id=p.id)
    anomaly = session.scalars(sa.select(Anomaly).where(Anomaly.payment_id == payment.id)).one()
    assert (anomaly.kind, anomaly.status) == ("senza_debito", "chiusa")


def test_storno_writes_reversing_movements_and_restores_the_state(session) -> None:
    (p,) = open_positions(session)
    services.import_flow(session, fdr([row(p.iuv, "IUR-STORNO", p.due)]), ACTOR)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-STORNO")).one()
    services.reverse_payment(session, system_principal(session), ACTOR, payment.id, reason="assegno insoluto")
    assert payment.status == "stornato"
    assert balances(session, [p.id])[p.id].due_cents == p.ledger
    assert session.get(Position, p.id).state == p.state
    with pytest.raises(Conflict):
        services.reverse_payment(session, system_principal(session), ACTOR, payment.id, reason="again")


def test_storno_of_the_only_partial_payment_restores_the_state_before_it(session) -> None:
    (p,) = open_positions(session)
    services.import_flow(session, fdr([row(p.iuv, "IUR-PART", p.due // 2)]), ACTOR)
    assert session.get(Position, p.id).state == "parzialmente_pagata"
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-PART")).one()
    services.reverse_payment(session, system_principal(session), ACTOR, payment.id, reason="revoca del PSP")
    assert balances(session, [p.id])[p.id].due_cents == p.ledger
    assert session.get(Position, p.id).state == p.state


def test_close_an_anomaly_with_who_and_why(session) -> None:
    services.import_flow(
        session, csv_file("NODEBT;2026-11-18;;10,00;;;x;bonifico"), ACTOR, fmt="csv", ente_code="R01"
    )
    anomaly = session.scalars(sa.select(Anomaly).join(Payment).where(Payment.external_id == "NODEBT")).one()
    with pytest.raises(DomainError):
        services.close_anomaly(session, system_principal(session), ACTOR, anomaly.id, note=" ")
    closed = services.close_anomaly(session, system_principal(session), ACTOR, anomaly.id, note="restituito")
    assert (closed.status, closed.note, closed.resolved_label) == ("chiusa", "restituito", ACTOR.label)


def test_flow_total_different_from_the_bank_credit_is_an_anomaly(session) -> None:
    (p,) = open_positions(session)
    summary = services.import_flow(
        session, fdr([row(p.iuv, "IUR-BANK", 1000)], regulation_ref="TRN-BANK-1"), ACTOR
    )
    principal = system_principal(session)
    services.register_bank_credit(
        session,
        principal,
        ACTOR,
        ente_id=1,
        value_date=dt.date(2026, 11, 21),
        amount_cents=900,
        reference="TRN-BANK-1",
    )
    anomaly = session.scalars(sa.select(Anomaly).where(Anomaly.kind == "totale_accredito")).one()
    assert (anomaly.flow_id, anomaly.amount_cents, anomaly.expected_cents) == (summary.flow_id, 900, 1000)
    # a credit that arrives first is checked when its flow comes in
    services.register_bank_credit(
        session,
        principal,
        ACTOR,
        ente_id=1,
        value_date=dt.date(2026, 11, 21),
        amount_cents=500,
        reference="TRN-BANK-2",
    )
    other = services.import_flow(
        session,
        fdr(
            [row(p.iuv, "IUR-BANK-2", 500)],
            regulation_ref="TRN-BANK-2",
            identifier="2026-11-20PSPDEMO01-0000000099",
        ),
        ACTOR,
    )
    assert not session.scalars(
        sa.select(Anomaly).where(Anomaly.kind == "totale_accredito", Anomaly.flow_id == other.flow_id)
    ).all()
    with pytest.raises(Conflict):
        services.register_bank_credit(
            session,
            principal,
            ACTOR,
            ente_id=1,
            value_date=dt.date(2026, 11, 21),
            amount_cents=500,
            reference="TRN-BANK-2",
        )


def test_the_review_queue_of_one_ente_is_invisible_to_another(session) -> None:
    from app.core.access import Principal

    (p,) = open_positions(session)
    review = _review_for(session, p, 100)
    other = Principal(role="backoffice", ente_ids=frozenset({2}))
    with pytest.raises(Exception, match="non trovato"):
        services.confirm_review(session, other, ACTOR, review.id)


def _state_and_due(session, position_id: int) -> tuple[str, int]:
    session.expire_all()
    return session.get(Position, position_id).state, balances(session, [position_id])[position_id].due_cents


def test_storno_of_a_payment_split_over_two_positions_restores_both(session) -> None:
    a, b = open_positions(session, 2, on=REVIEW_DAY)
    before = {p.id: _state_and_due(session, p.id) for p in (a, b)}
    review = _review_for(session, a, a.due + 1000)
    payment = services.split_review(
        session, system_principal(session), ACTOR, review.id, [(a.id, a.due), (b.id, 600)]
    )
    assert _state_and_due(session, a.id)[0] == "pagata"
    assert _state_and_due(session, b.id) == ("parzialmente_pagata", b.ledger - 600)
    services.reverse_payment(
        session, system_principal(session), ACTOR, payment.id, reason="bonifico respinto"
    )
    assert {p.id: _state_and_due(session, p.id) for p in (a, b)} == before  # both, not only the first
    allocations = session.execute(
        sa.select(Allocation.position_id, sa.func.sum(Allocation.amount_cents))
        .where(Allocation.payment_id == payment.id)
        .group_by(Allocation.position_id)
    ).all()
    assert dict(allocations) == {a.id: 0, b.id: 0}
    refund = session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).one()
    assert refund.status == "annullato"  # the 4,00 € surplus is not owed any more
    events = session.scalars(
        sa.select(Event.position_id).where(
            Event.kind == "payment.reversed", Event.position_id.in_([a.id, b.id])
        )
    ).all()
    assert sorted(events) == sorted([a.id, b.id])


def test_storno_of_a_payment_whose_refund_was_already_paid(session) -> None:
    """The surplus already went back to the payer: the storno takes back what was allocated, and the refund
    paid out stays on record as an anomaly to recover (never silently cancelled, never a negative credit)."""
    (p,) = open_positions(session)
    before = _state_and_due(session, p.id)
    services.import_flow(session, fdr([row(p.iuv, "IUR-RIMB", p.due + 1234)]), ACTOR)
    payment = session.scalars(sa.select(Payment).where(Payment.iur == "IUR-RIMB")).one()
    refund = session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id)).one()
    services.mark_refunded(session, system_principal(session), ACTOR, refund.id, reference="CRO-1")
    services.reverse_payment(
        session, system_principal(session), ACTOR, payment.id, reason="addebito revocato"
    )
    assert _state_and_due(session, p.id) == before
    session.refresh(payment)
    assert (payment.status, payment.credit_cents) == ("stornato", 0)
    session.refresh(refund)
    assert (refund.status, refund.reference) == ("rimborsato", "CRO-1")  # what happened stays true
    anomaly = session.scalars(
        sa.select(Anomaly).where(Anomaly.payment_id == payment.id, Anomaly.kind == "rimborso_eseguito")
    ).one()
    assert (anomaly.status, anomaly.amount_cents) == ("aperta", 1234)
    assert anomaly.position_id == p.id and "12,34" in anomaly.detail
