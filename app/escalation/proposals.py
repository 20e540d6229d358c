"""The daily proposals, set-based (PostgreSQL), and the operator's review. Never commit here.

`compute_proposals(session, on)`:
1. brings the proposals up to date with their campaigns (act issued, excluded by the campaign's checks) and
   their acts (notified: the next step's clock starts);
2. the open positions of the rules' entrate with their ledger balance, once, into a temporary table;
3. for every active step of every active rule, in order, ONE statement (INSERT ... SELECT with data-modifying
   CTEs, no per-position Python): the positions whose turn it is (their entrata, the previous steps settled,
   nothing pending, the step's waiting days since its anchor) are
   - blocked (any registered blocker holds): a skip row per blocker, once (a rerun writes none again);
   - outside the step's bounds (e.g. the sollecito above the threshold of L. 160/2019 c. 795): the step is
     `non_applicabile`, with the reason naming the legal source;
   - otherwise proposed (`proposta`), to be reviewed.
   One proposal per (step, position): a rerun proposes nothing twice. The rows ARE the record (who: the job,
   when, the step and its rule): no `events` row per position; the card's timeline and the position monitor
   show them through app/escalation/timeline.py. One summary event per run and step (its counts), none when
   the step wrote nothing.

`approve_step`: the step's proposals (minus the excluded) become an act campaign (app/atti/campaigns.py),
approved at once; each position's event names the rule and the campaign. A step that starts a procedure
(pignoramento presso terzi) is approved by app/escalation/procedure_steps.py instead.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.escalation import blockers as blocker_registry
from app.escalation.models import PENDING, SETTLED, EscalationProposal, EscalationRule, EscalationStep
from app.escalation.rules import bound_cents
from app.reports.formatting import format_eur

ACTOR_LABEL = "sistema (escalation)"
CLOSED_STATES = tuple(blocker_registry.CLOSED_STATES)  # no candidates: they left the ladder
JOB_SETTINGS = "SET LOCAL jit = off"
RUN_LOCK = "escalation.compute_proposals"  # the transaction-level advisory lock of a run

_SYNC = (
    # the campaign issued the act
    """UPDATE escalation_proposals x SET status = 'emessa', act_id = ci.act_id
       FROM act_campaign_items ci
       WHERE x.status = 'approvata' AND ci.campaign_id = x.campaign_id AND ci.position_id = x.position_id
         AND ci.status = 'emessa'""",
    # the campaign's own checks excluded it (paid meanwhile, no address...)
    """UPDATE escalation_proposals x
       SET status = 'esclusa', reason = left('Campagna: ' || coalesce(ci.reason, ''), 300)
       FROM act_campaign_items ci
       WHERE x.status = 'approvata' AND ci.campaign_id = x.campaign_id AND ci.position_id = x.position_id
         AND ci.status = 'esclusa'""",
    # the act was notified: the step is settled and the next one's clock starts
    """UPDATE escalation_proposals x SET status = 'notificata', notified_date = a.notified_date
       FROM acts a
       WHERE x.status = 'emessa' AND a.id = x.act_id AND a.notified_date IS NOT NULL""",
)

# The open positions of the rules' entrate with their ledger balance, once per run (one scan of positions and
# one of movements), in position order: every step reads this narrow table instead of scanning the positions
# and joining the balances again; its statistics are taken at once (a temporary table has no autovacuum).
_OPEN = """
CREATE TEMPORARY TABLE esc_open ON COMMIT DROP AS
SELECT p.id, p.ente_id, p.entrata_id, p.taxpayer_id, p.state, p.due_date, p.notified_date,
       coalesce(b.cents, 0)::bigint AS cents
FROM positions p
LEFT JOIN (SELECT m.position_id, sum(m.amount_cents) AS cents
           FROM movements m JOIN positions q ON q.id = m.position_id
           WHERE q.entrata_id = ANY(:entrate) AND q.state NOT IN ({closed})
           GROUP BY m.position_id) b ON b.position_id = p.id
WHERE p.entrata_id = ANY(:entrate) AND p.state NOT IN ({closed})
ORDER BY p.id
"""


@dataclass(slots=True)
class StepOutcome:
    rule_id: int
    step_id: int
    proposed: int = 0
    not_applicable: int = 0
    skipped: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class RunSummary:
    on: dt.date
    steps: list[StepOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "proposed": sum(s.proposed for s in self.steps),
            "not_applicable": sum(s.not_applicable for s in self.steps),
            "skipped": sum(s.skipped for s in self.steps),
            "steps": len(self.steps),
            "seconds": round(self.seconds, 3),
        }


def anchor_sql(step: EscalationStep) -> str:
    """The date a step's waiting days run from, over the alias `p` of positions (code constants only)."""
    if step.anchor == "scadenza":
        return "p.due_date"
    if step.anchor == "titolo":
        return "p.notified_date"
    return "GREATEST(p.notified_date, (SELECT max(a.notified_date) FROM acts a WHERE a.position_id = p.id))"


