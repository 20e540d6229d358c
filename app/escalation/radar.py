"""The prescription radar: every open position's prescription date from its entrata's regime (a parameter row)
and its interrupting acts, through the engine (app/engine/deadlines.py); the positions prescribing within N
days with the act that would interrupt it (the next step of its ladder); the daily move of prescribed
positions to `prescritta` (engine state machine, event). Never commit here.

SQL narrows the positions first (a date that can only be later than the engine's: the term from the due date
or from the last interrupting notification, whichever is later), the engine then decides each one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.calendar import is_italian_holiday
from app.core.errors import DomainError
from app.engine.deadlines import Prescription, PrescriptionKind, PrescriptionRegime, prescription_date
from app.engine.params import engine_params_from_rows
from app.engine.states import allowed_targets, check_transition
from app.enti.models import Entrata
from app.enti.queries import parameter_rows
from app.escalation.models import PENDING, SETTLED, EscalationProposal, EscalationRule, EscalationStep
from app.positions.models import Position

# the states from which a position may prescribe (app/engine/states.py)
PRESCRIBABLE = tuple(
    s
    for s in ("caricata", "notificata", "scaduta", "parzialmente_pagata", "in_procedura", "inesigibile")
    if "prescritta" in allowed_targets(s)
)
SHIFT_DAYS = 7  # Sundays and holidays move a term forward by a few days at most (art. 2963 c. 3 c.c.)
CHUNK = 2000


def regime_of(session: Session, entrata: Entrata, on: dt.date) -> PrescriptionRegime | None:
    rows = parameter_rows(session, ente_id=entrata.ente_id, entrata_id=entrata.id)
    return engine_params_from_rows(rows, on).prescription_regimes.get(entrata.prescription_regime)


def _latest_date_sql(regime: PrescriptionRegime, column: str) -> str:
    """The SQL of the naive last day (a superset filter): the term from the due date, or from the last
    interrupting notification. `regime.years` is an int of a parameter row, inlined as a number."""
    years = int(regime.years)
    if regime.kind is PrescriptionKind.END_OF_YEAR:
        base = f"make_date(CAST(extract(year FROM positions.due_date) AS int) + {years}, 12, 31)"
    else:
        base = f"CAST(positions.due_date + make_interval(years => {years}) AS date)"
    last = (
        "GREATEST(positions.notified_date, (SELECT max(a.notified_date) FROM acts a"
        " JOIN act_types t ON t.id = a.act_type_id"
        " WHERE a.position_id = positions.id AND t.interrupts_prescription))"
    )
    if column == "base":
        return base
    return f"GREATEST({base}, CAST({last} + make_interval(years => {years}) AS date))"


def interruptions_of(session: Session, position_ids: list[int]) -> dict[int, list[dt.date]]:
    """The notification dates of each position's interrupting acts (and its title's notification)."""
    from app.atti.models import Act, ActType

    found: dict[int, list[dt.date]] = {pid: [] for pid in position_ids}
    rows = session.execute(
        sa.select(Act.position_id, Act.notified_date)
        .join(ActType, ActType.id == Act.act_type_id)
        .where(
            Act.position_id.in_(position_ids),
            Act.notified_date.is_not(None),
            ActType.interrupts_prescription.is_(True),
        )
    ).all()
    for pid, day in rows:
        found[pid].append(day)
    return found


def prescriptions(
    session: Session, positions: list[Position], regime: PrescriptionRegime
) -> dict[int, Prescription]:
    dates = interruptions_of(session, [p.id for p in positions])
    result = {}
    for position in positions:
        interruptions = list(dates[position.id])
        if position.notified_date:
            interruptions.append(position.notified_date)
        result[position.id] = prescription_date(regime, position.due_date, interruptions, is_italian_holiday)
    return result


@dataclass(slots=True)
class RadarRow:
    position: Position
    prescription: Prescription
    days_left: int
    step: EscalationStep | None  # the act that would interrupt it: the next step of its ladder
    pending: EscalationProposal | None  # a proposal already under way


def _candidate_ids(
    session: Session,
    principal: Principal,
    entrata: Entrata,
    regime: PrescriptionRegime,
    until: dt.date,
    column: str,
) -> list[int]:
    stmt = scoped(sa.select(Position.id), Position, principal).where(
        Position.ente_id == entrata.ente_id,
        Position.entrata_id == entrata.id,
        Position.state.in_(PRESCRIBABLE),
    )
    stmt = stmt.where(sa.text(f"{_latest_date_sql(regime, column)} <= :until")).params(until=until)
    return list(session.scalars(stmt.order_by(Position.id)))


def radar(
    session: Session, principal: Principal, *, ente_id: int, on: dt.date, days: int, limit: int = 500
) -> list[RadarRow]:
    """The positions of the ente prescribing within `days` days from `on`, soonest first."""
    horizon = on + dt.timedelta(days=days)
    rows: list[RadarRow] = []
    entrate = session.scalars(
        scoped(sa.select(Entrata), Entrata, principal).where(Entrata.ente_id == ente_id).order_by(Entrata.id)
    ).all()
    for entrata in entrate:
        regime = regime_of(session, entrata, on)
        if regime is None:
            continue
        ids = _candidate_ids(
            session, principal, entrata, regime, horizon + dt.timedelta(days=SHIFT_DAYS), "latest"
        )
        for start in range(0, len(ids), CHUNK):
            positions = list(
                session.scalars(
                    sa.select(Position)
                    .where(Position.id.in_(ids[start : start + CHUNK]))
                    .options(selectinload(Position.taxpayer), selectinload(Position.entrata))
                )
            )
            dates = prescriptions(session, positions, regime)
            for position in positions:
                when = dates[position.id]
                if on <= when.date <= horizon:
                    rows.append(RadarRow(position, when, (when.date - on).days, None, None))
    rows.sort(key=lambda r: (r.prescription.date, r.position.id))
    rows = rows[:limit]
    _attach_next_steps(session, rows)
    return rows


def _attach_next_steps(session: Session, rows: list[RadarRow]) -> None:
    if not rows:
        return
    ids = [r.position.id for r in rows]
    proposals = session.scalars(
        sa.select(EscalationProposal).where(EscalationProposal.position_id.in_(ids))
    ).all()
    by_position: dict[int, list[EscalationProposal]] = {}
    for proposal in proposals:
        by_position.setdefault(proposal.position_id, []).append(proposal)
    rules = {
        (r.ente_id, r.entrata_id): r
        for r in session.scalars(sa.select(EscalationRule).options(selectinload(EscalationRule.steps)))
    }
    for row in rows:
        mine = by_position.get(row.position.id, [])
        row.pending = next((p for p in mine if p.status in PENDING), None)
        rule = rules.get((row.position.ente_id, row.position.entrata_id))
        row.step = next_step(rule, row.position, mine) if rule and rule.active else None


def next_step(
    rule: EscalationRule, position: Position, proposals: list[EscalationProposal]
) -> EscalationStep | None:
    """The first active step of the ladder the position has not gone through (the title when not notified)."""
    done = {p.step_id for p in proposals if p.status in SETTLED or p.status in PENDING}
    for step in rule.steps:
        if not step.active:
            continue
        if step.anchor == "scadenza":
            if position.notified_date is None and step.id not in done:
                return step
            continue
        if position.notified_date is not None and step.id not in done:
            return step
    return None


def propose_from_radar(
    session: Session, principal: Principal, actor: Actor, *, position_id: int, step_id: int, on: dt.date
) -> EscalationProposal:
    """The radar's link: propose the act that would interrupt the prescription (reviewed like the others)."""
    position = session.scalars(
        scoped(sa.select(Position), Position, principal).where(Position.id == position_id)
    ).first()
    step = session.get(EscalationStep, step_id)
    if position is None or step is None:
        raise DomainError("Posizione o passo non trovati.")
    rule = step.rule
    if (rule.ente_id, rule.entrata_id) != (position.ente_id, position.entrata_id):
        raise DomainError("Il passo non appartiene alla regola della posizione.")
    existing = session.scalar(
        sa.select(EscalationProposal.id).where(
            EscalationProposal.position_id == position.id,
            sa.or_(EscalationProposal.step_id == step.id, EscalationProposal.status.in_(PENDING)),
        )
    )
    if existing is not None:
        raise DomainError("Per la posizione c'è già una proposta per questo passo o in corso.")
    balance = session.scalar(
        sa.text("SELECT coalesce(sum(amount_cents), 0) FROM movements WHERE position_id = :p"),
        {"p": position.id},
    )
    proposal = EscalationProposal(
        ente_id=position.ente_id,
        rule_id=rule.id,
        step_id=step.id,
        position_id=position.id,
        act_code=step.act_code,
        run_date=on,
        status="proposta",
        amount_cents=int(balance or 0),
        origin="radar",
        decided_by_label=actor.label,
    )
    session.add(proposal)
    session.flush()
    record_event(
        session,
        actor,
        "escalation.proposed",
        f"Passo «{step.name}» proposto dal radar della prescrizione (regola «{rule.name}»)",
        taxpayer_id=position.taxpayer_id,
        position_id=position.id,
        ente_id=position.ente_id,
        payload={
            "proposal": proposal.id,
            "rule": rule.id,
            "rule_name": rule.name,
            "step": step.id,
            "act": step.act_code,
            "origin": "radar",
        },
    )
    return proposal


