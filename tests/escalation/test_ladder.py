"""A position walks the whole ladder, each step on its own frozen day (the job and the services take the
day): proposed, approved as a campaign (the act issued by the campaign's job), notified, then the next step's
clock starts; a step outside its bounds is skipped with the rule and its legal source; blockers stop it;
reruns propose nothing twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.atti.models import Act
from app.core.access import Principal
from app.core.audit import Actor, Event
from app.escalation.models import EscalationProposal, EscalationSkip
from app.escalation.proposals import approve_step
from tests.conftest import user_by_name

D = dt.date(2025, 1, 31)


def _take(ladder: Any, worker: Any, position: Any, act_code: str, on: dt.date, notified: dt.date) -> Act:
    """Approve the step's proposals as a campaign, let the job issue the act, notify it on `notified`."""
    from app.atti.delivery.services import apply_outcome

    session = ladder.session
    admin = user_by_name("admin")
    principal = Principal(role="admin", ente_ids=frozenset({ladder.ente.id}))
    approve_step(
        session,
        principal,
        Actor(admin.id, "admin"),
        ladder.step(act_code).id,
        issue_date=on,
        can_approve=True,
    )
    worker()
    session.expire_all()
    act = session.scalars(
        sa.select(Act).where(Act.position_id == position.id).order_by(Act.id.desc())
    ).first()
    assert act is not None and act.act_type.code == act_code and act.issue_date == on
    act.status, act.sent_date, act.channel = (
        "inviato",
        on,
        "posta",
    )  # the print flow sent it (app/atti/delivery)
    apply_outcome(
        session, act, Actor.system("test"), outcome="notificato", event_date=notified, source="manuale"
    )
    session.flush()
    return act


def _events(session: Any, position: Any, kind: str) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event).where(Event.position_id == position.id, Event.kind == kind).order_by(Event.id)
        )
    )


def test_a_position_walks_the_whole_ladder(ladder: Any, worker: Any) -> None:
    position = ladder.position(euro=5000, due=D)
    ladder.run(D + dt.timedelta(days=29))
    assert ladder.proposals(position) == {}  # the title's 30 days have not passed
    ladder.run(D + dt.timedelta(days=30))
    assert ladder.proposals(position) == {"ingiunzione": "proposta"}
    ladder.run(D + dt.timedelta(days=30))  # a rerun proposes nothing twice
    assert (
        ladder.session.scalar(sa.select(sa.func.count()).where(EscalationProposal.position_id == position.id))
        == 1
    )

    n1 = D + dt.timedelta(days=45)
    _take(ladder, worker, position, "ingiunzione", D + dt.timedelta(days=30), n1)
    assert ladder.session.get(type(position), position.id).state == "notificata"
    ladder.run(n1 + dt.timedelta(days=59))
    assert ladder.proposals(position) == {"ingiunzione": "notificata"}  # the sollecito waits 60 days
    ladder.run(n1 + dt.timedelta(days=60))
    assert ladder.proposals(position)["sollecito"] == "proposta"  # 5.000 euro: required up to 10.000 (c. 795)

    _take(ladder, worker, position, "sollecito", n1 + dt.timedelta(days=60), n1 + dt.timedelta(days=70))
    ladder.run(n1 + dt.timedelta(days=364))
    assert "intimazione" not in ladder.proposals(position)  # a year after the title's notification
    ladder.run(n1 + dt.timedelta(days=365))
    assert ladder.proposals(position)["intimazione"] == "proposta"

    n3 = n1 + dt.timedelta(days=372)
    _take(ladder, worker, position, "intimazione", n1 + dt.timedelta(days=365), n3)
    ladder.run(n3 + dt.timedelta(days=5))
    proposals = ladder.proposals(position)
    assert proposals["intimazione"] == "notificata" and proposals["preavviso_fermo"] == "proposta"

    n4 = n3 + dt.timedelta(days=10)
    _take(ladder, worker, position, "preavviso_fermo", n3 + dt.timedelta(days=5), n4)
    ladder.run(n4 + dt.timedelta(days=30))
    # the ipoteca needs at least 20.000 euro (D.P.R. 602/1973 art. 77 c. 1-bis, a parameter row): skipped
    assert ladder.proposals(position)["preavviso_ipoteca"] == "non_applicabile"
    skipped = _events(ladder.session, position, "escalation.skipped")
    assert len(skipped) == 1
    assert (
        skipped[0].payload["rule_name"] == ladder.rule.name
        and skipped[0].payload["act"] == "preavviso_ipoteca"
    )
    assert "art. 77" in skipped[0].payload["reason"] and ladder.rule.name in skipped[0].summary
    approved = _events(ladder.session, position, "escalation.approved")
    assert [e.payload["act"] for e in approved] == [
        "ingiunzione",
        "sollecito",
        "intimazione",
        "preavviso_fermo",
    ]
    assert all(e.payload["rule_name"] == ladder.rule.name and e.payload["campaign"] for e in approved)
    ladder.run(n4 + dt.timedelta(days=31))
    assert len(_events(ladder.session, position, "escalation.skipped")) == 1  # idempotent


def test_above_the_threshold_the_sollecito_is_skipped_naming_the_rule(ladder: Any) -> None:
    position = ladder.position(euro=12000, due=D, notified=D)
    ladder.run(D + dt.timedelta(days=60))
    assert ladder.proposals(position) == {"sollecito": "non_applicabile"}
    (event,) = _events(ladder.session, position, "escalation.skipped")
    assert (
        "L. 160/2019, art. 1, c. 795" in event.payload["reason"] and event.payload["rule"] == ladder.rule.id
    )
    # the next step does not wait for a sollecito that does not apply
    ladder.run(D + dt.timedelta(days=365))
    assert ladder.proposals(position)["intimazione"] == "proposta"