def candidates_sql(step: EscalationStep, previous: list[int]) -> str:
    """The positions whose turn at `step` it is (its rule's ente + entrata, previous steps settled, nothing
    pending, not proposed at this step yet, not closed, the waiting days passed). Binds :ente, :entrata,
    :step, :cutoff, :previous, :nprevious, :last. Code constants only (no user input is inlined)."""
    title = step.anchor == "scadenza"
    notified = "p.notified_date IS NULL" if title else "p.notified_date IS NOT NULL"
    settled = ", ".join(f"'{s}'" for s in SETTLED)
    pending = ", ".join(f"'{s}'" for s in PENDING)
    # the previous steps settled, as hashed subplans built once (not a count correlated to every position):
    # first the last previous step (a plain set: it rejects at once every position that has not reached it,
    # and when nobody has, the count below is never built), then, beyond one, all of them counted.
    # "OR false" keeps PostgreSQL from pulling the IN up into a semi-join: it estimates the HAVING's groups
    # at a handful and then probes positions by primary key once per settled proposal (a nested loop: 1.4 s
    # instead of 0.6 s for the intimazione at 100,000 positions, EXPLAIN ANALYZE in benchmarks/README.md)
    previous_done = ""
    if previous and not title:
        previous_done = f"""AND (p.id IN (SELECT z.position_id FROM escalation_proposals z
                         WHERE z.step_id = :last AND z.status IN ({settled})) OR false)"""  # nosec B608
    if len(previous) > 1 and not title:
        previous_done += f"""
          AND (p.id IN (SELECT y.position_id FROM escalation_proposals y
                         WHERE y.step_id = ANY(:previous) AND y.status IN ({settled})
                         GROUP BY y.position_id HAVING count(*) = :nprevious) OR false)"""  # nosec B608
    return f"""
        SELECT p.id, p.ente_id, p.entrata_id, p.taxpayer_id, p.state, p.due_date, p.notified_date, p.cents
        FROM esc_open p
        WHERE p.ente_id = :ente AND p.entrata_id = :entrata AND {notified}
          AND {anchor_sql(step)} <= :cutoff
          AND NOT EXISTS (SELECT 1 FROM escalation_proposals x
                          WHERE x.position_id = p.id AND (x.step_id = :step OR x.status IN ({pending})))
          {previous_done}
    """  # nosec B608 - code constants only (anchors, statuses); values are bind parameters


def _blockers_sql() -> tuple[str, dict[str, Any]]:
    """The blocked candidates (`id`, `code`), one scan of `cand` per blocker (no per-row LATERAL). Each
    predicate is a filter of that scan ("OR false", as for the previous steps in `candidates_sql`): an IN of
    the predicate stays a hashed subplan built once instead of a join of the CTE with, say, the taxpayers,
    which the planner nested-looped on a rerun."""
    parts, binds = [], {}
    for i, blocker in enumerate(blocker_registry.blockers()):
        predicate = blocker.predicate  # a registered code constant (blockers.py), never user input
        parts.append(
            f"SELECT p.id, CAST(:bc{i} AS text) AS code FROM cand p WHERE (({predicate}) OR false)"  # nosec B608
        )
        binds[f"bc{i}"] = blocker.code
    return " UNION ALL ".join(parts) or "SELECT NULL::int AS id, NULL::text AS code WHERE false", binds


