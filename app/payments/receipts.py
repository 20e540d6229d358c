"""The quietanza of a desk payment: a one-page PDF made with Typst (templates/payments/quietanza.typ), with a
QR code (segno) carrying the receipt's data and a verification code (an HMAC of the data with the
application's secret), so that the ente can prove a printed receipt is genuine."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.engine.notice import grouped
from app.enti.models import Ente
from app.payments.models import Allocation, Payment
from app.payments.parsing import ROME
from app.payments.services import DESK_CHANNELS
from app.positions.models import COMPONENT_LABELS, Movement, Position
from app.reports.formatting import format_date_it, format_datetime_it, format_eur

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "payments" / "quietanza.typ"
QR_PREFIX = "ESATTORIA|QUIETANZA"


def qr_payload(payment: Payment, ente: Ente, secret: str) -> str:
    """`ESATTORIA|QUIETANZA|<numero>|<CF ente>|<CF versante>|<importo in centesimi>|<data>|<verifica>`."""
    fields = [
        payment.receipt_number or "",
        ente.codice_fiscale,
        payment.codice_fiscale or "",
        str(payment.amount_cents),
        payment.paid_date.isoformat(),
    ]
    body = "|".join([QR_PREFIX, *fields])
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:16].upper()
    return f"{body}|{signature}"


def verify_qr(text: str, secret: str) -> bool:
    body, _, signature = text.rpartition("|")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:16].upper()
    return body.startswith(QR_PREFIX + "|") and hmac.compare_digest(signature, expected)


def receipt_data(session: Session, payment: Payment) -> dict[str, Any]:
    from app.positions.amounts import amounts_due

    ente = session.get(Ente, payment.ente_id)
    position = session.get(Position, payment.position_id) if payment.position_id else None
    allocations = session.execute(
        sa.select(Allocation.component, sa.func.sum(Allocation.amount_cents))
        .where(Allocation.payment_id == payment.id)
        .group_by(Allocation.component)
    ).all()
    # what was still due right after this payment: the amount due at the payment date (interest included) of
    # the ledger as booked by the payment's own movements (a reprint after a later payment keeps its figure)
    booked_by = session.scalar(
        sa.select(sa.func.max(Movement.booked_dt))
        .join(Allocation, Allocation.movement_id == Movement.id)
        .where(Allocation.payment_id == payment.id, Allocation.reverses_id.is_(None))
    )
    residual = (
        amounts_due(session, [position], payment.paid_date, booked_by=booked_by)[position.id].total_cents
        if position
        else 0
    )
    from app.payments.models import NoticeNumber

    notice = payment.notice_number or (
        session.scalar(
            sa.select(NoticeNumber.notice_number).where(
                NoticeNumber.position_id == payment.position_id, NoticeNumber.item_kind == "posizione"
            )
        )
        if position
        else None
    )
    order = list(COMPONENT_LABELS)
    lines = [
        {"label": COMPONENT_LABELS.get(c, c), "amount": format_eur(int(a))}
        for c, a in sorted(allocations, key=lambda r: order.index(r[0]) if r[0] in order else 99)
        if a
    ]
    assert ente is not None
    return {
        "number": payment.receipt_number or str(payment.id),
        "date": format_date_it(payment.paid_date),
        "issued": format_datetime_it(payment.created_dt.astimezone(ROME)) if payment.created_dt else "",
        "ente": ente.name,
        "ente_cf": ente.codice_fiscale,
        "payer": payment.payer_name or "",
        "payer_cf": payment.codice_fiscale or "",
        "position": position.external_id if position else "",
        "description": (position.description or "") if position else "",
        "notice": grouped(notice) if notice else "—",
        "channel": DESK_CHANNELS.get(payment.channel, payment.channel),
        "operator": payment.flow.sender_name if payment.flow else "",
        "lines": lines,
        "total": format_eur(payment.amount_cents),
        "credit": format_eur(payment.credit_cents) if payment.credit_cents else "",
        "residual": format_eur(residual),
    }


def render_receipt(session: Session, payment: Payment, *, secret: str) -> bytes:
    """The quietanza PDF of a desk payment."""
    import typst

    from app.reports.export_formats.pdf_writer import FONT_DIRS

    ente = session.get(Ente, payment.ente_id)
    assert ente is not None
    qr = segno.make(qr_payload(payment, ente, secret), error="m")
    inputs = {
        "data": json.dumps(receipt_data(session, payment), ensure_ascii=False),
        "qr": qr.svg_inline(scale=4, border=4),
    }
    return typst.compile(str(TEMPLATE), font_paths=[str(p) for p in FONT_DIRS], sys_inputs=inputs)
