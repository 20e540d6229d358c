"""Escalation rules as data (per ente + entrata, with history), their ordered steps, the proposals the daily
job computes set-based, and the skips (a blocker stopped a step) recorded once per position, step and
blocker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import IdTest, register_scope, through
from app.core.audit import EVENT_KINDS
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime, utcnow
from app.core.timeline import register_event_group

# Where a step's waiting days run from.
ANCHORS: dict[str, str] = {
    "scadenza": "Scadenza della posizione",
    "titolo": "Notifica del titolo (ingiunzione o accertamento esecutivo)",
    "ultimo_atto": "Notifica dell'ultimo atto della procedura",
}
PROPOSAL_STATUSES: dict[str, str] = {
    "proposta": "Proposta",
    "esclusa": "Esclusa dall'operatore",
    "approvata": "Approvata (in emissione)",
    "emessa": "Atto emesso",
    "notificata": "Atto notificato",
    "non_applicabile": "Passo non applicabile",
}
# statuses that hold the ladder: the step is under way, the next one waits
PENDING = ("proposta", "approvata", "emessa")
# statuses after which the next step may come
SETTLED = ("notificata", "non_applicabile")
# the open states a step may act on by default
DEFAULT_STATES = ["notificata", "scaduta", "parzialmente_pagata"]


def _in(column: str, values: dict[str, str]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class EscalationRule(CreatedMixin, Base):
    """The ladder of one entrata of an ente: ordered steps; edited by an administrator (history kept)."""

    __tablename__ = "escalation_rules"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    entrata_id: Mapped[int] = mapped_column(sa.ForeignKey("entrate.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)

    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="rule", order_by="EscalationStep.sort_order", cascade="all, delete-orphan"
    )
    ente = relationship("Ente")
    entrata = relationship("Entrata")

    __table_args__ = (sa.UniqueConstraint("ente_id", "entrata_id"),)


class EscalationStep(Base):
    """One step of a ladder: the act it issues and its conditions.

    - `anchor` + `days`: at least `days` days since the due date, the title's notification or the last act's;
    - `min_cents` / `max_cents`: the ledger balance, and `min_parameter` / `max_parameter`: the same bound as
      a parameter row in force (value {"amount": "..."}, with its legal source), e.g. the sollecito required
      up to 10.000 euro (L. 160/2019 c. 795): a position outside the bounds skips the step
      (`non_applicabile`);
    - `states`: the position states the step acts on; blockers (app/escalation/blockers.py) stop it;
    - `procedure_kind`: the step starts a procedure (pignoramento presso terzi) instead of issuing an act: its
      approved proposals go through the procedure's service, whose preconditions may refuse a position
      (app/escalation/procedure_steps.py)."""

    __tablename__ = "escalation_steps"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("escalation_rules.id", ondelete="CASCADE"), index=True)
    sort_order: Mapped[int] = mapped_column(sa.SmallInteger)
    name: Mapped[str] = mapped_column(sa.String(120))
    # app.atti act type code; for a step that starts a procedure, the procedure's kind
    act_code: Mapped[str] = mapped_column(sa.String(40))
    # the procedure an approved proposal starts instead of an act (a kind registered in
    # app/escalation/procedure_steps.py, e.g. "pignoramento"), with its options (e.g. the third party)
    procedure_kind: Mapped[str | None] = mapped_column(sa.String(20))
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict, server_default="{}")
    anchor: Mapped[str] = mapped_column(sa.String(12), default="ultimo_atto")
    days: Mapped[int] = mapped_column(sa.Integer, default=0)
    min_cents: Mapped[int | None] = mapped_column(Cents)
    max_cents: Mapped[int | None] = mapped_column(Cents)
    min_parameter: Mapped[str | None] = mapped_column(sa.String(60))
    max_parameter: Mapped[str | None] = mapped_column(sa.String(60))
    states: Mapped[list[str]] = mapped_column(JsonDoc, default=lambda: list(DEFAULT_STATES))
    active: Mapped[bool] = mapped_column(default=True)

    rule: Mapped[EscalationRule] = relationship(back_populates="steps")

    __table_args__ = (
        sa.UniqueConstraint("rule_id", "sort_order"),
        sa.CheckConstraint(_in("anchor", ANCHORS), name="anchor"),
        sa.CheckConstraint("days >= 0", name="days"),
    )

    @property
    def anchor_label(self) -> str:
        return ANCHORS.get(self.anchor, self.anchor)

    @property
    def starts_procedure(self) -> bool:
        return bool(self.procedure_kind)


class EscalationProposal(Base):
    """A position at a step: proposed by the daily job (or from the radar), excluded or approved by an
    operator (then the campaign's act, its notification), or not applicable (the rule's bounds)."""

    __tablename__ = "escalation_proposals"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    # enti.id, escalation_rules.id and escalation_steps.id without foreign key constraints: the daily job
    # writes the same three constants (the rule and step it just read) on every row, and their checks were a
    # third of a step's time (benchmarks/README.md, bench_escalation); rules and steps are never deleted (a
    # step is deactivated, its history kept)
    ente_id: Mapped[int] = mapped_column(sa.Integer)
    rule_id: Mapped[int | None] = mapped_column(sa.Integer)
    step_id: Mapped[int | None] = mapped_column(sa.Integer)
    # positions.id, without a foreign key constraint: its check locks every proposed position's row (FOR KEY
    # SHARE), about half of the daily job's time (benchmarks/README.md, bench_escalation); positions are never
    # deleted (the ledger is append-only) and only the job writes these rows, from positions it just read
    position_id: Mapped[int] = mapped_column(sa.Integer)
    act_code: Mapped[str] = mapped_column(sa.String(40))
    run_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="proposta")
    amount_cents: Mapped[int] = mapped_column(Cents, default=0)  # ledger balance when proposed
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    origin: Mapped[str] = mapped_column(sa.String(12), default="regola")  # regola | radar
    # act_campaigns.id and acts.id, written by the approval and the daily sync from the campaign's own rows
    # (app/atti/campaigns.py, whose items hold the constraints): no constraint here, as its check runs for
    # every row the daily job inserts even on NULL (7% of a step's time at 300,000 positions)
    campaign_id: Mapped[int | None] = mapped_column(sa.Integer)
    act_id: Mapped[int | None] = mapped_column(sa.Integer)
    # procedures.id of a procedure step's proposal, written with the procedure it just started (no foreign key
    # constraint: its check would run, on NULL, for every row the daily job inserts)
    procedure_id: Mapped[int | None] = mapped_column(sa.Integer)
    notified_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    decided_by_label: Mapped[str | None] = mapped_column(sa.String(120))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    step: Mapped[EscalationStep | None] = relationship(
        primaryjoin="foreign(EscalationProposal.step_id) == EscalationStep.id", viewonly=True
    )
    position = relationship(
        "Position", primaryjoin="foreign(EscalationProposal.position_id) == Position.id", viewonly=True
    )

    __table_args__ = (
        sa.CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),
        # one proposal per position and step (the job's rerun proposes nothing twice), and a position's
        # proposals (the job's "nothing pending" check, the radar, the card's timeline): one index for both
        sa.Index("ux_escalation_proposals_position_step", "position_id", "step_id", unique=True),
        # the review (proposals.py review_groups, step_proposals): the waiting and the excluded ones only, so
        # the steps not applicable (a third of the rows) and the settled ones never enter it
        sa.Index(
            "ix_escalation_proposals_review",
            "ente_id",
            "step_id",
            "status",
            postgresql_where=sa.text("status IN ('proposta', 'esclusa')"),
            sqlite_where=sa.text("status IN ('proposta', 'esclusa')"),
        ),
        # the daily sync with the campaigns and the acts (the approved and issued ones only)
        sa.Index(
            "ix_escalation_proposals_in_flight",
            "status",
            postgresql_where=sa.text("status IN ('approvata', 'emessa')"),
            sqlite_where=sa.text("status IN ('approvata', 'emessa')"),
        ),
    )

    @property
    def status_label(self) -> str:
        return PROPOSAL_STATUSES.get(self.status, self.status)


class EscalationSkip(Base):
    """A blocker stopped a step for a position, recorded once per position, step and blocker by the daily job
    (its line on the card's timeline: app/escalation/timeline.py)."""

    __tablename__ = "escalation_skips"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    # positions.id without a foreign key constraint, as the proposals' (see there)
    position_id: Mapped[int] = mapped_column(sa.Integer)
    step_id: Mapped[int] = mapped_column(sa.Integer)  # escalation_steps.id, no constraint (as the proposals')
    blocker: Mapped[str] = mapped_column(sa.String(40))
    run_date: Mapped[dt.date] = mapped_column(sa.Date)
    created_dt: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=sa.func.now()
    )

    __table_args__ = (sa.UniqueConstraint("position_id", "step_id", "blocker"),)


