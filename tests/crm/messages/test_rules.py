"""Send rules: `esattoria messaggi invia-promemoria` and the periodic job queue one reminder per position due
in N days, on the first channel the taxpayer can receive; a rerun sends nothing twice (dedup key)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from app.crm.messages.models import Message, MessageRule
from app.positions.models import Position
from tests.crm.messages.conftest import consent


def _due_in_seven_days(session: Any, mario: Any, r01: Any, day: dt.date) -> Position:
    position = session.scalars(
        sa.select(Position)
        .where(Position.taxpayer_id == mario.id, Position.ente_id == r01.id)
        .order_by(Position.id)
    ).first()
    assert position is not None
    position.due_date = day + dt.timedelta(days=7)
    position.state = "notificata"
    return position


def test_the_rules_command_queues_once_and_a_rerun_sends_nothing_twice(
    app, session, mario, r01, default_queue
) -> None:
    from app.positions.amounts import amount_due, today_rome
    from app.reports.formatting import format_eur

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["messaggi", "regola", "--ente", "R01", "--canali", "email,sms", "--giorni", "7"]
    )
    assert result.exit_code == 0, result.output
    rule_id = json.loads(result.output)["regola"]
    day = dt.date(2026, 12, 3)
    position = _due_in_seven_days(session, mario, r01, day)
    consent(session, mario, "email")
    session.commit()

    first = runner.invoke(args=["messaggi", "invia-promemoria", "--data", day.isoformat()])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["regole"] >= 1 and summary["in_coda"] >= 1 and summary["gia_presenti"] == 0
    key = f"regola:{rule_id}:posizione:{position.id}:{position.due_date.isoformat()}"
    message = session.scalars(sa.select(Message).where(Message.dedup_key == key)).one()
    assert (message.channel, message.status, message.purpose) == ("email", "in_coda", "promemoria_rata")
    assert message.position_id == position.id
    due = amount_due(session, position, today_rome())
    assert f"Importo dovuto a oggi: {format_eur(due.total_cents)}." in message.body
    assert default_queue.count == summary["in_coda"]

    again = json.loads(runner.invoke(args=["messaggi", "invia-promemoria", "--data", day.isoformat()]).output)
    assert again["in_coda"] == 0 and again["rifiutati"] == 0
    assert again["gia_presenti"] == summary["in_coda"] + summary["rifiutati"]
    assert default_queue.count == summary["in_coda"]

    from app.crm.messages.tasks import send_reminders

    assert send_reminders(on=day.isoformat())["in_coda"] == 0
    count = sa.select(sa.func.count()).select_from(Message).where(Message.dedup_key == key)
    assert session.scalar(count) == 1


def test_a_taxpayer_without_any_usable_channel_is_refused_once_with_the_reason(
    app, session, mario, r01, default_queue
) -> None:
    from app.core.audit import Actor
    from app.crm.messages.services import run_rules, save_rule

    rule = save_rule(
        session, ente_id=r01.id, entrata_id=None, purpose="promemoria_rata", channels=["sms"], days_before=7
    )
    day = dt.date(2026, 12, 3)
    position = _due_in_seven_days(session, mario, r01, day)
    run_rules(session, day, Actor.system("test"))
    key = f"regola:{rule.id}:posizione:{position.id}:{position.due_date.isoformat()}"
    message = session.scalars(sa.select(Message).where(Message.dedup_key == key)).one()
    assert message.status == "rifiutato"
    assert message.reason == "Il contribuente non ha dato il consenso agli SMS"
    again = run_rules(session, day, Actor.system("test"))
    assert again.queued == 0 and again.already >= 1


def test_closed_positions_and_other_days_get_no_reminder(app, session, mario, r01, default_queue) -> None:
    from app.core.audit import Actor
    from app.crm.messages.services import run_rules, save_rule

    save_rule(
        session, ente_id=r01.id, entrata_id=None, purpose="promemoria_rata", channels=["email"], days_before=7
    )
    consent(session, mario, "email")
    day = dt.date(2026, 12, 3)
    position = _due_in_seven_days(session, mario, r01, day)
    position.state = "pagata"
    session.flush()
    run_rules(session, day, Actor.system("test"))
    run_rules(session, day + dt.timedelta(days=1), Actor.system("test"))
    assert session.scalars(sa.select(Message).where(Message.position_id == position.id)).all() == []
    assert session.scalar(sa.select(sa.func.count()).select_from(MessageRule)) >= 1


def test_the_daily_run_is_in_the_registry_of_periodic_jobs() -> None:
    from app.core import periodic

    job = periodic.get("app.crm.messages.tasks.send_reminders")
    assert job is not None and job.cron is not None and job.cron.text == "0 7 * * *"
