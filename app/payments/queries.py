"""Reads of flows, payments, allocations, the review queue, anomalies and refunds. Every query goes through
`app.core.access.scoped` (all these tables carry `ente_id`); every join to a taxpayer goes through
`scoped_join`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.core.access import Principal, scoped, scoped_join
from app.core.errors import NotFound
from app.enti.models import Ente, Entrata
from app.payments.models import (
    Allocation,
    Anomaly,
    BankCredit,
    NoticeNumber,
    Payment,
    PaymentFlow,
    Refund,
    ReviewItem,
    Riversamento,
)
from app.positions.models import Movement, Position
from app.taxpayers.models import Taxpayer

PAGE_SIZE = 50


def list_flows(
    session: Session,
    principal: Principal,
    *,
    source: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> list[PaymentFlow]:
    stmt = (
        sa.select(PaymentFlow)
        .options(joinedload(PaymentFlow.ente))
        .order_by(PaymentFlow.created_dt.desc(), PaymentFlow.id.desc())
        .limit(page_size + 1)
        .offset((page - 1) * page_size)
    )
    if source:
        stmt = stmt.where(PaymentFlow.source == source)
    return list(session.scalars(scoped(stmt, PaymentFlow, principal)))


def get_flow(session: Session, principal: Principal, flow_id: int) -> PaymentFlow:
    flow = session.scalars(
        scoped(sa.select(PaymentFlow).where(PaymentFlow.id == flow_id), PaymentFlow, principal)
    ).first()
    if flow is None:
        raise NotFound("Flusso non trovato.")
    return flow


def flow_counts(session: Session, flow_id: int) -> dict[str, int]:
    """Payments of a flow by status (the flow was scoped by the caller)."""
    rows = session.execute(
        sa.select(Payment.status, sa.func.count()).where(Payment.flow_id == flow_id).group_by(Payment.status)
    )
    return {status: n for status, n in rows}


def payments_stmt(
    principal: Principal,
    *,
    flow_id: int | None = None,
    status: str | None = None,
    taxpayer_id: int | None = None,
) -> sa.Select:
    """A flat, scoped SELECT of payments (lists and exports)."""
    stmt = (
        sa.select(
            Payment.id.label("id"),
            Payment.external_id.label("id_pagamento"),
            Payment.paid_date.label("data_pagamento"),
            Payment.value_date.label("data_valuta"),
            Payment.amount_cents.label("importo_cents"),
            Payment.credit_cents.label("eccedenza_cents"),
            Payment.notice_number.label("codice_avviso"),
            Payment.iuv.label("iuv"),
            Payment.iur.label("iur"),
            Payment.outcome_code.label("esito"),
            Payment.codice_fiscale.label("codice_fiscale"),
            Payment.causale.label("causale"),
            Payment.channel.label("canale"),
            Payment.status.label("stato"),
            Payment.match_method.label("abbinamento"),
            Position.external_id.label("id_posizione"),
            Payment.position_id.label("position_id"),
            Payment.flow_id.label("flow_id"),
            Payment.receipt_number.label("quietanza"),
        )
        .outerjoin(Position, Position.id == Payment.position_id)
        .order_by(Payment.paid_date, Payment.id)
    )
    if flow_id is not None:
        stmt = stmt.where(Payment.flow_id == flow_id)
    if status:
        stmt = stmt.where(Payment.status == status)
    if taxpayer_id is not None:
        stmt = stmt.where(Payment.taxpayer_id == taxpayer_id)
    return scoped(stmt, Payment, principal)


def get_payment(session: Session, principal: Principal, payment_id: int) -> Payment:
    payment = session.scalars(
        scoped(
            sa.select(Payment).where(Payment.id == payment_id).options(joinedload(Payment.flow)),
            Payment,
            principal,
        )
    ).first()
    if payment is None:
        raise NotFound("Pagamento non trovato.")
    return payment


def allocations_of(session: Session, principal: Principal, payment_ids: list[int]) -> dict[int, list[Any]]:
    """Allocation rows (with the position's id_posizione) of each payment, in booking order."""
    result: dict[int, list[Any]] = defaultdict(list)
    if not payment_ids:
        return result
    stmt = (
        sa.select(
            Allocation.id,
            Allocation.payment_id,
            Allocation.position_id,
            Allocation.component,
            Allocation.amount_cents,
            Allocation.booked_dt,
            Allocation.reverses_id,
            Allocation.movement_id,
            Position.external_id,
        )
        .join(Position, Position.id == Allocation.position_id)
        .where(Allocation.payment_id.in_(payment_ids))
        .order_by(Allocation.id)
    )
    for row in session.execute(scoped(stmt, Allocation, principal)):
        result[row.payment_id].append(row)
    return result


def refunds_of(session: Session, principal: Principal, payment_ids: list[int]) -> dict[int, list[Refund]]:
    result: dict[int, list[Refund]] = defaultdict(list)
    if payment_ids:
        stmt = sa.select(Refund).where(Refund.payment_id.in_(payment_ids)).order_by(Refund.id)
        for refund in session.scalars(scoped(stmt, Refund, principal)):
            result[refund.payment_id].append(refund)
    return result


@dataclass(slots=True)
class CardPayments:
    taxpayer: Taxpayer
    payments: list[Payment]
    allocations: dict[int, list[Any]]
    refunds: dict[int, list[Refund]]
    notice_numbers: dict[int, list[str]] = field(default_factory=dict)


def card_payments(session: Session, principal: Principal, taxpayer_id: int) -> CardPayments:
    """The taxpayer card's payments fragment: each payment and how it was allocated (the route logs the
    read, app.core.card_view)."""
    from app.payments.notices import notice_numbers_of_positions
    from app.taxpayers.queries import get_taxpayer, visible_position_ids

    taxpayer = get_taxpayer(session, principal, taxpayer_id)
    positions = visible_position_ids(session, principal, taxpayer.id)
    # the same positions as a subquery, not their ids: one short statement however many positions
    visible = scoped(sa.select(Position.id).where(Position.taxpayer_id == taxpayer.id), Position, principal)
    on_positions = (
        sa.select(Allocation.payment_id)
        .join(Movement, Movement.id == Allocation.movement_id)
        .where(Movement.position_id.in_(visible))
    )
    stmt = (
        sa.select(Payment)
        .options(joinedload(Payment.flow))
        .where(
            sa.or_(
                Payment.taxpayer_id == taxpayer.id,
                Payment.position_id.in_(visible),
                Payment.id.in_(on_positions),
            )
        )
        .order_by(Payment.paid_date.desc(), Payment.id.desc())
    )
    payments = list(session.scalars(scoped(stmt, Payment, principal)).unique())
    ids = [p.id for p in payments]
    return CardPayments(
        taxpayer,
        payments,
        allocations_of(session, principal, ids),
        refunds_of(session, principal, ids),
        notice_numbers_of_positions(session, positions),
    )


def list_reviews(
    session: Session, principal: Principal, *, status: str = "aperta", page: int | None = 1
) -> list[Any]:
    """A page of the review queue (PAGE_SIZE + 1 rows: one more tells there is a next page); every row
    with `page` None."""
    stmt = reviews_stmt(principal, status=status)
    if page is not None:
        stmt = stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    return list(session.execute(stmt))


def reviews_stmt(principal: Principal, *, status: str = "aperta") -> sa.Select:
    """The review queue: (review, payment, suggested position's id), best score first."""
    stmt = (
        sa.select(ReviewItem, Payment, Position.external_id.label("suggested"))
        .join(Payment, Payment.id == ReviewItem.payment_id)
        .outerjoin(Position, Position.id == ReviewItem.suggested_position_id)
        .where(ReviewItem.status == status)
        .order_by(ReviewItem.score.desc(), ReviewItem.id)
    )
    return scoped(stmt, ReviewItem, principal)


def get_review(session: Session, principal: Principal, review_id: int) -> ReviewItem:
    review = session.scalars(
        scoped(
            sa.select(ReviewItem).where(ReviewItem.id == review_id).options(joinedload(ReviewItem.payment)),
            ReviewItem,
            principal,
        )
    ).first()
    if review is None:
        raise NotFound("Elemento della coda di revisione non trovato.")
    return review


def candidate_positions(session: Session, principal: Principal, review: ReviewItem) -> list[dict[str, Any]]:
    """The positions an operator may choose: the payer's open positions of the ente, and the suggestion."""
    from app.positions.amounts import amounts_due, today_rome

    payment = review.payment
    conditions = []
    if payment.taxpayer_id is not None:
        conditions.append(Position.taxpayer_id == payment.taxpayer_id)
    if review.suggested_position_id is not None:
        conditions.append(Position.id == review.suggested_position_id)
    if not conditions:
        return []
    stmt = (
        sa.select(Position)
        .options(joinedload(Position.entrata), joinedload(Position.taxpayer))
        .where(Position.ente_id == payment.ente_id, sa.or_(*conditions))
        .order_by(Position.due_date, Position.id)
    )
    positions = list(session.scalars(scoped(stmt, Position, principal)))
    bals = amounts_due(session, positions, today_rome())
    notices = dict(
        session.execute(
            sa.select(NoticeNumber.position_id, NoticeNumber.notice_number).where(
                NoticeNumber.position_id.in_([p.id for p in positions]), NoticeNumber.item_kind == "posizione"
            )
        ).all()
    )
    return [
        {
            "position": p,
            "due_cents": bals[p.id].total_cents,
            "notice": notices.get(p.id),
            "suggested": p.id == review.suggested_position_id,
        }
        for p in positions
    ]


def position_by_reference(session: Session, principal: Principal, ente_id: int, text: str) -> Position | None:
    """A position of the ente by id_posizione or codice avviso (for a manual match)."""
    text = text.strip()
    stmt = (
        sa.select(Position)
        .outerjoin(NoticeNumber, NoticeNumber.position_id == Position.id)
        .where(
            Position.ente_id == ente_id,
            sa.or_(Position.external_id == text, NoticeNumber.notice_number == text),
        )
    )
    return session.scalars(scoped(stmt, Position, principal)).first()


def anomalies_stmt(
    principal: Principal,
    *,
    kind: str | None = None,
    status: str | None = "aperta",
    flow_id: int | None = None,
) -> sa.Select:
    stmt = (
        sa.select(
            Anomaly.id.label("id"),
            Anomaly.kind.label("tipo"),
            Anomaly.status.label("stato"),
            Anomaly.created_dt.label("rilevata"),
            Ente.code.label("ente"),
            Anomaly.flow_id.label("flusso"),
            Anomaly.payment_id.label("pagamento"),
            Payment.external_id.label("id_pagamento"),
            Payment.paid_date.label("data_pagamento"),
            Position.external_id.label("id_posizione"),
            Anomaly.position_id.label("position_id"),
            Anomaly.amount_cents.label("importo_cents"),
            Anomaly.expected_cents.label("atteso_cents"),
            Anomaly.detail.label("dettaglio"),
            Anomaly.resolved_label.label("chiusa_da"),
            Anomaly.resolved_dt.label("chiusa_il"),
            Anomaly.note.label("nota"),
            Payment.status.label("stato_pagamento"),
        )
        .join(Ente, Ente.id == Anomaly.ente_id)
        .outerjoin(Payment, Payment.id == Anomaly.payment_id)
        .outerjoin(Position, Position.id == Anomaly.position_id)
        .order_by(Anomaly.created_dt.desc(), Anomaly.id.desc())
    )
    if kind:
        stmt = stmt.where(Anomaly.kind == kind)
    if status:
        stmt = stmt.where(Anomaly.status == status)
    if flow_id is not None:
        stmt = stmt.where(Anomaly.flow_id == flow_id)
    return scoped(stmt, Anomaly, principal)


def anomaly_counts(session: Session, principal: Principal) -> dict[str, int]:
    stmt = scoped(
        sa.select(Anomaly.kind, sa.func.count()).where(Anomaly.status == "aperta").group_by(Anomaly.kind),
        Anomaly,
        principal,
    )
    return {kind: n for kind, n in session.execute(stmt)}


def refunds_stmt(principal: Principal, *, status: str | None = "da_rimborsare") -> sa.Select:
    stmt = (
        sa.select(
            Refund.id.label("id"),
            Refund.status.label("stato"),
            Refund.created_dt.label("creato"),
            Ente.code.label("ente"),
            Refund.payment_id.label("pagamento"),
            Payment.external_id.label("id_pagamento"),
            Payment.paid_date.label("data_pagamento"),
            Payment.channel.label("canale"),
            Taxpayer.codice_fiscale.label("codice_fiscale"),
            sa.func.coalesce(
                Taxpayer.company_name, Taxpayer.surname + " " + Taxpayer.given_name, Payment.payer_name
            ).label("beneficiario"),
            Refund.amount_cents.label("importo_cents"),
            Refund.reason.label("motivo"),
            Refund.refunded_label.label("rimborsato_da"),
            Refund.refunded_dt.label("rimborsato_il"),
            Refund.reference.label("riferimento"),
            Taxpayer.id.label("taxpayer_id"),  # NULL when out of the user's scope
        )
        .join(Ente, Ente.id == Refund.ente_id)
        .join(Payment, Payment.id == Refund.payment_id)
        .order_by(Refund.created_dt.desc(), Refund.id.desc())
    )
    # the beneficiary's name only when the user may see that taxpayer (else the payer's name of the payment)
    stmt = scoped_join(stmt, Taxpayer, Taxpayer.id == Refund.taxpayer_id, principal, isouter=True)
    if status:
        stmt = stmt.where(Refund.status == status)
    return scoped(stmt, Refund, principal)


def counts_for_home(session: Session, principal: Principal) -> dict[str, int]:
    def count(model: Any, status: str) -> int:
        stmt = sa.select(sa.func.count()).select_from(model).where(model.status == status)
        return int(session.scalar(scoped(stmt, model, principal)) or 0)

    return {
        "reviews": count(ReviewItem, "aperta"),
        "anomalies": count(Anomaly, "aperta"),
        "refunds": count(Refund, "da_rimborsare"),
    }


def list_bank_credits(
    session: Session, principal: Principal, *, flow_id: int | None = None
) -> list[BankCredit]:
    stmt = sa.select(BankCredit).order_by(BankCredit.value_date.desc(), BankCredit.id.desc()).limit(200)
    if flow_id is not None:
        stmt = stmt.where(BankCredit.flow_id == flow_id)
    return list(session.scalars(scoped(stmt, BankCredit, principal)))


def list_riversamenti(session: Session, principal: Principal) -> list[Riversamento]:
    stmt = (
        sa.select(Riversamento)
        .options(joinedload(Riversamento.ente))
        .order_by(Riversamento.created_dt.desc(), Riversamento.id.desc())
        .limit(200)
    )
    return list(session.scalars(scoped(stmt, Riversamento, principal)))


def get_riversamento(session: Session, principal: Principal, riversamento_id: int) -> Riversamento:
    row = session.scalars(
        scoped(sa.select(Riversamento).where(Riversamento.id == riversamento_id), Riversamento, principal)
    ).first()
    if row is None:
        raise NotFound("Riversamento non trovato.")
    return row


def enti_of(session: Session, principal: Principal) -> list[Ente]:
    return list(
        session.scalars(sa.select(Ente).where(Ente.id.in_(sorted(principal.ente_ids))).order_by(Ente.code))
    )


def entrate_of(session: Session, principal: Principal) -> list[Entrata]:
    return list(
        session.scalars(
            sa.select(Entrata)
            .where(Entrata.ente_id.in_(sorted(principal.ente_ids)))
            .order_by(Entrata.ente_id, Entrata.code)
        )
    )


def payment_events(session: Session, principal: Principal, payment: Payment) -> list[Any]:
    """The ledger events written for a payment (allocation and reversal), newest first."""
    from app.core.audit import Event

    stmt = (
        sa.select(Event)
        .where(
            Event.ente_id == payment.ente_id,
            Event.kind.in_(("payment.allocated", "payment.reversed", "payment.refunded")),
            Event.position_id.in_(
                sa.select(Allocation.position_id).where(Allocation.payment_id == payment.id)
            ),
        )
        .order_by(Event.occurred_dt.desc(), Event.id.desc())
        .limit(50)
    )
    events = [
        e
        for e in session.scalars(scoped(stmt, Event, principal))
        if payment.id == (e.payload or {}).get("payment_id")
        or payment.id in (e.payload or {}).get("payment_ids", [])
    ]
    return events


def today_rome() -> dt.date:
    from app.payments.parsing import ROME

    return dt.datetime.now(ROME).date()


def own_receipts_stmt(principal: Principal) -> sa.Select:
    """The desk receipts (quietanze) of the taxpayers `principal` may see: for a self-service account, its own
    payments only (scoped through the taxpayer). Revocations carry no receipt."""
    visible = scoped(sa.select(Taxpayer.id), Taxpayer, principal)
    return (
        sa.select(Payment)
        .where(Payment.taxpayer_id.in_(visible), Payment.receipt_number.is_not(None))
        .order_by(Payment.paid_date.desc(), Payment.id.desc())
    )


def own_receipts(session: Session, principal: Principal) -> list[Payment]:
    return list(session.scalars(own_receipts_stmt(principal)))


def get_own_receipt(session: Session, principal: Principal, payment_id: int) -> Payment:
    payment = session.scalars(own_receipts_stmt(principal).where(Payment.id == payment_id)).first()
    if payment is None:
        raise NotFound("Quietanza non trovata.")
    return payment
