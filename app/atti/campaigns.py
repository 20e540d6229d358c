"""Mass issuance of acts (campaigns). Never commit here (routes and tasks do).

1. `create_campaign`: positions chosen by criteria (carico, entrata, states, amount range, days since
   notification, prescription within N days); each becomes a `CampaignItem`, to issue or excluded with the
   reason (paid, suspended, in a plan, closed, under the minimum, no valid address, deceased: checked first on
   ANPR/INAD by app/registries when REGISTRIES_ENABLED);
2. `approve_campaign`: four eyes when the ente's setting `atti_quattro_occhi` asks (a second user with the
   `acts.approve` permission); the protocol numbers of every item to issue are taken from the archive's
   register in this one transaction; a batch job (app/jobs) is created and `app.atti.tasks.run_campaign`
   enqueued;
3. the job's chunk tasks issue the acts through `app.atti.services.issue_act` (the command line's service);
   `stop_campaign` / `resume_campaign`. A rerun never issues an act twice: an item is issued under its row
   lock only while `da_emettere`, and acts are unique per (campaign, position).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.atti.models import Campaign, CampaignItem
from app.atti.services import ActRefused, act_type_by_code, check_position
from app.core.access import Principal, scoped
from app.core.audit import Actor
from app.core.errors import DomainError
from app.enti.models import Ente, Entrata
from app.enti.queries import in_force, parameter_rows
from app.positions.models import Position
from app.taxpayers.models import Taxpayer

FOUR_EYES = "atti_quattro_occhi"  # parameter row of the ente: {"enabled": true}
TASK = "app.atti.tasks.run_campaign"
QUEUE = "default"
EXCLUDED_STATES = {
    "pagata": "pagata",
    "sospesa": "sospesa",
    "in_rateazione": "in rateazione",
    "sgravata": "sgravata",
    "prescritta": "prescritta",
    "inesigibile": "inesigibile",
}
BATCH = 1000


@dataclass(slots=True)
class Criteria:
    entrata_id: int | None = None
    carico_id: int | None = None
    states: list[str] = field(default_factory=list)
    min_cents: int | None = None
    max_cents: int | None = None
    notified_days: int | None = None  # at least N days since notification
    prescription_days: int | None = None  # prescription within N days

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Criteria:
        return cls(**{k: value.get(k) for k in cls.__slots__ if k in value})  # type: ignore[attr-defined]


def four_eyes(session: Session, ente_id: int, on: dt.date) -> bool:
    row = in_force(parameter_rows(session, ente_id=ente_id), FOUR_EYES, on)
    value = row["value"] if row else None
    return bool(value.get("enabled")) if isinstance(value, dict) else bool(value)


def _candidates(
    session: Session,
    principal: Principal,
    ente_id: int,
    criteria: Criteria,
    on: dt.date,
    position_ids: list[int] | None = None,
) -> list[int]:
    stmt = scoped(sa.select(Position.id), Position, principal).where(Position.ente_id == ente_id)
    if position_ids is not None:  # positions chosen elsewhere (the escalation's approved proposals)
        stmt = stmt.where(Position.id.in_(position_ids))
    if criteria.entrata_id:
        stmt = stmt.where(Position.entrata_id == criteria.entrata_id)
    if criteria.carico_id:
        stmt = stmt.where(Position.carico_id == criteria.carico_id)
    if criteria.states:
        stmt = stmt.where(Position.state.in_(criteria.states))
    if criteria.notified_days is not None:
        stmt = stmt.where(Position.notified_date <= on - dt.timedelta(days=criteria.notified_days))
    return list(session.scalars(stmt.order_by(Position.id)))


def prescription_of(
    session: Session, position: Position, on: dt.date, cache: dict[Any, Any]
) -> dt.date | None:
    """The position's prescription date (engine deadlines; the entrata's regime is a parameter row),
    interrupted by its notification."""
    from app.core.calendar import is_italian_holiday
    from app.engine.deadlines import PrescriptionKind, PrescriptionRegime, prescription_date

    code = f"prescription_{position.entrata.prescription_regime}"
    key = ("prescrizione", position.entrata_id)
    if key not in cache:
        row = in_force(
            parameter_rows(session, ente_id=position.ente_id, entrata_id=position.entrata_id), code, on
        )
        cache[key] = (
            None
            if row is None
            else PrescriptionRegime(
                code,
                PrescriptionKind(row["value"]["kind"]),
                int(row["value"]["years"]),
                row["value"]["label"],
                row["source"],
            )
        )
    regime = cache[key]
    if regime is None:
        return None
    interruptions = [position.notified_date] if position.notified_date else []
    return prescription_date(regime, position.due_date, interruptions, is_italian_holiday).date


def valid_address(taxpayer: Taxpayer) -> bool:
    current = [a for a in taxpayer.addresses if a.valid_to_dt is None]
    return any(
        a.street and a.comune and (a.country != "IT" or (a.cap and len(a.cap) == 5 and a.cap.isdigit()))
        for a in current
    )


@dataclass(slots=True)
class Selection:
    items: list[dict[str, Any]]  # position_id, status, reason, amount_cents

    @property
    def to_issue(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["status"] == "da_emettere"]

    def summary(self) -> dict[str, Any]:
        reasons = Counter(i["reason"] for i in self.items if i["status"] == "esclusa")
        return {
            "selected": len(self.items),
            "to_issue": len(self.to_issue),
            "total_cents": sum(i["amount_cents"] or 0 for i in self.to_issue),
            "excluded": len(self.items) - len(self.to_issue),
            "exclusions": dict(sorted(reasons.items())),
        }


def select_positions(
    session: Session,
    principal: Principal,
    ente_id: int,
    act_code: str,
    criteria: Criteria,
    on: dt.date,
    position_ids: list[int] | None = None,
) -> Selection:
    """The positions matching the criteria, each to issue or excluded with the reason (the pre-checks of the
    issue service, plus: in a plan, no valid address)."""
    from app.positions.amounts import ROME, amounts_due

    act_type = act_type_by_code(session, act_code)
    ids = _candidates(session, principal, ente_id, criteria, on, position_ids)
    items: list[dict[str, Any]] = []
    cache: dict[Any, Any] = {}
    end_of_day = dt.datetime.combine(on, dt.time.max, tzinfo=ROME)
    for start in range(0, len(ids), BATCH):
        _registry_precheck(session, ids[start : start + BATCH])
        positions = list(
            session.scalars(
                sa.select(Position)
                .where(Position.id.in_(ids[start : start + BATCH]))
                .order_by(Position.id)
                .options(
                    selectinload(Position.entrata),
                    selectinload(Position.taxpayer).selectinload(Taxpayer.addresses),
                )
            )
        )
        dues = amounts_due(session, positions, on, booked_by=end_of_day)
        for position in positions:
            due = dues[position.id]
            amount = max(due.total_cents, 0)
            if criteria.min_cents is not None and amount < criteria.min_cents:
                continue
            if criteria.max_cents is not None and amount > criteria.max_cents:
                continue
            if criteria.prescription_days is not None:
                when = prescription_of(session, position, on, cache)
                if when is None or when > on + dt.timedelta(days=criteria.prescription_days):
                    continue
            reason = _exclusion(session, position, act_type, on, due, cache)
            items.append(
                {
                    "position_id": position.id,
                    "status": "esclusa" if reason else "da_emettere",
                    "reason": reason,
                    "amount_cents": amount,
                }
            )
    return Selection(items)


def _registry_precheck(session: Session, position_ids: list[int]) -> None:
    """The registries' pre-notification check (app/registries: ANPR residence and death, INAD) of these
    positions' taxpayers; a no-op unless REGISTRIES_ENABLED and PDND are configured (stored data used)."""
    from app.registries.services import prenotification_check

    def taxpayer_ids() -> Iterator[int]:  # read only when the check is on
        yield from session.scalars(sa.select(Position.taxpayer_id).where(Position.id.in_(position_ids)))

    prenotification_check(session, taxpayer_ids())


