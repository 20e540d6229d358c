"""Demo data of the payments module, called by `esattoria demo seed` at the end of the demo world: notice
numbers for every seeded position, the demo's payments taken at the desk THROUGH the services (each with its
desk flow, receipt and allocation, so the card, the rendicontazione and the home counters agree), and (for a
demo of a realistic size) a pagoPA flow and a bank file imported through the services, so that the review
queue, the anomaly lists and the reports have something to show."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped_join
from app.core.audit import Actor
from app.enti.models import Ente
from app.payments.fdr_writer import FdrRow, build_fdr
from app.payments.models import NoticeNumber
from app.payments.notices import assign_notice_numbers_for_carico
from app.positions.models import Position
from app.taxpayers.models import Taxpayer

DEMO_PAYMENTS_MIN_POSITIONS = 200  # the test seed (40 taxpayers) keeps its ledger untouched
ROME = ZoneInfo("Europe/Rome")
FIXED = ("RSSMRA80A01H501U", "VRDGPP75C15F205S", "01234560017")


@dataclass(frozen=True, slots=True)
class PlannedPayment:
    """A payment the demo world makes: `amount_cents` None is a payoff of the amount due on `paid_date`."""

    position_id: int
    paid_date: dt.date
    amount_cents: int | None


def seed_payments_demo(session: Session, carico_ids: list[int], planned: list[PlannedPayment] | None = None,
                       rnd: random.Random | None = None) -> None:
    from app.carichi.models import Carico

    for carico in session.scalars(sa.select(Carico).where(Carico.id.in_(carico_ids))):
        assign_notice_numbers_for_carico(session, carico.id, issued_on=carico.received_date)
    _desk_payments(session, planned or [], rnd or random.Random(0))  # nosec B311: demo data
    positions = session.scalar(sa.select(sa.func.count()).select_from(Position)) or 0
    if positions >= DEMO_PAYMENTS_MIN_POSITIONS:
        _demo_flows(session)


def _desk_payments(session: Session, planned: list[PlannedPayment], rnd: random.Random) -> None:
    """The demo's payments, taken at the desk on their dates: a payoff pays the amount due that day (interest
    booked first), a partial payment a part of the ledger balance."""
    from app.payments.services import DESK_CHANNELS, register_desk_payment
    from app.positions.amounts import amounts_due_by_id
    from app.positions.services import system_principal

    if not planned:
        return
    principal = system_principal(session)
    actor = Actor.system("sportello demo")
    channels = sorted(DESK_CHANNELS)
    for item in sorted(planned, key=lambda p: (p.paid_date, p.position_id)):
        due = amounts_due_by_id(session, [item.position_id], item.paid_date)[item.position_id]
        amount = due.total_cents if item.amount_cents is None else min(item.amount_cents, due.total_cents - 1)
        if amount <= 0:
            continue
        booked = dt.datetime.combine(item.paid_date, dt.time(10, 0), tzinfo=ROME)  # taken that morning
        register_desk_payment(session, principal, actor, position_id=item.position_id, amount_cents=amount,
                              channel=rnd.choice(channels), paid_date=item.paid_date, booked_dt=booked)


def _demo_flows(session: Session) -> None:
    from app.payments.services import import_flow
    from app.positions.amounts import amounts_due_by_id
    from app.positions.queries import balances

    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    stmt = sa.select(Position.id, NoticeNumber.iuv, Taxpayer.codice_fiscale, Position.external_id).join(
        NoticeNumber,
        sa.and_(NoticeNumber.position_id == Position.id, NoticeNumber.item_kind == "posizione"),
    )
    principal = Principal(role="admin", ente_ids=frozenset({ente.id}))
    rows = session.execute(
        scoped_join(stmt, Taxpayer, Taxpayer.id == Position.taxpayer_id, principal)
        .where(
            Position.ente_id == ente.id,
            Position.state.in_(("caricata", "notificata")),
            Taxpayer.codice_fiscale.not_in(FIXED),
        )
        .order_by(Position.id)
        .limit(400)
    ).all()
    # the flows pay the notices' amounts: positions whose amount due is their ledger balance (no interest
    # accrued, e.g. by the rule of their entrata), so a payment of the balance is a payoff
    dues = amounts_due_by_id(session, [r[0] for r in rows], dt.date(2026, 11, 20))
    rows = [r for r in rows if dues[r[0]].accrued_cents == 0][:30]
    due = balances(session, [r[0] for r in rows])
    actor = Actor.system("caricamento demo")
    day = dt.date(2026, 11, 20)
    fdr = [
        FdrRow(
            iuv,
            f"DEMOIUR{i:06d}",
            due[pid].due_cents if i % 3 else max(due[pid].due_cents // 2, 1),
            outcome_date=day,
        )
        for i, (pid, iuv, _cf, _ext) in enumerate(rows[:20])
    ]
    fdr.append(FdrRow("01999999999999999", "DEMOIUR999999", 5000, outcome_date=day))  # a payment with no debt
    import_flow(
        session, build_fdr(fdr, identifier="2026-11-20PSPDEMO01-0000000001"), actor, file_name="fdr-demo.xml"
    )
    lines = ["id_pagamento;data_pagamento;data_valuta;importo;codice_avviso;codice_fiscale;causale;canale"]
    for i, (pid, _iuv, cf, external_id) in enumerate(rows[20:30]):
        amount = due[pid].due_cents
        lines.append(
            f"BON-DEMO-{i:04d};2026-11-18;2026-11-19;{amount // 100},{amount % 100:02d};;{cf};"
            f"Pagamento posizione {external_id};bonifico"
        )
    import_flow(
        session,
        ("\n".join(lines) + "\n").encode(),
        actor,
        fmt="csv",
        ente_code="R01",
        file_name="bonifici-demo.csv",
    )
