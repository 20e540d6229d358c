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
from app.core.timeline import TimelineEntry, timeline_entries, timeline_select
from app.escalation.models import EscalationProposal, EscalationSkip
from app.escalation.proposals import approve_step
from tests.conftest import user_by_name

D = dt.date(2025, 1, 31)


def _take(ladder: Any, worker: Any, positions: Any, act_code: str, on: dt.date, notified: dt.date) -> Act:
    """Approve the step's proposals as a campaign, let the job issue the acts, notify them on `notified`;
    returns the first position's act."""
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
    acts = []
    for position in positions if isinstance(positions, list) else [positions]:
        act = session.scalars(
            sa.select(Act).where(Act.position_id == position.id).order_by(Act.id.desc())
        ).first()
        assert act is not None and act.act_type.code == act_code and act.issue_date == on
        act.status, act.sent_date, act.channel = "inviato", on, "posta"  # the print flow sent it
        apply_outcome(
            session, act, Actor.system("test"), outcome="notificato", event_date=notified, source="manuale"
        )
        acts.append(act)
    session.flush()
    return acts[0]


def _events(session: Any, position: Any, kind: str) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event).where(Event.position_id == position.id, Event.kind == kind).order_by(Event.id)
        )
    )


def _timeline(session: Any, position: Any, kind: str) -> list[TimelineEntry]:
    """The position's timeline (the events and the slices' sources, as the card and the monitor read it)."""
    events = sa.select(Event).where(Event.position_id == position.id)
    stmt = timeline_select(events, lambda column: column == position.id, newest_first=False)
    return [e for e in timeline_entries(session.execute(stmt)) if e.kind == kind]


def test_a_position_walks_the_whole_ladder(ladder: Any, worker: Any) -> None:
    from app.engine.states import check_transition
    from app.escalation.procedure_steps import approve_procedure_step
    from app.procedures.models import Procedure

    position = ladder.position(euro=5000, due=D)
    paid_meanwhile = ladder.position(euro=5000, due=D)  # walks along; paid before its pignoramento starts
    both = [position, paid_meanwhile]
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
    _take(ladder, worker, both, "ingiunzione", D + dt.timedelta(days=30), n1)
    assert ladder.session.get(type(position), position.id).state == "notificata"
    ladder.run(n1 + dt.timedelta(days=59))
    assert ladder.proposals(position) == {"ingiunzione": "notificata"}  # the sollecito waits 60 days
    ladder.run(n1 + dt.timedelta(days=60))
    assert ladder.proposals(position)["sollecito"] == "proposta"  # 5.000 euro: required up to 10.000 (c. 795)

    _take(ladder, worker, both, "sollecito", n1 + dt.timedelta(days=60), n1 + dt.timedelta(days=70))
    ladder.run(n1 + dt.timedelta(days=364))
    assert "intimazione" not in ladder.proposals(position)  # a year after the title's notification
    ladder.run(n1 + dt.timedelta(days=365))
    assert ladder.proposals(position)["intimazione"] == "proposta"

    n3 = n1 + dt.timedelta(days=372)
    _take(ladder, worker, both, "intimazione", n1 + dt.timedelta(days=365), n3)
    ladder.run(n3 + dt.timedelta(days=5))
    proposals = ladder.proposals(position)
    assert proposals["intimazione"] == "notificata" and proposals["preavviso_fermo"] == "proposta"

    n4 = n3 + dt.timedelta(days=10)
    _take(ladder, worker, both, "preavviso_fermo", n3 + dt.timedelta(days=5), n4)
    ladder.run(n4 + dt.timedelta(days=30))
    # the ipoteca needs at least 20.000 euro (D.P.R. 602/1973 art. 77 c. 1-bis, a parameter row): skipped,
    # recorded by the proposal row itself (no event per position), shown on the timeline naming the rule
    assert ladder.proposals(position)["preavviso_ipoteca"] == "non_applicabile"
    assert _events(ladder.session, position, "escalation.skipped") == []
    (skipped,) = _timeline(ladder.session, position, "escalation.skipped")
    assert "Comunicazione preventiva di ipoteca" in skipped.summary and "art. 77" in skipped.summary
    assert ladder.rule.name in skipped.summary and skipped.actor_label == "sistema (escalation)"
    approved = _events(ladder.session, position, "escalation.approved")
    assert [e.payload["act"] for e in approved] == [
        "ingiunzione",
        "sollecito",
        "intimazione",
        "preavviso_fermo",
    ]
    assert all(e.payload["rule_name"] == ladder.rule.name and e.payload["campaign"] for e in approved)
    ladder.run(n4 + dt.timedelta(days=31))
    assert len(_timeline(ladder.session, position, "escalation.skipped")) == 1  # idempotent
    # the pignoramento presso terzi acts on an overdue position only (its service's precondition)
    assert "pignoramento" not in ladder.proposals(position)

    for p in both:  # the payment term of the last act passed (the operation scadenza_termine)
        check_transition(p.state, "scaduta")
        p.state = "scaduta"
    ladder.session.flush()
    ladder.run(n4 + dt.timedelta(days=32))
    assert ladder.proposals(position)["pignoramento"] == "proposta"
    assert _timeline(ladder.session, position, "escalation.proposed")[-1].summary.startswith(
        "Passo «Pignoramento presso terzi» proposto"
    )
    paid_meanwhile.state = "pagata"
    ladder.session.flush()
    admin = user_by_name("admin")
    principal = Principal(role="admin", ente_ids=frozenset({ladder.ente.id}))
    run = approve_procedure_step(
        ladder.session,
        principal,
        Actor(admin.id, "admin"),
        ladder.step("pignoramento"),
        on=n4 + dt.timedelta(days=33),
        options={"terzo": {"tipo": "banca", "nome": "Banca di prova S.p.A."}},
    )
    assert (run.started, run.refused) == (1, 1)
    ladder.session.expire_all()
    started = ladder.session.scalars(sa.select(Procedure).where(Procedure.position_id == position.id)).one()
    assert started.kind == "pignoramento" and started.details["terzo"]["nome"] == "Banca di prova S.p.A."
    assert ladder.session.get(type(position), position.id).state == "in_procedura"
    proposal = ladder.session.scalars(
        sa.select(EscalationProposal).where(
            EscalationProposal.position_id == position.id, EscalationProposal.act_code == "pignoramento"
        )
    ).one()
    assert proposal.status == "emessa" and proposal.procedure_id == started.id
    (event,) = [
        e for e in _events(ladder.session, position, "escalation.approved") if "procedure" in e.payload
    ]
    assert event.payload["procedure"] == started.id and event.payload["rule_name"] == ladder.rule.name
    # the paid one: refused by the procedure's own precondition, with its Italian reason
    assert ladder.proposals(paid_meanwhile)["pignoramento"] == "esclusa"
    (refused,) = _events(ladder.session, paid_meanwhile, "escalation.excluded")
    assert "Pagata" in refused.summary and "nessun pignoramento presso terzi" in refused.summary
    assert (
        ladder.session.scalar(
            sa.select(sa.func.count())
            .select_from(Procedure)
            .where(Procedure.position_id == paid_meanwhile.id)
        )
        == 0
    )
    ladder.run(n4 + dt.timedelta(days=40))  # the ladder ends there: nothing more is proposed
    assert ladder.proposals(position)["pignoramento"] == "emessa"


