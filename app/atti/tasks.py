"""RQ jobs of campaigns: `run_campaign(job_id)` splits the items still to issue into chunks and enqueues one
`issue_chunk` per chunk (any worker takes any chunk: two workers use both cores); each chunk issues its items
under their row locks (`FOR UPDATE SKIP LOCKED`), commits, reports the progress and ETA on the job, and the
last one finishes the job and the campaign. Every task is idempotent: an item is issued only while
`da_emettere`, and a stopped campaign's chunks return at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.extensions import db

CHUNK = 200  # items of a chunk at most
MIN_CHUNK = 50  # items of a chunk at least (a chunk has a fixed cost: ~40 statements, a forked work-horse)
TAPER = 3  # a chunk takes at most this fraction of the items left, so the last chunks are small
CHECK_EVERY = 20  # items between two looks at the campaign's status (stop)


def run_campaign(job_id: int) -> dict[str, Any] | None:
    """Enqueue the chunks of the campaign of batch job `job_id` (after commit)."""
    from app.atti.campaigns import QUEUE
    from app.atti.models import Campaign, CampaignItem
    from app.core.db import utcnow
    from app.core.jobs import enqueue_after_commit
    from app.jobs.models import BatchJob

    session = db.session
    job = session.get(BatchJob, job_id)
    if job is None or job.status not in ("queued", "running"):
        return None
    campaign = session.get(Campaign, int(job.params["campaign"]))
    if campaign is None or campaign.status != "in_corso":
        return None
    ids = list(
        session.scalars(
            sa.select(CampaignItem.id)
            .where(CampaignItem.campaign_id == campaign.id, CampaignItem.status == "da_emettere")
            .order_by(CampaignItem.id)
        )
    )
    job.status, job.phase, job.heartbeat_dt = "running", "Emissione degli atti", utcnow()
    job.started_dt = job.started_dt or utcnow()
    chunks, start = [], 0
    for size in chunk_sizes(len(ids)):
        chunks.append(ids[start : start + size])
        start += size
    for chunk in chunks:
        enqueue_after_commit(session, issue_chunk, campaign.id, job.id, chunk, queue_name=QUEUE)
    session.commit()
    if not chunks:
        finish_if_done(campaign.id, job.id)
    return {"chunks": len(chunks), "items": len(ids)}


def chunk_sizes(items: int) -> list[int]:
    """The chunks' sizes, in queue order: CHUNK items while many are left, then a 1/TAPER share of what is
    left (MIN_CHUNK at least), so the chunks get smaller towards the end and the workers, each taking the next
    chunk when free, finish within a small chunk of each other (equal chunks left one worker idle for up to a
    whole chunk: 1005 acts in chunks of 200 were 3 chunks for one worker, 2 and 5 acts for the other)."""
    sizes: list[int] = []
    left = items
    while left > 0:
        size = min(CHUNK, max(MIN_CHUNK, -(-left // TAPER)), left)
        sizes.append(size)
        left -= size
    return sizes


@contextlib.contextmanager
def counted_statements() -> Iterator[list[int]]:
    """Count the SQL statements run meanwhile (the chunk's result reports them: benchmarks/bench_acts.py)."""
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def issue_chunk(campaign_id: int, job_id: int, item_ids: list[int]) -> dict[str, int]:
    """Issue the chunk's items still to issue (see `_issue_chunk`); the result counts the SQL statements."""
    with counted_statements() as counter:
        result = _issue_chunk(campaign_id, job_id, item_ids)
    return {**result, "statements": counter[0]}


def _issue_chunk(campaign_id: int, job_id: int, item_ids: list[int]) -> dict[str, int]:
    """Issue the chunk's items still to issue; a refused one is `errore` with the reason (its protocol stays
    in the register, annulled)."""
    from app.atti.bulk import Request, issue_many
    from app.atti.models import Campaign, CampaignItem
    from app.core.audit import Actor
    from app.payments.models import NoticeNumber
    from app.positions.amounts import ROME, amounts_due
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    session = db.session
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "in_corso":
        session.rollback()
        return {"issued": 0, "failed": 0}
    actor = Actor(user_id=campaign.approved_by_id, label=f"campagna {campaign.id}")
    act_type, on = campaign.act_type, campaign.issue_date
    items = list(
        session.scalars(
            sa.select(CampaignItem)
            .where(CampaignItem.id.in_(item_ids), CampaignItem.status == "da_emettere")
            .order_by(CampaignItem.id)
            .with_for_update(skip_locked=True)
        )
    )
    positions = {
        p.id: p
        for p in session.scalars(
            sa.select(Position)
            .where(Position.id.in_([i.position_id for i in items]))
            .options(
                selectinload(Position.entrata),
                selectinload(Position.ente),
                selectinload(Position.taxpayer).selectinload(Taxpayer.addresses),
            )
        )
    }
    end_of_day = dt.datetime.combine(on, dt.time.max, tzinfo=ROME)
    dues = amounts_due(session, list(positions.values()), on, booked_by=end_of_day)
    cache: dict[Any, Any] = {
        ("avviso", pid): number
        for pid, number in session.execute(
            sa.select(NoticeNumber.position_id, NoticeNumber.notice_number).where(
                NoticeNumber.position_id.in_(list(positions)),
                NoticeNumber.item_kind == "posizione",
                NoticeNumber.item_ref == "",
            )
        )
    }  # the codici avviso of the chunk read at once
    items_by_id = {item.id: item for item in items}
    outcomes = issue_many(
        session,
        [Request(i.id, positions[i.position_id], i.protocol, dues[i.position_id]) for i in items],
        act_type,
        on,
        actor,
        file_store=current_app.config["FILE_STORE"],
        campaign_id=campaign_id,
        cache=cache,
        stopped=lambda: _stopped(campaign_id),
        check_every=CHECK_EVERY,
    )
    issued = failed = 0
    for outcome in outcomes:
        item = items_by_id[outcome.key]
        if outcome.act_id is not None:
            item.status, item.act_id, item.amount_cents = "emessa", outcome.act_id, outcome.amount_cents
            issued += 1
        else:
            item.status = "errore"
            item.reason = f"{outcome.refusal} (protocollo {item.protocol} annullato)"[:300]
            failed += 1
    session.commit()
    _progress(campaign_id, job_id)
    finish_if_done(campaign_id, job_id)
    return {"issued": issued, "failed": failed}


def _stopped(campaign_id: int) -> bool:
    from app.atti.models import Campaign

    status = db.session.execute(sa.select(Campaign.status).where(Campaign.id == campaign_id)).scalar()
    return status != "in_corso"


def _progress(campaign_id: int, job_id: int) -> None:
    from app.atti.models import CampaignItem
    from app.core.db import utcnow
    from app.jobs.models import BatchJob

    session = db.session
    done = (
        session.scalar(
            sa.select(sa.func.count(CampaignItem.id)).where(
                CampaignItem.campaign_id == campaign_id, CampaignItem.status.in_(("emessa", "errore"))
            )
        )
        or 0
    )
    job = session.get(BatchJob, job_id)
    if job is None or job.status != "running":
        session.rollback()
        return
    eta = None
    if job.rows_total and done and job.started_dt:
        elapsed = (utcnow() - job.started_dt).total_seconds()
        previous = int((job.result or {}).get("done_before", 0))
        rate = max(done - previous, 1) / max(elapsed, 0.001)
        eta = int(max(job.rows_total - done, 0) / rate)
    session.execute(
        sa.update(BatchJob)
        .where(BatchJob.id == job_id, BatchJob.status == "running")
        .values(rows_done=done, eta_seconds=eta, heartbeat_dt=utcnow())
    )
    session.commit()


def finish_if_done(campaign_id: int, job_id: int) -> None:
    """The last chunk closes the campaign and its job (a conditional update: only once)."""
    from app.atti.campaigns import item_counts
    from app.atti.models import Campaign, CampaignItem
    from app.core.db import utcnow
    from app.jobs.models import BatchJob

    session = db.session
    left = session.scalar(
        sa.select(sa.func.count(CampaignItem.id)).where(
            CampaignItem.campaign_id == campaign_id, CampaignItem.status == "da_emettere"
        )
    )
    if left:
        session.rollback()
        return
    closed = session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "in_corso")
        .values(status="completata")
    ).rowcount
    if closed:
        counts = item_counts(session, campaign_id)
        session.execute(
            sa.update(BatchJob)
            .where(BatchJob.id == job_id, BatchJob.status == "running")
            .values(
                status="done",
                finished_dt=utcnow(),
                eta_seconds=None,
                phase="Completato",
                rows_done=counts.get("emessa", 0) + counts.get("errore", 0),
                result={
                    "status": "completata",
                    "issued": counts.get("emessa", 0),
                    "failed": counts.get("errore", 0),
                    "excluded": counts.get("esclusa", 0),
                    "accepted": counts.get("emessa", 0),
                    "rejected": counts.get("errore", 0),
                },
            )
        )
    session.commit()


def wait_idle(seconds: float) -> None:  # pragma: no cover - used by the benchmark's polling
    time.sleep(seconds)
