"""Demo data of the escalation: a default ladder per entrata and today's proposals (PostgreSQL only: the
proposals are set-based SQL of PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_escalation_demo(session: Session) -> None:
    from app.escalation.proposals import compute_proposals
    from app.escalation.rules import ensure_default_rules
    from app.positions.amounts import today_rome

    added = ensure_default_rules(session)
    if added and session.get_bind().dialect.name == "postgresql":
        compute_proposals(session, today_rome())
