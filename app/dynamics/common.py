"""What every measure shares: the request (who ordered it, the provvedimento, the reason), the position locked
for the change, the state machine's check with the rule named, the measure row. Never commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor
from app.dynamics.models import Measure
from app.dynamics.rules import RULES, DynamicsRefused, refuse
from app.engine.errors import TransitionNotAllowed
from app.engine.states import check_transition
from app.positions.models import Position


@dataclass(frozen=True, slots=True)
class MeasureRequest:
    """What the operator (or the Regione's flow, or an API client) states for a measure."""

    reason: str
    ordered_by: str = "gestore"  # regione | gestore
    act_number: str | None = None  # provvedimento n.
    act_date: dt.date | None = None
    value_date: dt.date | None = None  # default: the provvedimento's date, else today
    source: str = "operatore"  # "operatore", "variazioni n. 3", "API: <token>"
    extra: dict[str, object] = field(default_factory=dict)

    def day(self, today: dt.date) -> dt.date:
        return self.value_date or self.act_date or today


def locked(session: Session, position: Position) -> Position:
    """The position, its row locked until the transaction ends (two operators at once: one waits)."""
    session.execute(sa.select(Position.id).where(Position.id == position.id).with_for_update())
    session.refresh(position)
    return position


def check(position: Position, target: str, rule: str) -> None:
    """The engine's state machine, its refusal completed with the rule and its legal source."""
    try:
        check_transition(position.state, target)
    except TransitionNotAllowed as exc:
        raise DynamicsRefused(
            f"{exc.message_it} ({RULES[rule].text}: {RULES[rule].source}).", rule=rule, state=position.state
        ) from None


def check_date(day: dt.date, today: dt.date) -> None:
    if day > today:
        raise refuse("data_futura", f"Data {day:%d/%m/%Y} successiva a oggi")


def new_measure(
    session: Session,
    position: Position,
    kind: str,
    request: MeasureRequest,
    actor: Actor,
    day: dt.date,
    **values: object,
) -> Measure:
    if request.ordered_by not in ("regione", "gestore"):
        raise DynamicsRefused("Indicare chi ha disposto il provvedimento: Regione o Gestore.")
    measure = Measure(
        position_id=position.id,
        kind=kind,
        ordered_by=request.ordered_by,
        reason=request.reason[:500],
        act_number=request.act_number,
        act_date=request.act_date,
        value_date=day,
        previous_state=position.state,
        source=request.source[:200],
        user_id=actor.user_id,
        user_label=actor.label[:120],
        **values,
    )
    session.add(measure)
    session.flush()
    return measure


def describe(request: MeasureRequest) -> str:
    """ "disposto dalla Regione, provv. n. 12 del 01/03/2026" for summaries and movement sources."""
    who = "dalla Regione" if request.ordered_by == "regione" else "dal Gestore"
    text = f"disposto {who}"
    if request.act_number:
        text += f", provv. n. {request.act_number}"
        if request.act_date:
            text += f" del {request.act_date:%d/%m/%Y}"
    return text