def mark_prescribed(session: Session, on: dt.date, actor: Actor | None = None) -> int:
    """Positions whose prescription date is before `on` move to `prescritta` (engine state machine), each with
    its event naming the term and its legal source. Returns how many."""
    from app.core.access import Principal as _P
    from app.enti.models import Ente

    actor = actor or Actor.system("sistema (prescrizione)")
    principal = _P(role="admin", ente_ids=frozenset(session.scalars(sa.select(Ente.id))))
    moved = 0
    for entrata in session.scalars(sa.select(Entrata).order_by(Entrata.id)).all():
        regime = regime_of(session, entrata, on)
        if regime is None:
            continue
        ids = _candidate_ids(session, principal, entrata, regime, on - dt.timedelta(days=1), "base")
        for start in range(0, len(ids), CHUNK):
            positions = list(
                session.scalars(sa.select(Position).where(Position.id.in_(ids[start : start + CHUNK])))
            )
            dates = prescriptions(session, positions, regime)
            for position in positions:
                when = dates[position.id]
                if when.date >= on or position.state == "prescritta":
                    continue
                previous = position.state
                check_transition(previous, "prescritta")
                position.state = "prescritta"
                record_event(
                    session,
                    actor,
                    "position.state_changed",
                    f"Posizione {position.external_id}: da «{previous}» a «prescritta» (prescrizione "
                    f"maturata il {when.date:%d/%m/%Y}, {when.term}, {when.source})",
                    taxpayer_id=position.taxpayer_id,
                    position_id=position.id,
                    ente_id=position.ente_id,
                    payload={
                        "from": previous,
                        "to": "prescritta",
                        "operation": "prescrizione",
                        "prescription_date": when.date.isoformat(),
                        "term": when.term,
                        "source": when.source,
                        "from_date": when.start.isoformat(),
                    },
                )
                moved += 1
            session.flush()
    return moved


def report_rows(rows: list[RadarRow]) -> list[dict[str, Any]]:
    return [
        {
            "id_posizione": r.position.external_id,
            "contribuente": r.position.taxpayer.display_name,
            "codice_fiscale": r.position.taxpayer.codice_fiscale,
            "entrata": r.position.entrata.name,
            "stato": r.position.state,
            "prescrizione": r.prescription.date,
            "giorni": r.days_left,
            "termine": f"{r.prescription.term} ({r.prescription.source})",
            "atto_interruttivo": r.step.name if r.step else "",
        }
        for r in rows
    ]
