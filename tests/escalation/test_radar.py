"""The prescription radar lists a position 30 days before its prescription and not after an interrupting
notification; the daily job moves a prescribed position to `prescritta` with its event; the screens answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from app.core.access import Principal
from app.core.audit import Event
from app.engine.deadlines import next_useful_day
from app.escalation.radar import mark_prescribed, radar

DUE = dt.date(2019, 3, 15)


def _principal(ladder: Any) -> Principal:
    return Principal(role="admin", ente_ids=frozenset({ladder.ente.id}))


def _listed(ladder: Any, on: dt.date, days: int = 30) -> dict[int, Any]:
    rows = radar(ladder.session, _principal(ladder), ente_id=ladder.ente.id, on=on, days=days)
    return {r.position.id: r for r in rows}


def test_the_radar_lists_a_position_30_days_before_and_not_after_an_interruption(
    ladder: Any, store: Any
) -> None:
    from app.core.calendar import is_italian_holiday

    notified = dt.date(2021, 6, 10)
    position = ladder.position(euro=800, due=DUE, notified=notified)
    prescribes = next_useful_day(dt.date(2026, 6, 10), is_italian_holiday)  # 5 years from the notification
    listed = _listed(ladder, prescribes - dt.timedelta(days=30))
    assert position.id in listed
    row = listed[position.id]
    assert row.prescription.date == prescribes and row.days_left == 30
    assert row.step is not None and row.step.act_code == "sollecito"  # the act that would interrupt it
    assert position.id not in _listed(ladder, prescribes - dt.timedelta(days=31))  # not yet within 30 days

    # an interrupting act notified: a new term of five years starts (art. 2945 c.c.)
    from app.atti.models import Act
    from app.atti.services import act_type_by_code, issue_act
    from app.core.audit import Actor

    day = prescribes - dt.timedelta(days=40)
    issued = issue_act(
        ladder.session,
        position,
        act_type_by_code(ladder.session, "sollecito"),
        day,
        Actor.system("test"),
        file_store=str(store),
    )
    issued.act.status, issued.act.notified_date = "notificato", day  # (app/atti/delivery records it)
    ladder.session.flush()
    assert ladder.session.scalar(sa.select(sa.func.count(Act.id)).where(Act.position_id == position.id)) == 1
    assert position.id not in _listed(ladder, prescribes - dt.timedelta(days=30))


def test_the_daily_job_moves_a_prescribed_position_with_its_event(ladder: Any) -> None:
    from app.core.calendar import is_italian_holiday

    position = ladder.position(euro=800, due=DUE, notified=dt.date(2020, 2, 3))
    open_one = ladder.position(euro=800, due=DUE, notified=dt.date(2022, 2, 3))
    prescribes = next_useful_day(dt.date(2025, 2, 3), is_italian_holiday)
    assert mark_prescribed(ladder.session, prescribes) >= 0
    assert position.state == "notificata"  # the last useful day itself is still in time
    mark_prescribed(ladder.session, prescribes + dt.timedelta(days=1))
    assert position.state == "prescritta" and open_one.state == "notificata"
    (event,) = ladder.session.scalars(
        sa.select(Event).where(Event.position_id == position.id, Event.kind == "position.state_changed")
    ).all()
    assert (
        event.payload["to"] == "prescritta" and event.payload["prescription_date"] == prescribes.isoformat()
    )
    assert "2946" in event.payload["source"] or "2948" in event.payload["source"]


def test_the_screens_answer_for_their_personas(ladder: Any, personas: Any) -> None:
    ladder.position(euro=300, due=DUE, notified=DUE)
    ladder.run(dt.date.today())
    ladder.session.commit()
    backoffice = personas.client("backoffice")
    page = backoffice.get("/escalation/proposte").get_data(as_text=True)
    step = ladder.step("sollecito")
    assert f"/escalation/proposte/{step.id}" in page
    assert backoffice.get(f"/escalation/proposte/{step.id}").status_code == 200
    assert backoffice.get("/escalation/prescrizioni?giorni=365").status_code == 200
    assert backoffice.get("/escalation/regole").status_code == 403


def test_the_rules_screen_is_the_administrators(ladder: Any, personas: Any) -> None:
    ladder.session.commit()
    admin = personas.client("admin")
    page = admin.get("/escalation/regole").get_data(as_text=True)
    assert ladder.rule.name in page
    assert admin.get(f"/escalation/regole/{ladder.rule.id}").status_code == 200


def test_the_weekly_report_goes_to_the_archive_and_to_the_regione(ladder: Any, store: Any, app: Any) -> None:
    from app.archive.models import Document
    from app.enti.models import Parameter
    from app.escalation.report import RECIPIENTS_PARAMETER, send_radar_reports
    from tests.smtp import smtp_sink

    notified = dt.date(2021, 6, 10)
    position = ladder.position(euro=800, due=DUE, notified=notified)
    ladder.session.add(
        Parameter(
            code=RECIPIENTS_PARAMETER,
            ente_id=ladder.ente.id,
            valid_from=dt.date(2020, 1, 1),
            value={"emails": ["riscossione@regione.example"]},
            source="convenzione con la Regione",
        )
    )
    ladder.session.flush()
    on = dt.date(2026, 5, 20)
    with smtp_sink() as sink:
        config = {**app.config, **sink.settings}
        done = send_radar_reports(ladder.session, on, days=30, file_store=str(store), config=config)
        [message] = sink.wait_for(1)
    mine = next(d for d in done if d["ente"] == "R01")
    assert mine["sent_to"] == ["riscossione@regione.example"] and mine["error"] is None
    assert mine["positions"] >= 1
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    document = ladder.session.get(Document, mine["document"])
    assert document.channel == "uscita" and "Radar della prescrizione" in document.subject
    from tests.atti.conftest import pdf_text

    assert position.external_id in pdf_text(attachment.get_content())


def test_the_review_starts_the_procedure_of_a_procedure_step(ladder: Any, personas: Any) -> None:
    """The pignoramento step's page asks for the bank and starts one procedure per waiting proposal (the
    procedure's refusals leave the proposal excluded with the reason)."""
    from app.escalation.models import EscalationProposal
    from app.procedures.models import Procedure
    from tests.conftest import csrf_token
    from tests.procedures.support import send_sollecito

    step = ladder.step("pignoramento")
    overdue = ladder.position(euro=900, due=DUE, notified=DUE, state="scaduta")
    send_sollecito(ladder.session, overdue, dt.date.today() - dt.timedelta(days=40))  # c. 795: sent before
    unsolicited = ladder.position(euro=800, due=DUE, notified=DUE, state="scaduta")  # no sollecito sent
    for position in (overdue, unsolicited):
        ladder.session.add(
            EscalationProposal(
                ente_id=ladder.ente.id,
                rule_id=ladder.rule.id,
                step_id=step.id,
                position_id=position.id,
                act_code=step.act_code,
                run_date=dt.date.today(),
                amount_cents=90000,
            )
        )
    ladder.session.commit()
    admin = personas.client("admin")
    path = f"/escalation/proposte/{step.id}"
    page = admin.get(path).get_data(as_text=True)
    assert "Banca (terzo pignorato)" in page and "Approva e avvia le procedure" in page
    response = admin.post(
        path,
        data={
            "csrf_token": csrf_token(admin, path),
            "issue_date": dt.date.today().isoformat(),
            "third_party": "Banca di prova S.p.A.",
            "approve": "1",
        },
    )
    assert response.status_code == 303
    ladder.session.expire_all()
    procedure = ladder.session.scalars(sa.select(Procedure).where(Procedure.position_id == overdue.id)).one()
    assert procedure.kind == "pignoramento" and procedure.details["terzo"]["nome"] == "Banca di prova S.p.A."
    refused = ladder.session.scalars(
        sa.select(EscalationProposal).where(EscalationProposal.position_id == unsolicited.id)
    ).one()
    assert refused.status == "esclusa" and "c. 795" in refused.reason and "sollecito" in refused.reason
    none = sa.select(Procedure.id).where(Procedure.position_id == unsolicited.id)
    assert ladder.session.scalar(none) is None
