from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask


@dataclass(frozen=True)
class Issued:
    r01_act_id: int
    r01_position_id: int
    r01_protocol: str
    r02_act_id: int
    r02_protocol: str


@pytest.fixture
def issued(app: Flask, store: Path) -> Issued:
    """An ingiunzione for Mario Rossi (R01), sent by post and notified; one for the R02 taxpayer, only issued.
    Done in an app context closed before the test's requests (a shared one would share the logged-in user)."""
    from app.atti.delivery.services import apply_outcome
    from app.atti.services import act_type_by_code, issue_act
    from app.core.audit import Actor
    from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
    from app.extensions import db
    from app.positions.amounts import today_rome
    from tests.atti.conftest import open_position

    actor = Actor.system("test")
    with app.app_context():
        session = db.session
        today = today_rome()
        act_type = act_type_by_code(session, "ingiunzione")
        r01 = issue_act(
            session, open_position(session, MARIO_ROSSI_CF), act_type, today, actor, file_store=str(store)
        ).act
        r02 = issue_act(
            session, open_position(session, SECOND_ENTE_CF), act_type, today, actor, file_store=str(store)
        ).act
        r01.status, r01.channel, r01.sent_date = "inviato", "posta", today
        session.flush()
        apply_outcome(session, r01, actor, outcome="notificato", event_date=today, source="manuale")
        session.commit()
        return Issued(r01.id, r01.position_id, r01.protocol, r02.id, r02.protocol)