def step_statement(step: EscalationStep, previous: list[int]) -> str:
    """The one statement of a step (see the module's docstring); returns the three counts. It writes the
    proposals (proposed or not applicable) and the new skips only: no `events` row per position (the rows are
    the record, shown on the timeline by app/escalation/timeline.py). No CTE is joined to another (a nested
    loop over two CTEs is quadratic): the blocked positions are filtered by the predicates themselves and the
    new skips by the skips table as it was before the statement."""
    blockers, _ = _blockers_sql()
    any_blocker = " OR ".join(f"({b.predicate})" for b in blocker_registry.blockers()) or "false"
    out_of_bounds = "(f.cents < CAST(:min_cents AS bigint) OR f.cents > CAST(:max_cents AS bigint))"
    return f"""
WITH cand AS MATERIALIZED ({candidates_sql(step, previous)}),
skip_ins AS (
    INSERT INTO escalation_skips (position_id, step_id, blocker, run_date, created_dt)
    SELECT b.id, :step, b.code, :on, now()
    FROM ({blockers}) b
    ON CONFLICT (position_id, step_id, blocker) DO NOTHING
    RETURNING 1
),
free AS (
    SELECT p.id, p.cents
    FROM cand p
    WHERE p.state = ANY(:states) AND NOT ({any_blocker})
),
prop_ins AS (
    INSERT INTO escalation_proposals
        (ente_id, rule_id, step_id, position_id, act_code, run_date, status, amount_cents, reason, origin,
         created_dt)
    SELECT :ente, :rule, :step, f.id, :act, :on,
           CASE WHEN {out_of_bounds} THEN 'non_applicabile' ELSE 'proposta' END,
           f.cents,
           CASE WHEN f.cents < CAST(:min_cents AS bigint) THEN CAST(:min_reason AS text)
                WHEN f.cents > CAST(:max_cents AS bigint) THEN CAST(:max_reason AS text) END,
           'regola', now()
    FROM free f
    ORDER BY f.id
    RETURNING status
)
SELECT (SELECT count(*) FROM prop_ins WHERE status = 'proposta') AS proposed,
       (SELECT count(*) FROM prop_ins WHERE status = 'non_applicabile') AS not_applicable,
       (SELECT count(*) FROM skip_ins) AS skipped
"""  # nosec B608 - code constants only (registered blocker predicates, anchors); values are bind parameters


def _bound_reason(kind: str, cents: int, source: str) -> str:
    if kind == "min":
        return f"importo sotto la soglia di {format_eur(cents)} ({source})"[:300]
    return f"importo oltre la soglia di {format_eur(cents)} ({source})"[:300]


def active_rules(
    session: Session, ente_ids: list[int] | None = None, rule_ids: list[int] | None = None
) -> list[EscalationRule]:
    stmt = (
        sa.select(EscalationRule)
        .where(EscalationRule.active.is_(True))
        .options(selectinload(EscalationRule.steps))
        .order_by(EscalationRule.id)
    )
    if ente_ids is not None:
        stmt = stmt.where(EscalationRule.ente_id.in_(ente_ids))
    if rule_ids is not None:
        stmt = stmt.where(EscalationRule.id.in_(rule_ids))
    return list(session.scalars(stmt))


def sync_proposals(session: Session) -> None:
    for statement in _SYNC:
        session.execute(sa.text(statement))


def compute_proposals(
    session: Session, on: dt.date, ente_ids: list[int] | None = None, rule_ids: list[int] | None = None
) -> RunSummary:
    """The daily run (see the module's docstring). PostgreSQL only."""
    if session.get_bind().dialect.name != "postgresql":
        raise DomainError("Il calcolo delle proposte di escalation richiede PostgreSQL.")
    started = time.perf_counter()
    # No JIT in this transaction: the later steps' estimates (a correlated max over the acts) pass
    # jit_optimize_above_cost and PostgreSQL spent 0.6 s compiling each of them to scan nothing (EXPLAIN at
    # 1M, benchmarks/README.md). work_mem makes no difference to the job (4MB, 16MB, 128MB: 7.55-7.65 s).
    session.execute(sa.text(JOB_SETTINGS))
    # one run at a time ("Esegui ora" beside the scheduled run): a second run waits for the first to commit,
    # then finds its rows and writes nothing twice
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": RUN_LOCK})
    summary = RunSummary(on)
    rules = active_rules(session, ente_ids, rule_ids)
    sync_proposals(session)
    session.execute(sa.text("DROP TABLE IF EXISTS esc_open"))
    closed = ", ".join(f"'{state}'" for state in CLOSED_STATES)
    session.execute(
        sa.text(_OPEN.format(closed=closed)),  # nosec B608 - code constants only (the closed states)
        {"entrate": sorted({r.entrata_id for r in rules}) or [0]},
    )
    session.execute(sa.text("ANALYZE esc_open"))
    _, blocker_binds = _blockers_sql()
    for rule in rules:
        previous: list[int] = []
        for step in rule.steps:
            if not step.active:
                continue
            t0 = time.perf_counter()
            low = bound_cents(
                session, step.min_parameter, on, ente_id=rule.ente_id, entrata_id=rule.entrata_id
            )
            high = bound_cents(
                session, step.max_parameter, on, ente_id=rule.ente_id, entrata_id=rule.entrata_id
            )
            min_cents = (
                max(x for x in (step.min_cents, low[0] if low else None) if x is not None)
                if (step.min_cents is not None or low)
                else None
            )
            max_cents = (
                min(x for x in (step.max_cents, high[0] if high else None) if x is not None)
                if (step.max_cents is not None or high)
                else None
            )
            min_source = low[1] if low and low[0] == min_cents else "regola dell'ente"
            max_source = high[1] if high and high[0] == max_cents else "regola dell'ente"
            row = session.execute(
                sa.text(step_statement(step, previous)),
                {
                    **blocker_binds,
                    "ente": rule.ente_id,
                    "entrata": rule.entrata_id,
                    "rule": rule.id,
                    "step": step.id,
                    "act": step.act_code,
                    "on": on,
                    "cutoff": on - dt.timedelta(days=step.days),
                    "previous": previous,
                    "nprevious": len(previous),
                    "last": previous[-1] if previous else 0,
                    "states": list(step.states or []),
                    "min_cents": min_cents,
                    "max_cents": max_cents,
                    "min_reason": _bound_reason("min", min_cents, min_source)
                    if min_cents is not None
                    else None,
                    "max_reason": _bound_reason("max", max_cents, max_source)
                    if max_cents is not None
                    else None,
                },
            ).one()
            outcome = StepOutcome(
                rule.id,
                step.id,
                int(row.proposed),
                int(row.not_applicable),
                int(row.skipped),
                time.perf_counter() - t0,
            )
            summary.steps.append(outcome)
            _run_event(session, on, rule, step, outcome)
            if step.anchor != "scadenza":
                previous.append(step.id)
    summary.seconds = time.perf_counter() - started
    return summary


