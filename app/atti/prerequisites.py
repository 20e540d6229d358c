"""What must come before a cautelare or esecutiva action (L. 160/2019, art. 1, c. 795): for a debt up to the
threshold of the parameter row `sollecito_obbligatorio_fino_a` (10.000 euro), a sollecito di pagamento sent
to the debtor, and its term (`termine_sollecito`) passed. Checked when a preavviso di fermo or a
comunicazione preventiva di ipoteca is issued (`atti.services.check_position`, single or in a campaign) and
when a pignoramento starts (app/procedures/pignoramento.py); the escalation's ladder meets it in its order
(the sollecito step first), an operator acting by hand meets it here. Never commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.atti.models import Act, ActType
from app.enti.queries import amount_in_force, in_force, parameter_rows
from app.positions.models import Position
from app.reports.formatting import format_date_it, format_eur

SOLLECITO_THRESHOLD = "sollecito_obbligatorio_fino_a"
# The acts that open a cautelare action (their procedure follows them); the pignoramento checks on its own.
AFTER_SOLLECITO = frozenset({"preavviso_fermo", "preavviso_ipoteca"})
SENT = ("inviato", "notificato")  # a sollecito not delivered (non_notificato) does not count


def sollecito_missing(
    session: Session, position: Position, on: dt.date, due_cents: int, cache: dict[Any, Any] | None = None
) -> str | None:
    """Why a cautelare or esecutiva action on `position` on `on` is refused for want of a sollecito (an
    Italian sentence naming the rule and its source), or None when none is needed or it was sent in time.
    `cache`: a campaign's per-batch memo (the rule read once per entrata and day, not once per position)."""
    key = ("c795", position.ente_id, position.entrata_id, on)
    if cache is not None and key in cache:
        rule = cache[key]
    else:
        rule = _rule(session, position, on)
        if cache is not None:
            cache[key] = rule
    if rule is None or due_cents > rule.threshold:
        return None
    return _sent_in_time(session, position, on, due_cents, rule)


@dataclass(frozen=True, slots=True)
class _Rule:
    threshold: int
    source: str
    sollecito_id: int
    days: int
    term_source: str | None


def _rule(session: Session, position: Position, on: dt.date) -> _Rule | None:
    rows = parameter_rows(session, ente_id=position.ente_id, entrata_id=position.entrata_id)
    bound = amount_in_force(rows, SOLLECITO_THRESHOLD, on)
    sollecito = session.scalar(sa.select(ActType).where(ActType.code == "sollecito"))
    if bound is None or sollecito is None:
        return None
    term = in_force(rows, sollecito.term_parameter, on) if sollecito.term_parameter else None
    return _Rule(
        bound[0],
        bound[1],
        sollecito.id,
        int(term["value"]["days"]) if term else 0,
        term["source"] if term else None,
    )


def _sent_in_time(
    session: Session, position: Position, on: dt.date, due_cents: int, rule: _Rule
) -> str | None:
    """The refusal when no sollecito was sent by `on`, or its term has not passed yet; else None."""
    sent = session.scalar(
        sa.select(sa.func.min(sa.func.coalesce(Act.sent_date, Act.notified_date))).where(
            Act.position_id == position.id,
            Act.act_type_id == rule.sollecito_id,
            Act.status.in_(SENT),
            sa.func.coalesce(Act.sent_date, Act.notified_date) <= on,
        )
    )
    bound = f"per debiti fino a {format_eur(rule.threshold)} ({rule.source})"
    if sent is None:
        return (
            f"Dovuti {format_eur(due_cents)}: prima di un'azione cautelare o esecutiva va inviato un "
            f"sollecito di pagamento {bound}; per questa posizione nessun sollecito risulta inviato."
        )
    if on < sent + dt.timedelta(days=rule.days):
        return (
            f"Il sollecito inviato il {format_date_it(sent)} concede {rule.days} giorni per pagare "
            f"({rule.term_source or bound}): l'azione cautelare o esecutiva è possibile dal "
            f"{format_date_it(sent + dt.timedelta(days=rule.days))}, {bound}."
        )
    return None