def test_above_the_threshold_the_sollecito_is_skipped_naming_the_rule(ladder: Any) -> None:
    position = ladder.position(euro=12000, due=D, notified=D)
    ladder.run(D + dt.timedelta(days=60))
    assert ladder.proposals(position) == {"sollecito": "non_applicabile"}
    (event,) = _timeline(ladder.session, position, "escalation.skipped")
    assert "L. 160/2019, art. 1, c. 795" in event.summary and f"regola «{ladder.rule.name}»" in event.summary
    # the next step does not wait for a sollecito that does not apply
    ladder.run(D + dt.timedelta(days=365))
    assert ladder.proposals(position)["intimazione"] == "proposta"


def test_a_paid_position_leaves_the_ladder_without_a_skip(ladder: Any) -> None:
    position = ladder.position(euro=3000, due=D, notified=D, state="pagata")
    ladder.run(D + dt.timedelta(days=60))
    assert ladder.proposals(position) == {}
    assert _timeline(ladder.session, position, "escalation.skipped") == []
    skips = sa.select(sa.func.count()).where(EscalationSkip.position_id == position.id)
    assert ladder.session.scalar(skips) == 0


@pytest.mark.parametrize("state", ["sospesa", "in_rateazione"])
def test_a_suspension_or_a_plan_stops_the_ladder(ladder: Any, state: str) -> None:
    position = ladder.position(euro=3000, due=D, notified=D)
    other = ladder.position(euro=3000, due=D, notified=D)
    position.state = state  # what the payment, the suspension or the plan did to it
    ladder.session.flush()
    ladder.run(D + dt.timedelta(days=60))
    assert ladder.proposals(position) == {} and ladder.proposals(other) == {"sollecito": "proposta"}
    (event,) = _timeline(ladder.session, position, "escalation.skipped")
    label = {"sospesa": "Sospesa", "in_rateazione": "In rateazione"}[state]
    assert event.summary == (
        f"Passo «{ladder.step('sollecito').name}» saltato: {label} (regola «{ladder.rule.name}»)"
    )
    ladder.run(D + dt.timedelta(days=61))  # recorded once
    assert len(_timeline(ladder.session, position, "escalation.skipped")) == 1
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
        (event,) = _timeline(ladder.session, position, "escalation.skipped")
        assert "In procedura concorsuale (prova)" in event.summary
    finally:
        blockers._BLOCKERS.pop(code, None)
    with pytest.raises(ValueError):
        blockers.register_blocker("sospesa", "doppio", "true")