def _run_event(
    session: Session, on: dt.date, rule: EscalationRule, step: EscalationStep, outcome: StepOutcome
) -> None:
    """One event per run and step with its counts (none when the step wrote nothing: a rerun writes nothing
    new); the positions' own lines are the proposals and skips (app/escalation/timeline.py)."""
    if not (outcome.proposed or outcome.not_applicable or outcome.skipped):
        return
    record_event(
        session,
        Actor.system(ACTOR_LABEL),
        "escalation.run",
        f"Escalation del {on:%d/%m/%Y}, regola «{rule.name}», passo «{step.name}»: "
        f"{outcome.proposed} proposte, {outcome.not_applicable} non applicabili, "
        f"{outcome.skipped} saltate per un impedimento",
        ente_id=rule.ente_id,
        payload={
            "on": on.isoformat(),
            "rule": rule.id,
            "rule_name": rule.name,
            "step": step.id,
            "step_name": step.name,
            "act": step.act_code,
            "proposed": outcome.proposed,
            "not_applicable": outcome.not_applicable,
            "skipped": outcome.skipped,
        },
    )


# --- review ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class StepGroup:
    step: EscalationStep
    rule: EscalationRule
    count: int
    total_cents: int


def review_groups(session: Session, principal: Principal, ente_id: int | None = None) -> list[StepGroup]:
    """The proposals waiting for review, by step: counts and totals."""
    stmt = scoped(
        sa.select(
            EscalationProposal.step_id,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(EscalationProposal.amount_cents), 0),
        ),
        EscalationProposal,
        principal,
    ).where(EscalationProposal.status == "proposta", EscalationProposal.step_id.is_not(None))
    if ente_id:
        stmt = stmt.where(EscalationProposal.ente_id == ente_id)
    rows = session.execute(stmt.group_by(EscalationProposal.step_id)).all()
    steps = {
        s.id: s
        for s in session.scalars(
            sa.select(EscalationStep)
            .where(EscalationStep.id.in_([r[0] for r in rows]))
            .options(selectinload(EscalationStep.rule).selectinload(EscalationRule.entrata))
        )
    }
    groups = [StepGroup(steps[r[0]], steps[r[0]].rule, int(r[1]), int(r[2])) for r in rows if r[0] in steps]
    groups.sort(key=lambda g: (g.rule.ente_id, g.rule.entrata_id, g.step.sort_order))
    return groups


