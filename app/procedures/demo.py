"""Demo data of the procedures (idempotent): one pignoramento presso terzi (bank) on an overdue R01 position
of a demo taxpayer other than Mario Rossi, notified to the third party, so the list, the detail and the card
section are not empty for `make run`."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor

DEMO_ACTOR = Actor.system("dati dimostrativi")


def seed_procedures_demo(session: Session, *, mario_cf: str, on: dt.date = dt.date(2026, 11, 2)) -> int:
    from app.engine.states import check_transition
    from app.enti.models import Ente
    from app.positions.models import Position
    from app.positions.services import system_principal
    from app.procedures import pignoramento
    from app.procedures.machine import ProcedureRefused
    from app.procedures.models import Procedure
    from app.procedures.services import Operation, apply
    from app.taxpayers.models import Taxpayer

    if session.scalar(sa.select(Procedure.id).limit(1)) is not None:
        return 0
    r01 = session.scalar(sa.select(Ente.id).where(Ente.code == "R01"))
    position = session.scalars(
        sa.select(Position)
        .where(
            Position.ente_id == r01,
            Position.state == "notificata",
            Position.due_date < on,
            Position.taxpayer_id.in_(
                sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale != mario_cf, Taxpayer.kind == "PF")
            ),
        )
        .order_by(Position.id.desc())
        .limit(1)
    ).first()
    if position is None:
        return 0
    check_transition(position.state, "scaduta")  # the payment term has passed (operation scadenza_termine)
    position.state = "scaduta"
    try:
        procedure = pignoramento.start(
            session,
            system_principal(session),
            DEMO_ACTOR,
            position.id,
            third_party_kind="banca",
            third_party_name="Banca Popolare Demo S.p.A.",
            wage_cents=None,
            amount_cents=10_000,
            on=on,
        )
        apply(
            session,
            system_principal(session),
            DEMO_ACTOR,
            procedure.id,
            Operation("notifica_terzo", on + dt.timedelta(days=3)),
        )
    except ProcedureRefused:
        return 0
    return 1
