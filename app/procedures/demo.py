"""Demo data of the procedures (idempotent): one pignoramento presso terzi (bank) on an overdue R01 position
of a demo taxpayer other than Mario Rossi, notified to the third party, after the sollecito that L. 160/2019
c. 795 asks for (sent 45 days before), so the list, the detail and the card section are not empty for
`make run`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor

DEMO_ACTOR = Actor.system("dati dimostrativi")


def seed_procedures_demo(session: Session, *, mario_cf: str, on: dt.date = dt.date(2026, 11, 2)) -> int:
    from app.atti.services import ActRefused
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
    sollecito_on = on - dt.timedelta(days=45)
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
        with session.begin_nested():  # all or nothing: a refusal leaves no sollecito behind
            _sollecito_sent(session, position, sollecito_on)  # c. 795: first the sollecito
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
    except (ProcedureRefused, ActRefused):
        return 0
    return 1


def _sollecito_sent(session: Session, position: Any, on: dt.date) -> None:
    """The sollecito of L. 160/2019 c. 795, issued and sent by post on `on` (into the app's file store). The
    demo's movements are booked at seed time, so the amount is what the ledger says of `on` counting them
    all (an act issued that day would read only what was booked by then)."""
    from flask import current_app

    from app.atti.services import act_type_by_code, check_position, issue_act
    from app.positions.amounts import amounts_due

    act_type = act_type_by_code(session, "sollecito")
    due = amounts_due(session, [position], on)[position.id]
    prepared = check_position(session, position, act_type, on, due=due)
    act = issue_act(
        session, position, act_type, on, DEMO_ACTOR, file_store=current_app.config["FILE_STORE"],
        prepared=prepared,
    ).act
    act.status, act.sent_date, act.channel = "inviato", on, "posta"