@pytest.mark.parametrize("state", ["pagata", "sospesa", "in_rateazione"])
def test_a_payment_a_suspension_or_a_plan_stops_the_ladder(ladder: Any, state: str) -> None:
    position = ladder.position(euro=3000, due=D, notified=D)
    other = ladder.position(euro=3000, due=D, notified=D)
    position.state = state  # what the payment, the suspension or the plan did to it
    ladder.session.flush()
    ladder.run(D + dt.timedelta(days=60))
    assert ladder.proposals(position) == {} and ladder.proposals(other) == {"sollecito": "proposta"}
    (event,) = _events(ladder.session, position, "escalation.skipped")
    assert event.payload["blocker"] == state and event.payload["rule_name"] == ladder.rule.name
    assert (
        event.payload["step_name"] == ladder.step("sollecito").name
        and event.taxpayer_id == position.taxpayer_id
    )
    ladder.run(D + dt.timedelta(days=61))  # recorded once
    assert len(_events(ladder.session, position, "escalation.skipped")) == 1
    skips = ladder.session.scalars(
        sa.select(EscalationSkip.blocker).where(EscalationSkip.position_id == position.id)
    )
    assert list(skips) == [state]


def test_a_deceased_taxpayer_stops_it_and_a_registered_blocker_too(ladder: Any) -> None:
    from app.escalation import blockers

    position = ladder.position(euro=3000, due=D, notified=D)
    position.description = "in procedura concorsuale"
    ladder.session.flush()
    code = "prova_concorsuale"
    if code not in {b.code for b in blockers.blockers()}:
        blockers.register_blocker(
            code,
            "In procedura concorsuale (prova)",
            "p.id IN (SELECT id FROM positions WHERE description = 'in procedura concorsuale')",
        )
    try:
        ladder.run(D + dt.timedelta(days=60))
        assert ladder.proposals(position) == {}
        (event,) = _events(ladder.session, position, "escalation.skipped")
        assert event.payload["blocker"] == code
    finally:
        blockers._BLOCKERS.pop(code, None)
    with pytest.raises(ValueError):
        blockers.register_blocker("pagata", "doppio", "true")


def test_a_rerun_after_a_rerun_proposes_nothing_twice(ladder: Any) -> None:
    positions = [ladder.position(euro=100 + i, due=D, notified=D) for i in range(5)]
    first = ladder.run(D + dt.timedelta(days=60)).as_json()
    again = ladder.run(D + dt.timedelta(days=60)).as_json()
    assert first["proposed"] == 5 and again["proposed"] == again["skipped"] == again["not_applicable"] == 0
    assert all(ladder.proposals(p) == {"sollecito": "proposta"} for p in positions)


def test_a_taxpayer_in_an_open_insolvency_proceeding_is_not_pursued(ladder: Any) -> None:
    """The procedures slice's blocker (app/procedures/escalation_blockers.py): an insolvency proceeding opened
    before the run stops the ladder; once closed, the position is proposed again."""
    from app.procedures.models import InsolvencyProceeding

    position = ladder.position(euro=3000, due=D, notified=D)
    case = InsolvencyProceeding(
        ente_id=ladder.ente.id,
        taxpayer_id=position.taxpayer_id,
        kind="liquidazione_giudiziale",
        court="Tribunale di Roma",
        opened_on=D,
        filing_deadline=D + dt.timedelta(days=120),
    )
    ladder.session.add(case)
    ladder.session.flush()
    ladder.run(D + dt.timedelta(days=60))
    assert ladder.proposals(position) == {}
    (event,) = _events(ladder.session, position, "escalation.skipped")
    assert event.payload["blocker"] == "procedura_concorsuale"
    case.closed_on = D + dt.timedelta(days=70)
    ladder.session.flush()
    ladder.run(D + dt.timedelta(days=71))
    assert ladder.proposals(position) != {}


def test_proposals_and_skips_are_scoped_through_their_position_without_a_foreign_key(ladder: Any) -> None:
    """The position_id columns carry no foreign key constraint (the job's speed): scoping still goes through
    the position, by its ente for staff and by its taxpayer for a taxpayer account."""
    from app.core.access import scoped

    blocked = ladder.position(euro=3000, due=D, notified=D)
    blocked.state = "sospesa"
    proposed = ladder.position(euro=3000, due=D, notified=D)
    ladder.session.flush()
    ladder.run(D + dt.timedelta(days=60))

    def visible(model: Any, principal: Principal) -> set[int]:
        ours = (blocked.id, proposed.id)  # the demo data has others
        stmt = scoped(sa.select(model.position_id), model, principal).where(model.position_id.in_(ours))
        return set(ladder.session.scalars(stmt))

    own = Principal(role="admin", ente_ids=frozenset({ladder.ente.id}))
    other = Principal(role="admin", ente_ids=frozenset({ladder.ente.id + 10_000}))
    assert visible(EscalationSkip, own) == {blocked.id} and visible(EscalationSkip, other) == set()
    assert visible(EscalationProposal, own) == {proposed.id} and visible(EscalationProposal, other) == set()
    me = Principal(role="contribuente", ente_ids=frozenset(), taxpayer_id=blocked.taxpayer_id)
    stranger = Principal(role="contribuente", ente_ids=frozenset(), taxpayer_id=-1)
    assert visible(EscalationSkip, me) == {blocked.id} and visible(EscalationSkip, stranger) == set()
    assert visible(EscalationProposal, stranger) == set()
