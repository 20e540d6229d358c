"""`esattoria posizioni` (formats.md §5) at a date: what the ledger held then, not every movement since."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF


def test_positions_report_counts_only_the_movements_booked_by_its_as_of_date(session) -> None:
    from app.core.db import utcnow
    from app.positions.models import Movement, Position
    from app.positions.services import positions_report
    from app.taxpayers.models import Taxpayer

    position = session.scalars(
        sa.select(Position)
        .join(Taxpayer, Taxpayer.id == Position.taxpayer_id)
        .where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        .order_by(Position.id)
    ).first()
    today = dt.date.today()
    later = today + dt.timedelta(days=10)
    before = {r["id_posizione"]: r for r in positions_report(session, MARIO_ROSSI_CF, as_of=today)}
    # a payment of 1,00 € on the capital booked ten days from now (a date the report of today must not see)
    session.add(
        Movement(
            position_id=position.id,
            component="capitale",
            kind="pagamento",
            amount_cents=-100,
            value_date=later,
            booked_dt=utcnow() + dt.timedelta(days=10),
            source="test: pagamento futuro",
        )
    )
    session.flush()
    now = {r["id_posizione"]: r for r in positions_report(session, MARIO_ROSSI_CF, as_of=today)}
    then = {r["id_posizione"]: r for r in positions_report(session, MARIO_ROSSI_CF, as_of=later)}
    key = position.external_id
    assert now[key]["total_due"] == before[key]["total_due"]  # not yet booked at `as_of`
    paid = {c["kind"]: Decimal(c["paid"]) for c in then[key]["components"]}
    paid_now = {c["kind"]: Decimal(c["paid"]) for c in now[key]["components"]}
    assert paid["capitale"] == paid_now["capitale"] + Decimal("1.00")  # seen once booked
    from app.positions.amounts import amounts_due_by_id

    assert Decimal(then[key]["total_due"]) == Decimal(amounts_due_by_id(session, [position.id], later)[
        position.id].total_cents) / 100  # the amount due of that day, interest included
    assert then[key]["as_of"] == later.isoformat()
    # long before the position was loaded: nothing was booked yet
    assert positions_report(session, MARIO_ROSSI_CF, as_of=dt.date(2000, 1, 1))[0]["total_due"] == "0.00"
