"""The escalation's rows on the timeline (app.core.timeline sources): the daily job writes no `events` row per
position; its proposals and skips carry who (the job), when, the step and its rule, and they ARE the record.
The card's timeline and the position monitor show them as

- "Passo «Sollecito» proposto (regola «Escalation TARI»)" for a step the job proposed;
- "Passo «Sollecito» saltato: importo oltre la soglia di 10.000,00 € (L. 160/2019 ...) (regola «...»)" for a
  step not applicable (the bound, with its legal source);
- "Passo «Sollecito» saltato: Sospesa (regola «...»)" for a step a blocker stopped (once per blocker).

The radar's proposals are not here: the operator's proposal from the radar records its own event."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.timeline import PositionFilter, register_timeline_source
from app.escalation import blockers as blocker_registry
from app.escalation.models import EscalationProposal, EscalationRule, EscalationSkip, EscalationStep
from app.escalation.proposals import ACTOR_LABEL


def _text(value: str) -> sa.ColumnElement[str]:
    return sa.literal(value, sa.String)


def _rule_suffix() -> sa.ColumnElement[str]:
    return _text(" (regola «") + sa.func.coalesce(EscalationRule.name, _text("?")) + _text("»)")


def proposal_rows(positions: PositionFilter) -> sa.Select:
    x = EscalationProposal
    step_name = sa.func.coalesce(EscalationStep.name, x.act_code)
    not_applicable = x.status == "non_applicabile"
    return (
        sa.select(
            sa.literal_column("'escalation_proposal'").label("source"),
            x.id.label("row_id"),
            sa.case((not_applicable, _text("escalation.skipped")), else_=_text("escalation.proposed")).label(
                "kind"
            ),
            x.created_dt.label("occurred_dt"),
            x.position_id.label("position_id"),
            _text(ACTOR_LABEL).label("actor_label"),
            sa.case(
                (
                    not_applicable,
                    _text("Passo «")
                    + step_name
                    + _text("» saltato: ")
                    + sa.func.coalesce(x.reason, _text("fuori dai limiti della regola")),
                ),
                else_=_text("Passo «") + step_name + _text("» proposto"),
            )
            .op("||")(_rule_suffix())
            .label("summary"),
        )
        .select_from(x)
        .outerjoin(EscalationStep, EscalationStep.id == x.step_id)
        .outerjoin(EscalationRule, EscalationRule.id == x.rule_id)
        .where(positions(x.position_id), x.origin == "regola")
    )


def skip_rows(positions: PositionFilter) -> sa.Select:
    k = EscalationSkip
    labels = blocker_registry.labels()
    label = sa.case(labels, value=k.blocker, else_=k.blocker) if labels else k.blocker
    return (
        sa.select(
            sa.literal_column("'escalation_skip'").label("source"),
            k.id.label("row_id"),
            _text("escalation.skipped").label("kind"),
            k.created_dt.label("occurred_dt"),
            k.position_id.label("position_id"),
            _text(ACTOR_LABEL).label("actor_label"),
            (_text("Passo «") + EscalationStep.name + _text("» saltato: ") + label + _rule_suffix()).label(
                "summary"
            ),
        )
        .select_from(k)
        .join(EscalationStep, EscalationStep.id == k.step_id)
        .outerjoin(EscalationRule, EscalationRule.id == EscalationStep.rule_id)
        .where(positions(k.position_id))
    )


register_timeline_source("escalation_proposal", proposal_rows)
register_timeline_source("escalation_skip", skip_rows)
