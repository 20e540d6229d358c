"""Four eyes on the legal numbers: an administrator proposes a new period of a rate or a national
parameter, a second administrator approves it (the proposer cannot) and only then does it take effect,
exactly as a direct change (app/enti/periods.py: the open period closes the day before). A proposal is
checked in full when made (inside a savepoint that is rolled back) and again at approval. Each step leaves
an event; the proposal keeps its history (RowVersion). Services never commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.core.errors import DomainError, NotFound
from app.enti import periods
from app.enti.models import ParameterProposal, RateTable
from app.reports.formatting import format_date_it, format_rate_it


def _apply(session: Session, actor: Actor, proposal: ParameterProposal) -> Any:
    if proposal.kind == "tasso":
        table = periods.get_rate_table(session, proposal.code)
        return periods.add_rate_period(
            session,
            actor,
            table,
            rate=Decimal(proposal.rate or 0),
            valid_from=proposal.valid_from,
            valid_to=proposal.valid_to,
            source=proposal.source,
        )
    return periods.add_parameter_period(
        session,
        actor,
        proposal.code,
        value=proposal.value,
        valid_from=proposal.valid_from,
        valid_to=proposal.valid_to,
        source=proposal.source,
    )


def _what(proposal: ParameterProposal) -> str:
    if proposal.kind == "tasso":
        rate = format_rate_it(proposal.rate)
        return f"tasso «{proposal.code}» {rate} dal {format_date_it(proposal.valid_from)}"
    return f"parametro «{proposal.code}» dal {format_date_it(proposal.valid_from)}"


def propose(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    code: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
    source: str,
    rate: Decimal | None = None,
    value: Any = None,
) -> ParameterProposal:
    """Record a proposed period, pending; refused (FieldError) when the change itself would be refused."""
    if actor.user_id is None:
        raise DomainError("Solo un amministratore può proporre un parametro.")
    pending = session.scalar(
        sa.select(ParameterProposal.id).where(
            ParameterProposal.kind == kind,
            ParameterProposal.code == code,
            ParameterProposal.status == "pending",
        )
    )
    if pending is not None:
        raise periods.FieldError(
            "valid_from",
            "C'è già una proposta in attesa di approvazione per questo valore: va approvata o "
            "respinta prima di proporne un'altra.",
        )
    proposal = ParameterProposal(
        kind=kind,
        code=code,
        rate=rate,
        value=value,
        valid_from=valid_from,
        valid_to=valid_to,
        source=(source or "").strip(),
        status="pending",
        proposed_by_id=actor.user_id,
    )
    savepoint = session.begin_nested()
    try:
        _apply(session, actor, proposal)  # every rule of the direct change, then nothing of it is kept
    finally:
        savepoint.rollback()
    session.add(proposal)
    session.flush()
    record_event(
        session,
        actor,
        "parameter.proposed",
        f"Proposto {_what(proposal)} ({proposal.source}): in attesa dell'approvazione di un secondo "
        "amministratore",
        payload={"proposal": proposal.id, "kind": kind, "code": code},
    )
    return proposal


def get_proposal(session: Session, proposal_id: int, *, lock: bool = False) -> ParameterProposal:
    proposal = session.get(ParameterProposal, proposal_id, with_for_update=lock)
    if proposal is None:
        raise NotFound("Proposta inesistente.")
    return proposal


def _decidable(proposal: ParameterProposal) -> None:
    if proposal.status != "pending":
        raise DomainError(f"La proposta è già stata decisa ({proposal.status_label.lower()}).")


def approve(session: Session, actor: Actor, proposal: ParameterProposal) -> Any:
    """The second pair of eyes: the period takes effect; the proposer cannot approve their own proposal."""
    _decidable(proposal)
    if actor.user_id is None or actor.user_id == proposal.proposed_by_id:
        raise DomainError("Chi ha proposto il valore non può approvarlo: serve un secondo amministratore.")
    row = _apply(session, actor, proposal)
    proposal.status = "approved"
    proposal.decided_by_id = actor.user_id
    proposal.decided_dt = utcnow()
    proposal.applied_row_id = row.id
    record_event(
        session,
        actor,
        "parameter.approved",
        f"Approvato {_what(proposal)}: in vigore dal {format_date_it(proposal.valid_from)}",
        payload={"proposal": proposal.id, "row": row.id, "proposed_by": proposal.proposed_by_id},
    )
    session.flush()
    return row


def reject(session: Session, actor: Actor, proposal: ParameterProposal, *, reason: str) -> None:
    """A second administrator refuses it (or the proposer withdraws it); a reason is required."""
    _decidable(proposal)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise periods.FieldError("reason", "Motivo: indica perché la proposta è respinta.")
    proposal.status = "rejected"
    proposal.decided_by_id = actor.user_id
    proposal.decided_dt = utcnow()
    proposal.decision_note = reason[:1000]
    record_event(
        session,
        actor,
        "parameter.rejected",
        f"Respinto {_what(proposal)}: {reason[:200]}",
        payload={"proposal": proposal.id},
    )
    session.flush()


def table_name(session: Session, code: str) -> str:
    table = session.scalar(sa.select(RateTable.name).where(RateTable.code == code))
    return table or code