def _exclusion(
    session: Session, position: Position, act_type: Any, on: dt.date, due: Any, cache: dict[Any, Any]
) -> str | None:
    if (
        position.state in EXCLUDED_STATES
        and not (act_type.code == "sgravio" and position.state == "sgravata")
        and not (
            act_type.code in ("accoglimento_rateazione", "decadenza_rateazione")
            and position.state == "in_rateazione"
        )
    ):
        return EXCLUDED_STATES[position.state]
    if not valid_address(position.taxpayer):
        return "indirizzo non valido"
    if position.taxpayer.deceased_date is not None:
        return "contribuente deceduto"
    try:
        check_position(session, position, act_type, on, due=due, cache=cache)
    except ActRefused as exc:
        if "soglia minima" in exc.message:
            return "sotto la soglia minima"
        if "Nessun modello" in exc.message:
            return "nessun modello per l'entrata"
        return exc.message[:300]
    return None


def create_campaign(
    session: Session,
    principal: Principal,
    actor: Actor,
    *,
    ente: Ente,
    act_code: str,
    name: str,
    criteria: Criteria,
    issue_date: dt.date,
    position_ids: list[int] | None = None,
) -> Campaign:
    """A campaign in `bozza` with its items (the preview's counts are its `summary`); `position_ids`: only
    those positions (the escalation's approved proposals)."""
    act_type = act_type_by_code(session, act_code)
    selection = select_positions(session, principal, ente.id, act_code, criteria, issue_date, position_ids)
    if not selection.items:
        raise DomainError("Nessuna posizione corrisponde ai criteri indicati.")
    campaign = Campaign(
        ente_id=ente.id,
        act_type_id=act_type.id,
        name=name[:200],
        criteria=criteria.as_json(),
        issue_date=issue_date,
        status="bozza",
        created_by_id=actor.user_id,
        created_by_label=actor.label,
        summary=selection.summary(),
    )
    session.add(campaign)
    session.flush()
    session.execute(
        sa.insert(CampaignItem), [{"campaign_id": campaign.id, **item} for item in selection.items]
    )
    return campaign