def test_a_rerun_after_a_rerun_proposes_nothing_twice(ladder: Any) -> None:
    positions = [ladder.position(euro=100 + i, due=D, notified=D) for i in range(5)]
    blocked = ladder.position(euro=100, due=D, notified=D, state="sospesa")
    above = ladder.position(euro=12000, due=D, notified=D)

    def written() -> tuple[int, int, int]:
        counts = [
            ladder.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (EscalationProposal, EscalationSkip, Event)
        ]
        return counts[0], counts[1], counts[2]

    first = ladder.run(D + dt.timedelta(days=60)).as_json()
    assert (first["proposed"], first["skipped"], first["not_applicable"]) == (5, 1, 1)
    # no event per position: one summary event per run and step, with its counts
    ours = [*positions, blocked, above]
    per_position = sa.select(sa.func.count()).where(
        Event.position_id.in_([p.id for p in ours]), Event.kind.like("escalation.%")
    )
    assert ladder.session.scalar(per_position) == 0
    (run,) = ladder.session.scalars(
        sa.select(Event).where(
            Event.kind == "escalation.run", Event.payload["rule"].as_integer() == ladder.rule.id
        )
    ).all()
    assert run.payload["step_name"] == ladder.step("sollecito").name and run.ente_id == ladder.ente.id
    assert (run.payload["proposed"], run.payload["skipped"], run.payload["not_applicable"]) == (5, 1, 1)
    before = written()
    again = ladder.run(D + dt.timedelta(days=60)).as_json()
    assert again["proposed"] == again["skipped"] == again["not_applicable"] == 0
    assert written() == before  # a rerun writes nothing new: no proposal, no skip, no event
    ladder.run(D + dt.timedelta(days=61))  # the next day: the skip is not recorded again
    assert written() == before
    assert all(ladder.proposals(p) == {"sollecito": "proposta"} for p in positions)


def test_the_card_and_the_monitor_show_the_steps_taken_and_skipped(ladder: Any) -> None:
    """The card's timeline (its page, its export) and the position monitor's chronology read the proposals
    and the skips through the escalation's timeline source (app/escalation/timeline.py)."""
    from app.monitor.sections import section_by_key
    from app.taxpayers.queries import timeline_page, timeline_rows

    blocked = ladder.position(euro=3000, due=D, notified=D, state="sospesa")
    above = ladder.position(euro=12000, due=D, notified=D)
    ladder.run(D + dt.timedelta(days=60))
    principal = Principal(role="admin", ente_ids=frozenset({ladder.ente.id}))
    sollecito = ladder.step("sollecito").name
    wanted = {
        f"Passo «{sollecito}» saltato: Sospesa (regola «{ladder.rule.name}»)",
        f"Passo «{sollecito}» saltato: importo oltre la soglia di 10.000,00 € "
        f"(L. 160/2019, art. 1, c. 795; D.M. 14 aprile 2023 (G.U. n. 100 del 29/04/2023)) "
        f"(regola «{ladder.rule.name}»)",
    }
    entries, _ = timeline_page(ladder.session, principal, ladder.taxpayer.id, group="posizioni", limit=500)
    assert wanted <= {e.summary for e in entries}
    assert all(e.kind_label == "Passo della procedura saltato" for e in entries if e.summary in wanted)
    rows = timeline_rows(ladder.session, principal, ladder.taxpayer.id, group=None)
    assert wanted <= {r["descrizione"] for r in rows if r["gruppo"] == "posizioni"}
    section = section_by_key("eventi")
    assert section is not None
    shown = [r["evento"] for p in (blocked, above) for r in section.rows(ladder.session, principal, p)]
    assert set(shown) == wanted
    stranger = Principal(role="admin", ente_ids=frozenset({ladder.ente.id + 10_000}))
    assert section.rows(ladder.session, stranger, blocked) == []


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
    (event,) = _timeline(ladder.session, position, "escalation.skipped")
    assert "In procedura concorsuale" in event.summary
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


def test_one_run_at_a_time(ladder: Any, database_url: str) -> None:
    """A second run ("Esegui ora" beside the scheduled one) waits on the first's transaction-level lock, so it
    finds the first's rows once committed instead of writing them again or failing on the unique index."""
    from app.escalation.proposals import RUN_LOCK

    ladder.position(euro=100, due=D, notified=D)
    ladder.run(D + dt.timedelta(days=60))  # the test's transaction is still open: the lock is held
    other = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with other.connect() as conn:
            taken = conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": RUN_LOCK})
            assert taken.scalar_one() is False
    finally:
        other.dispose()