register_scope(EscalationRule, ente=EscalationRule.ente_id)
register_scope(EscalationStep, ente=through(EscalationStep.rule_id))


def _via_position(column: Any, kind: str) -> Callable[[IdTest], sa.ColumnElement[bool]]:
    """`through(column)` for a positions.id column without a foreign key: the position is in scope (its ente
    for staff, its taxpayer for a taxpayer account, as app/positions/models.py registers them)."""

    def condition(test: IdTest) -> sa.ColumnElement[bool]:
        from app.positions.models import Position

        owner = Position.ente_id if kind == "ente" else Position.taxpayer_id
        subquery = sa.select(Position.id).where(test(owner))
        return column.in_(subquery.correlate_except(Position.__table__))

    return condition


register_scope(
    EscalationProposal,
    ente=EscalationProposal.ente_id,
    taxpayer=_via_position(EscalationProposal.position_id, "taxpayer"),
)
register_scope(
    EscalationSkip,
    ente=_via_position(EscalationSkip.position_id, "ente"),
    taxpayer=_via_position(EscalationSkip.position_id, "taxpayer"),
)

EVENT_KINDS.update(
    {
        "escalation.proposed": "Passo della procedura proposto",
        "escalation.approved": "Passo della procedura approvato",
        "escalation.excluded": "Passo della procedura escluso",
        "escalation.skipped": "Passo della procedura saltato",
        "escalation.run": "Proposte giornaliere di escalation",
        "escalation.rule_changed": "Regola di escalation modificata",
        "prescription.reported": "Prescrizione segnalata alla Regione",
    }
)
register_event_group("escalation.", "posizioni")
register_event_group("prescription.", "posizioni")