def step_proposals(
    session: Session, principal: Principal, step_id: int, *, status: str = "proposta", limit: int = 50
) -> list[EscalationProposal]:
    from app.positions.models import Position

    stmt = (
        scoped(sa.select(EscalationProposal), EscalationProposal, principal)
        .where(EscalationProposal.step_id == step_id, EscalationProposal.status == status)
        .options(selectinload(EscalationProposal.position).selectinload(Position.taxpayer))
        .order_by(EscalationProposal.amount_cents.desc(), EscalationProposal.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def get_step(session: Session, principal: Principal, step_id: int) -> EscalationStep | None:
    stmt = scoped(sa.select(EscalationStep), EscalationStep, principal).where(EscalationStep.id == step_id)
    return session.scalars(stmt.options(selectinload(EscalationStep.rule))).first()


def exclude_proposal(
    session: Session, principal: Principal, actor: Actor, proposal_id: int, note: str
) -> None:
    """The operator takes one position out of a step's proposals (it is not proposed at that step again)."""
    proposal = session.scalars(
        scoped(sa.select(EscalationProposal), EscalationProposal, principal)
        .where(EscalationProposal.id == proposal_id)
        .with_for_update()
    ).first()
    if proposal is None:
        raise DomainError("Proposta non trovata.")
    if proposal.status != "proposta":
        raise DomainError(f"La proposta è «{proposal.status_label}»: non può essere esclusa.")
    proposal.status, proposal.decided_by_label = "esclusa", actor.label
    proposal.reason = (note or "esclusa dall'operatore")[:300]
    step = proposal.step
    rule_name = step.rule.name if step else "radar della prescrizione"
    record_event(
        session,
        actor,
        "escalation.excluded",
        f"Passo «{step.name if step else proposal.act_code}» escluso dall'operatore (regola «{rule_name}»)",
        taxpayer_id=proposal.position.taxpayer_id,
        position_id=proposal.position_id,
        ente_id=proposal.ente_id,
        payload={
            "proposal": proposal.id,
            "rule": proposal.rule_id,
            "rule_name": rule_name,
            "step": proposal.step_id,
            "act": proposal.act_code,
            "note": proposal.reason,
        },
    )


_APPROVED_EVENTS = """
INSERT INTO events (kind, occurred_dt, ente_id, taxpayer_id, position_id, actor_user_id, actor_label, summary,
                    payload)
SELECT 'escalation.approved', now(), x.ente_id, p.taxpayer_id, x.position_id, :user_id, :actor,
       left(:summary, 500),
       jsonb_build_object('rule', x.rule_id, 'rule_name', CAST(:rule_name AS text), 'step', x.step_id,
                          'step_name', CAST(:step_name AS text), 'act', x.act_code, 'campaign', x.campaign_id,
                          'proposal', x.id)
FROM escalation_proposals x JOIN positions p ON p.id = x.position_id
WHERE x.campaign_id = :campaign AND x.status = 'approvata'
"""


def approve_step(
    session: Session,
    principal: Principal,
    actor: Actor,
    step_id: int,
    *,
    issue_date: dt.date,
    can_approve: bool,
) -> int:
    """The step's waiting proposals become one act campaign, approved at once (four eyes when the ente asks:
    then the campaign stays a draft on the acts' page). Returns the campaign's id."""
    from app.atti.campaigns import Criteria, approve_campaign, create_campaign
    from app.enti.models import Ente

    step = get_step(session, principal, step_id)
    if step is None:
        raise DomainError("Passo non trovato.")
    if step.starts_procedure:
        raise DomainError(f"Il passo «{step.name}» avvia una procedura: approvalo dalla sua pagina.")
    rule = step.rule
    ids = list(
        session.scalars(
            scoped(sa.select(EscalationProposal.position_id), EscalationProposal, principal)
            .where(EscalationProposal.step_id == step.id, EscalationProposal.status == "proposta")
            .with_for_update()
        )
    )
    if not ids:
        raise DomainError("Nessuna proposta da approvare per questo passo.")
    ente = session.get(Ente, rule.ente_id)
    campaign = create_campaign(
        session,
        principal,
        actor,
        ente=ente,
        act_code=step.act_code,
        name=f"{rule.name}: {step.name} ({issue_date:%d/%m/%Y})",
        criteria=Criteria(entrata_id=rule.entrata_id),
        issue_date=issue_date,
        position_ids=ids,
    )
    session.execute(
        sa.update(EscalationProposal)
        .where(
            EscalationProposal.step_id == step.id,
            EscalationProposal.status == "proposta",
            EscalationProposal.position_id.in_(ids),
        )
        .values(status="approvata", campaign_id=campaign.id, decided_by_label=actor.label)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.text(_APPROVED_EVENTS),
        {
            "user_id": actor.user_id,
            "actor": actor.label,
            "campaign": campaign.id,
            "rule_name": rule.name,
            "step_name": step.name,
            "summary": f"Passo «{step.name}» approvato: campagna «{campaign.name}» (regola «{rule.name}»)",
        },
    )
    try:
        with session.begin_nested():
            approve_campaign(session, campaign, actor, can_approve=can_approve)
    except DomainError:
        pass  # four eyes: the draft waits for a second approver on the acts' page
    return campaign.id
