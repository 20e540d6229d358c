"""The demo world is coherent (issue 9 point 6): every amount paid is a payment with its flow or desk receipt,
so the positions, the rendicontazione and the home counters tell the same story for every ente."""

from __future__ import annotations

import re

import sqlalchemy as sa


def _paid_on_positions(session, ente_code: str) -> int:
    """What the ledgers of the ente's positions say was paid (payments net of refunds)."""
    from app.enti.models import Ente
    from app.positions.models import Movement, Position

    return int(session.scalar(
        sa.select(sa.func.coalesce(-sa.func.sum(Movement.amount_cents), 0))
        .join(Position, Position.id == Movement.position_id).join(Ente, Ente.id == Position.ente_id)
        .where(Ente.code == ente_code, Movement.kind.in_(("pagamento", "rimborso")))))


def test_every_paid_amount_is_a_payment_of_a_flow(session) -> None:
    from app.payments.models import Allocation, Payment, PaymentFlow
    from app.positions.models import Movement

    orphans = session.scalars(
        sa.select(Movement.id).where(Movement.kind == "pagamento",
                                     ~sa.exists().where(Allocation.movement_id == Movement.id))).all()
    assert orphans == []  # no payment movement without the payment it allocates
    flowless = session.scalars(sa.select(Payment.id).where(
        ~sa.exists().where(PaymentFlow.id == Payment.flow_id))).all()
    assert flowless == []
    desk = session.scalars(sa.select(Payment).where(Payment.source_key == "sportello")).all()
    assert desk and all(p.receipt_number for p in desk)


def test_positions_rendicontazione_and_home_agree_for_each_ente(session, personas) -> None:
    from flask import g

    from app.core.access import Principal
    from app.enti.models import Ente
    from app.payments import reports
    from app.positions.amounts import amounts_due, today_rome
    from app.positions.models import Position
    from app.reports.formatting import format_eur, format_int

    for persona, code in (("regione", "R01"), ("regione2", "R02")):
        ente_id = session.scalars(sa.select(Ente.id).where(Ente.code == code)).one()
        principal = Principal(role="regione", ente_ids=frozenset({ente_id}))
        collected = sum(int(r["importo_cents"] or 0) for r in session.execute(
            reports.collected_stmt(principal, ("ente",), reports.Filters())).mappings())
        paid = _paid_on_positions(session, code)
        assert paid > 0, code
        assert collected == paid, code

        positions = session.scalars(sa.select(Position).where(Position.ente_id == ente_id)).all()
        dues = amounts_due(session, positions, today_rome())
        paid_off = [p for p in positions if p.state == "pagata"]
        assert paid_off, code
        assert all(dues[p.id].total_cents == 0 for p in paid_off), code  # "pagata" owes nothing

        client = personas.client(persona)
        g.pop("_login_user", None)
        home = client.get("/").get_data(as_text=True)
        counters = re.findall(r'<p class="h3 mb-0"[^>]*>([^<]+)</p>', home)
        assert format_int(len(paid_off)) in counters, (code, counters)
        g.pop("_login_user", None)
        report = client.get("/pagamenti/rendicontazione").get_data(as_text=True)
        assert "Nessuna riscossione" not in report, code
        total = re.search(r'data-testid="report-total"><strong>([^<]+)<', report)
        assert total and total.group(1) == format_eur(paid), code


def test_the_home_total_due_is_the_sum_of_the_amounts_due(session, personas) -> None:
    from flask import g

    from app.enti.models import Ente
    from app.positions.amounts import amounts_due, today_rome
    from app.positions.models import Position
    from app.reports.formatting import format_eur

    r02 = session.scalars(sa.select(Ente.id).where(Ente.code == "R02")).one()
    positions = session.scalars(sa.select(Position).where(Position.ente_id == r02)).all()
    total = sum(d.total_cents for d in amounts_due(session, positions, today_rome()).values())
    g.pop("_login_user", None)
    home = personas.client("regione2").get("/").get_data(as_text=True)
    assert format_eur(total) in re.findall(r'<p class="h3 mb-0"[^>]*>([^<]+)</p>', home)


def test_the_demo_pignoramento_follows_a_sollecito_sent_in_time(session) -> None:
    """The demo's pignoramento presso terzi (app/procedures/demo.py) is preceded by the sollecito that
    L. 160/2019 c. 795 asks for, sent by post at least its 30 days before the start."""
    import datetime as dt

    from app.atti.models import Act, ActType
    from app.procedures.models import Procedure

    procedure = session.scalars(sa.select(Procedure).where(Procedure.kind == "pignoramento")).first()
    assert procedure is not None
    sent = session.scalar(
        sa.select(Act.sent_date)
        .join(ActType, ActType.id == Act.act_type_id)
        .where(Act.position_id == procedure.position_id, ActType.code == "sollecito", Act.status == "inviato")
    )
    assert sent is not None and sent + dt.timedelta(days=30) <= procedure.started_on
