"""The default ladder of an entrata, its legal thresholds as parameter rows, and the administrator's edits.
Never commit here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.atti.prerequisites import SOLLECITO_THRESHOLD  # one code: the acts check it too
from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.enti.defaults import PARAMETERS as NATIONAL_PARAMETERS
from app.enti.models import Entrata, Parameter
from app.enti.queries import amount_in_force, parameter_rows
from app.escalation.models import ANCHORS, DEFAULT_STATES, EscalationRule, EscalationStep

IPOTECA_THRESHOLD = "ipoteca_min"  # app/enti/defaults.py (D.P.R. 602/1973, art. 77, c. 1-bis)

# The national default of the sollecito threshold (a parameter row of app/enti/defaults.py, domain.md §3),
# ensured here too for an installation whose national defaults predate it.
PARAMETERS: list[dict[str, Any]] = [
    {**row, "valid_from": dt.date.fromisoformat(row["valid_from"])}
    for row in NATIONAL_PARAMETERS
    if row["code"] == SOLLECITO_THRESHOLD
]

# The default ladder (issue 14 item 3): name, act (or procedure), anchor, days, bounds as parameter codes,
# states.
DEFAULT_STEPS: list[dict[str, Any]] = [
    {
        "name": "Ingiunzione",
        "act_code": "ingiunzione",
        "anchor": "scadenza",
        "days": 30,
        "states": ["caricata"],
    },
    {
        "name": "Sollecito (fino alla soglia di legge)",
        "act_code": "sollecito",
        "anchor": "titolo",
        "days": 60,
        "max_parameter": SOLLECITO_THRESHOLD,
    },
    {"name": "Intimazione ad adempiere", "act_code": "intimazione", "anchor": "titolo", "days": 365},
    {"name": "Preavviso di fermo", "act_code": "preavviso_fermo", "anchor": "ultimo_atto", "days": 5},
    {
        "name": "Comunicazione preventiva di ipoteca",
        "act_code": "preavviso_ipoteca",
        "anchor": "ultimo_atto",
        "days": 30,
        "min_parameter": IPOTECA_THRESHOLD,
    },
    # the last step starts a procedure (app/escalation/procedure_steps.py, registered by the procedures
    # slice): only on an overdue position, as its service requires (art. 50 / D.Lgs. 33/2025 art. 146)
    {
        "name": "Pignoramento presso terzi",
        "act_code": "pignoramento",
        "procedure_kind": "pignoramento",
        "options": {"terzo": {"tipo": "banca", "nome": ""}},
        "anchor": "ultimo_atto",
        "days": 30,
        "states": ["scaduta", "parzialmente_pagata"],
    },
]


def ensure_parameters(session: Session) -> int:
    """The national threshold rows this slice reads (missing ones only)."""
    added = 0
    for row in PARAMETERS:
        exists = session.scalar(
            sa.select(Parameter.id).where(
                Parameter.code == row["code"],
                Parameter.ente_id.is_(None),
                Parameter.entrata_id.is_(None),
                Parameter.valid_from == row["valid_from"],
            )
        )
        if exists is None:
            session.add(Parameter(valid_to=None, **row))
            added += 1
    if added:
        session.flush()
    return added


def create_default_rule(session: Session, entrata: Entrata, actor: Actor) -> EscalationRule:
    """The default ladder for an entrata (refused when it has one)."""
    existing = session.scalar(
        sa.select(EscalationRule.id).where(
            EscalationRule.ente_id == entrata.ente_id, EscalationRule.entrata_id == entrata.id
        )
    )
    if existing is not None:
        raise DomainError(f"L'entrata {entrata.code} ha già una regola di escalation.")
    rule = EscalationRule(ente_id=entrata.ente_id, entrata_id=entrata.id, name=f"Escalation {entrata.name}")
    for order, spec in enumerate(DEFAULT_STEPS, start=1):
        rule.steps.append(EscalationStep(sort_order=order, **{"states": list(DEFAULT_STATES), **spec}))
    session.add(rule)
    session.flush()
    record_event(
        session,
        actor,
        "escalation.rule_changed",
        f"Regola «{rule.name}» creata con i passi predefiniti",
        ente_id=entrata.ente_id,
        payload={"rule": rule.id},
    )
    return rule


def ensure_default_rules(session: Session, actor: Actor | None = None) -> int:
    """A default ladder for every entrata without one (demo seed; idempotent)."""
    ensure_parameters(session)
    have = set(session.scalars(sa.select(EscalationRule.entrata_id)))
    added = 0
    for entrata in session.scalars(sa.select(Entrata).order_by(Entrata.id)):
        if entrata.id not in have:
            create_default_rule(session, entrata, actor or Actor.system("escalation"))
            added += 1
    return added


def list_rules(session: Session, principal: Principal) -> list[EscalationRule]:
    stmt = scoped(sa.select(EscalationRule), EscalationRule, principal).options(
        selectinload(EscalationRule.steps),
        selectinload(EscalationRule.entrata),
        selectinload(EscalationRule.ente),
    )
    return list(session.scalars(stmt.order_by(EscalationRule.ente_id, EscalationRule.entrata_id)))


def get_rule(session: Session, principal: Principal, rule_id: int) -> EscalationRule | None:
    stmt = scoped(sa.select(EscalationRule), EscalationRule, principal).where(EscalationRule.id == rule_id)
    return session.scalars(stmt).first()


def update_step(
    session: Session,
    step: EscalationStep,
    actor: Actor,
    *,
    days: int,
    anchor: str,
    min_euro: Decimal | None,
    max_euro: Decimal | None,
    active: bool,
) -> None:
    """An administrator's edit of a step (the previous version stays in the history)."""
    if anchor not in ANCHORS:
        raise DomainError("Decorrenza non valida.")
    if min_euro is not None and max_euro is not None and min_euro > max_euro:
        raise DomainError("La soglia minima supera la massima.")
    before = {
        "days": step.days,
        "anchor": step.anchor,
        "min_cents": step.min_cents,
        "max_cents": step.max_cents,
        "active": step.active,
    }
    step.days, step.anchor, step.active = days, anchor, active
    step.min_cents = None if min_euro is None else int(min_euro * 100)
    step.max_cents = None if max_euro is None else int(max_euro * 100)
    session.flush()
    record_event(
        session,
        actor,
        "escalation.rule_changed",
        f"Regola «{step.rule.name}», passo «{step.name}» modificato",
        ente_id=step.rule.ente_id,
        payload={"rule": step.rule_id, "step": step.id, "before": before},
    )


def bound_cents(
    session: Session, code: str | None, on: dt.date, *, ente_id: int, entrata_id: int
) -> tuple[int, str] | None:
    """A threshold parameter in force on `on` (cents, legal source); None when the step names none or no row
    is in force."""
    if not code:
        return None
    return amount_in_force(parameter_rows(session, ente_id=ente_id, entrata_id=entrata_id), code, on)
