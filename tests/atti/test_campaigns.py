"""Campaigns end to end on PostgreSQL with RQ (burst worker): criteria, exclusions with their reason,
four-eyes approval, protocols, chunk jobs, job progress; a rerun never issues an act twice; stop and
resume."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.atti import tasks
from app.atti.campaigns import Criteria, approve_campaign, create_campaign, resume_campaign, stop_campaign
from app.atti.models import Act, Campaign, CampaignItem
from app.core.access import Principal
from app.core.audit import Actor, Event
from app.enti.models import Ente, Parameter
from app.jobs.models import BatchJob
from app.positions.amounts import today_rome
from tests.conftest import user_by_name


@pytest.fixture
def worker(app, store) -> Any:
    from rq import SimpleWorker

    from app.core.jobs import connection, queue

    with app.app_context():
        queue("default").empty()

    def work() -> None:
        from app.extensions import db

        db.session.commit()  # the test's own savepoint released first (the suite's isolation nests them)
        with app.app_context():
            SimpleWorker([queue("default")], connection=connection()).work(burst=True)

    return work


def _ente(session, code: str = "R01") -> Ente:
    return session.scalars(sa.select(Ente).where(Ente.code == code)).one()


def _admin(session) -> Actor:
    user = user_by_name("admin")
    return Actor(user_id=user.id, label="admin")


def _campaign(session, act: str = "sollecito", **criteria: Any) -> Campaign:
    ente = _ente(session)
    principal = Principal(role="admin", ente_ids=frozenset({ente.id}))
    campaign = create_campaign(
        session,
        principal,
        _admin(session),
        ente=ente,
        act_code=act,
        name="Prova",
        criteria=Criteria(**criteria),
        issue_date=today_rome(),
    )
    session.commit()
    return campaign


def _items(session, campaign: Campaign) -> dict[str, int]:
    rows = session.execute(
        sa.select(CampaignItem.status, sa.func.count())
        .where(CampaignItem.campaign_id == campaign.id)
        .group_by(CampaignItem.status)
    ).all()
    return dict(rows)


def test_a_campaign_issues_every_selected_act_once_with_progress_and_events(session, worker) -> None:
    campaign = _campaign(session)
    summary = campaign.summary
    assert summary["selected"] == summary["to_issue"] + summary["excluded"] and summary["to_issue"] > 3
    assert "pagata" in summary["exclusions"]  # the demo has paid positions: excluded with the reason
    excluded = session.scalars(
        sa.select(CampaignItem).where(
            CampaignItem.campaign_id == campaign.id, CampaignItem.status == "esclusa"
        )
    ).all()
    assert all(item.reason for item in excluded)
    approve_campaign(session, campaign, _admin(session), can_approve=True)
    session.commit()
    protocols = session.scalars(
        sa.select(CampaignItem.protocol).where(
            CampaignItem.campaign_id == campaign.id, CampaignItem.status == "da_emettere"
        )
    ).all()
    assert len(set(protocols)) == summary["to_issue"] and None not in protocols
    worker()
    session.expire_all()
    assert session.get(Campaign, campaign.id).status == "completata"
    acts = session.scalars(sa.select(Act).where(Act.campaign_id == campaign.id)).all()
    assert len(acts) == summary["to_issue"] == _items(session, campaign)["emessa"]
    assert len({a.position_id for a in acts}) == len(acts)
    assert {a.protocol for a in acts} == set(protocols)
    job = session.get(BatchJob, campaign.job_id)
    assert job.status == "done" and job.rows_done == job.rows_total == len(acts)
    assert job.result["issued"] == len(acts)
    events = session.scalar(  # one per act (the demo's own acts on these positions are not the campaign's)
        sa.select(sa.func.count(Event.id)).where(
            Event.kind == "act.issued",
            Event.position_id.in_([a.position_id for a in acts]),
            Event.payload["act"].as_integer().in_([a.id for a in acts]),
        )
    )
    assert events == len(acts)
    # a rerun of the job and of every chunk issues nothing more
    with session.no_autoflush:
        ids = [
            i
            for (i,) in session.execute(
                sa.select(CampaignItem.id).where(CampaignItem.campaign_id == campaign.id)
            )
        ]
    tasks_again(session, campaign, job, ids)
    assert session.scalar(sa.select(sa.func.count(Act.id)).where(Act.campaign_id == campaign.id)) == len(acts)


def tasks_again(session, campaign: Campaign, job: BatchJob, ids: list[int]) -> None:
    session.commit()
    result = tasks.issue_chunk(campaign.id, job.id, ids)
    assert (result["issued"], result["failed"]) == (0, 0)
    assert tasks.run_campaign(job.id) is None  # the job is done: nothing to run


def test_the_chunks_get_smaller_towards_the_end_so_the_workers_finish_together() -> None:
    for items in (1, 30, 305, 1005, 10005):
        sizes = tasks.chunk_sizes(items)
        assert sum(sizes) == items and max(sizes) <= tasks.CHUNK
        assert sizes == sorted(sizes, reverse=True)  # big chunks first, small ones last
        assert sizes[-1] <= tasks.MIN_CHUNK or len(sizes) == 1
    assert tasks.chunk_sizes(0) == []
    assert tasks.chunk_sizes(1005)[:2] == [200, 200] and len(tasks.chunk_sizes(1005)) == 9


def test_a_chunk_writes_its_acts_in_a_few_statements_whatever_its_size(session) -> None:
    """The chunk reads what it needs and writes each table at once: the statements do not grow with the
    acts (about 18 an act before), and each act still has its document, links, outbox row, events."""
    from app.archive.models import DocumentLink, SearchOutbox

    campaign = _campaign(session)
    approve_campaign(session, campaign, _admin(session), can_approve=True)
    session.commit()
    ids = session.scalars(
        sa.select(CampaignItem.id).where(
            CampaignItem.campaign_id == campaign.id, CampaignItem.status == "da_emettere"
        )
    ).all()
    assert len(ids) > 3
    result = tasks.issue_chunk(campaign.id, campaign.job_id, list(ids))
    assert result["issued"] + result["failed"] == len(ids) and result["issued"] > 3
    assert result["statements"] <= 60, result  # 54 acts here: ~50 statements, ~18 an act before
    session.expire_all()
    acts = session.scalars(sa.select(Act).where(Act.campaign_id == campaign.id)).all()
    assert len(acts) == result["issued"]
    documents = [a.document_id for a in acts]
    links = session.execute(
        sa.select(DocumentLink.kind, DocumentLink.state).where(DocumentLink.document_id.in_(documents))
    ).all()
    assert sorted(links) == sorted([("position", "confirmed"), ("taxpayer", "confirmed")] * len(acts))
    outbox = session.scalar(
        sa.select(sa.func.count(SearchOutbox.id)).where(SearchOutbox.document_id.in_(documents))
    )
    assert outbox == len(acts)
    for kind, count in (("act.issued", len(acts)), ("document.filed", len(acts))):
        events = session.scalars(
            sa.select(Event).where(Event.kind == kind, Event.taxpayer_id.in_([a.taxpayer_id for a in acts]))
        ).all()
        mine = [e for e in events if e.payload.get("document") in documents]
        assert len(mine) == count, kind
    fixed = session.scalars(
        sa.select(Event).where(
            Event.kind == "position.amounts_fixed", Event.position_id.in_([a.position_id for a in acts])
        )
    ).all()
    by_act = {e.payload["act"] for e in fixed if "act" in e.payload}  # (a plan's fixing names no act)
    # the acts' interest and oneri became movements (the demo's own earlier acts on these positions too)
    assert by_act & {a.id for a in acts}


def test_a_stopped_campaign_resumes_where_it_stopped_and_never_issues_twice(session, worker) -> None:
    campaign = _campaign(session)
    approve_campaign(session, campaign, _admin(session), can_approve=True)
    session.commit()
    first = session.scalars(
        sa.select(CampaignItem.id)
        .where(CampaignItem.campaign_id == campaign.id, CampaignItem.status == "da_emettere")
        .order_by(CampaignItem.id)
        .limit(2)
    ).all()
    session.commit()
    tasks.issue_chunk(campaign.id, campaign.job_id, list(first))  # a chunk ran before the stop
    stop_campaign(session, session.get(Campaign, campaign.id))
    session.commit()
    worker()  # the queued job and chunks find the campaign stopped
    session.expire_all()
    assert session.get(Campaign, campaign.id).status == "sospesa"
    assert _items(session, campaign)["emessa"] == 2
    assert session.get(BatchJob, campaign.job_id).status == "cancelled"
    resume_campaign(session, session.get(Campaign, campaign.id), _admin(session))
    session.commit()
    worker()
    session.expire_all()
    done = session.get(Campaign, campaign.id)
    assert done.status == "completata" and "da_emettere" not in _items(session, done)
    acts = session.scalars(sa.select(Act.position_id).where(Act.campaign_id == campaign.id)).all()
    assert len(acts) == len(set(acts)) == done.summary["to_issue"]


def test_four_eyes_needs_a_second_user_with_the_approver_role(session, worker) -> None:
    from app.core.errors import DomainError

    campaign = _campaign(session)
    session.add(
        Parameter(
            code="atti_quattro_occhi",
            ente_id=campaign.ente_id,
            valid_from=dt.date(2020, 1, 1),
            value={"enabled": True},
            source="regolamento dell'ente",
        )
    )
    session.flush()
    with pytest.raises(DomainError, match="utente diverso"):
        approve_campaign(session, campaign, _admin(session), can_approve=True)
    backoffice = user_by_name("backoffice")
    with pytest.raises(DomainError, match="approvatore"):
        approve_campaign(session, campaign, Actor(backoffice.id, "backoffice"), can_approve=False)
    other = Actor(backoffice.id, "backoffice")
    approve_campaign(session, campaign, other, can_approve=True)
    assert campaign.status == "in_corso" and campaign.approved_by_id == backoffice.id


def test_criteria_amount_range_and_no_valid_address(session) -> None:
    from app.taxpayers.models import TaxpayerAddress

    every = _campaign(session, states=["notificata", "scaduta", "caricata", "parzialmente_pagata"])
    items = session.scalars(
        sa.select(CampaignItem).where(
            CampaignItem.campaign_id == every.id, CampaignItem.status == "da_emettere"
        )
    ).all()
    amounts = sorted(i.amount_cents for i in items)
    low, high = amounts[1], amounts[-2]
    ranged = _campaign(
        session,
        states=["notificata", "scaduta", "caricata", "parzialmente_pagata"],
        min_cents=low,
        max_cents=high,
    )
    got = session.scalars(
        sa.select(CampaignItem.amount_cents).where(CampaignItem.campaign_id == ranged.id)
    ).all()
    assert got and all(low <= a <= high for a in got)
    # a taxpayer whose address has no CAP is excluded with the reason
    position_id = items[0].position_id
    from app.positions.models import Position

    taxpayer_id = session.get(Position, position_id).taxpayer_id
    session.execute(
        sa.update(TaxpayerAddress).where(TaxpayerAddress.taxpayer_id == taxpayer_id).values(cap=None)
    )
    session.commit()
    again = _campaign(session, states=["notificata", "scaduta", "caricata", "parzialmente_pagata"])
    item = session.scalars(
        sa.select(CampaignItem).where(
            CampaignItem.campaign_id == again.id, CampaignItem.position_id == position_id
        )
    ).one()
    assert item.status == "esclusa" and item.reason == "indirizzo non valido"
