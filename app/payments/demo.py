"""Demo data of the payments module, called by `esattoria demo seed` at the end of the demo world: notice
numbers for every seeded position, and (for a demo of a realistic size) a pagoPA flow and a bank file imported
THROUGH the services, so that the review queue, the anomaly lists and the reports have something to show."""

from __future__ import annotations

import datetime as dt

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
FIXED = ("RSSMRA80A01H501U", "VRDGPP75C15F205S", "01234560017")


def seed_payments_demo(session: Session, carico_ids: list[int]) -> None:
    from app.carichi.models import Carico

    for carico in session.scalars(sa.select(Carico).where(Carico.id.in_(carico_ids))):
        assign_notice_numbers_for_carico(session, carico.id, issued_on=carico.received_date)
    positions = session.scalar(sa.select(sa.func.count()).select_from(Position)) or 0
    if positions >= DEMO_PAYMENTS_MIN_POSITIONS:
        _demo_flows(session)


def _demo_flows(session: Session) -> None:
    from app.payments.services import import_flow
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
        .limit(40)
    ).all()
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