def approve_campaign(session: Session, campaign: Campaign, actor: Actor, *, can_approve: bool) -> None:
    """Approve and start: four eyes when the ente asks; protocols taken; the job enqueued after commit."""
    from app.archive.services import reserve_protocols

    if campaign.status != "bozza":
        raise DomainError(f"La campagna è «{campaign.status_label}»: non può essere approvata.")
    if four_eyes(session, campaign.ente_id, campaign.issue_date):
        if not can_approve:
            raise DomainError(
                "L'ente richiede l'approvazione di un secondo utente con il ruolo di approvatore."
            )
        if actor.user_id is not None and actor.user_id == campaign.created_by_id:
            raise DomainError(
                "Controllo a quattro occhi: la campagna va approvata da un utente diverso da chi l'ha creata."
            )
    items = list(
        session.scalars(
            sa.select(CampaignItem.id)
            .where(
                CampaignItem.campaign_id == campaign.id,
                CampaignItem.status == "da_emettere",
                CampaignItem.protocol.is_(None),
            )
            .order_by(CampaignItem.id)
        )
    )
    protocols = reserve_protocols(session, campaign.ente, campaign.issue_date.year, len(items))
    if items:
        session.execute(
            sa.update(CampaignItem), [{"id": i, "protocol": p} for i, p in zip(items, protocols, strict=True)]
        )
    campaign.status = "in_corso"
    campaign.approved_by_id, campaign.approved_by_label = actor.user_id, actor.label
    from app.core.db import utcnow

    campaign.approved_dt = utcnow()
    _start_job(session, campaign, actor)


def _start_job(session: Session, campaign: Campaign, actor: Actor) -> None:
    from app.jobs.services import create_job

    total = session.scalar(
        sa.select(sa.func.count(CampaignItem.id)).where(
            CampaignItem.campaign_id == campaign.id,
            CampaignItem.status.in_(("da_emettere", "emessa", "errore")),
        )
    )
    job = create_job(
        session,
        kind="atti_campagna",
        task=TASK,
        actor=actor,
        ente_id=campaign.ente_id,
        params={"campaign": campaign.id, "name": campaign.name},
        queue_name=QUEUE,
    )
    job.rows_total = int(total or 0)
    campaign.job_id = job.id


def stop_campaign(session: Session, campaign: Campaign) -> None:
    """Stop: the chunk tasks see it before their next act and return; the job ends as cancelled."""
    from app.jobs.models import BatchJob

    if campaign.status != "in_corso":
        raise DomainError("Solo una campagna in corso può essere sospesa.")
    campaign.status = "sospesa"
    if campaign.job_id:
        session.execute(
            sa.update(BatchJob)
            .where(BatchJob.id == campaign.job_id, BatchJob.status.in_(("queued", "running")))
            .values(status="cancelled", phase="Sospesa", eta_seconds=None)
        )


def resume_campaign(session: Session, campaign: Campaign, actor: Actor) -> None:
    if campaign.status != "sospesa":
        raise DomainError("Solo una campagna sospesa può essere ripresa.")
    campaign.status = "in_corso"
    _start_job(session, campaign, actor)


def item_counts(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(CampaignItem.status, sa.func.count())
        .where(CampaignItem.campaign_id == campaign_id)
        .group_by(CampaignItem.status)
    ).all()
    return {status: int(n) for status, n in rows}


def entrate_of(session: Session, ente_id: int) -> list[Entrata]:
    return list(session.scalars(sa.select(Entrata).where(Entrata.ente_id == ente_id).order_by(Entrata.code)))


def euro_to_cents(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).to_integral_value())
