"""The procedures' use cases behind one entry point per screen: `start(...)` of a kind and `apply(...)` of an
operation on a procedure (each checked by the kind's state machine, `machine.py`). Never commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.procedures import common, fermo, insinuazione, ipoteca, pignoramento
from app.procedures.machine import ProcedureRefused, check
from app.procedures.models import Procedure


@dataclass(frozen=True, slots=True)
class Operation:
    """What the operator asked on a procedure's page."""

    code: str
    on: dt.date
    note: str | None = None
    amount_cents: int | None = None
    outcome: str | None = None
    document_protocol: str | None = None  # an archive document of the ente proving the step


def apply(
    session: Session, principal: Principal, actor: Actor, procedure_id: int, op: Operation
) -> Procedure:
    procedure = common.get_procedure(session, principal, procedure_id, lock=True)
    kind, code = procedure.kind, op.code
    document_id = _document(session, principal, procedure, op.document_protocol)
    steps_before = len(procedure.steps)
    if op.on < procedure.started_on:
        raise ProcedureRefused("La data non può precedere l'avvio della procedura.")
    if code == "notifica_preavviso" and kind == "fermo":
        fermo.notify(session, procedure, actor, op.on)
    elif code == "notifica_preavviso" and kind == "ipoteca":
        ipoteca.notify(session, procedure, actor, op.on)
    elif code == "dichiarazione_strumentale" and kind == "fermo":
        fermo.declare_strumentale(session, procedure, actor, op.on, op.note)
    elif code == "iscrizione" and kind == "fermo":
        fermo.register(session, procedure, actor, op.on)
    elif code == "iscrizione" and kind == "ipoteca":
        ipoteca.register(session, procedure, actor, op.on)
    elif code == "richiesta_cancellazione" and kind == "fermo":
        check(kind, procedure.state, code)
        fermo.request_cancellation(session, procedure, actor, op.on)
    elif code == "richiesta_cancellazione" and kind == "ipoteca":
        check(kind, procedure.state, code)
        ipoteca.request_cancellation(session, procedure, actor, op.on)
    elif code == "cancellazione":
        common.add_step(session, procedure, actor, code, op.on, note=op.note)
    elif code == "notifica_terzo":
        pignoramento.notify_third_party(session, procedure, actor, op.on)
    elif code == "pagamento_terzo":
        if not op.amount_cents or op.amount_cents <= 0:
            raise ProcedureRefused("Indica l'importo pagato dal terzo.")
        pignoramento.record_payment(session, principal, procedure, actor, op.on, op.amount_cents)
    elif code == "deposito_domanda":
        check(kind, procedure.state, code)
        insinuazione.file_claim(session, procedure, actor, op.on, op.amount_cents or 0)
    elif code == "esito":
        check(
            kind, procedure.state, code, outcome=op.outcome if op.outcome in insinuazione.OUTCOMES else None
        )
        insinuazione.outcome(session, procedure, actor, op.on, op.outcome or "", op.amount_cents, op.note)
    elif code in ("chiusura", "annullamento", "dichiarazione_negativa"):
        if code != "chiusura" and not (op.note or "").strip():
            raise ProcedureRefused("Indica il motivo.")
        common.add_step(session, procedure, actor, code, op.on, note=op.note)
        if op.note:
            procedure.outcome = op.note.strip()[:300]
        if code == "chiusura" and kind == "insinuazione" and procedure.insolvency is not None:
            # the claim's procedure ends with the insolvency proceeding: the taxpayer leaves the blocker
            procedure.insolvency.closed_on = procedure.insolvency.closed_on or op.on
    else:
        check(kind, procedure.state, code)  # refuses with the machine's reason
        raise ProcedureRefused("Operazione non disponibile.")
    if document_id is not None:
        step = procedure.steps[steps_before]  # the step this operation recorded
        step.document_id = step.document_id or document_id
    return procedure


def _document(
    session: Session, principal: Principal, procedure: Procedure, protocol: str | None
) -> int | None:
    """The archive document of the procedure's ente with that protocol (scoped), or ProcedureRefused."""
    import sqlalchemy as sa

    from app.archive.models import Document
    from app.core.access import scoped

    protocol = (protocol or "").strip()
    if not protocol:
        return None
    document_id = session.scalar(
        scoped(sa.select(Document.id), Document, principal)
        .where(Document.ente_id == procedure.ente_id, Document.protocol == protocol)
        .order_by(Document.attachment_no)
        .limit(1)
    )
    if document_id is None:
        raise ProcedureRefused(f"Nessun documento dell'archivio con protocollo «{protocol}» per questo ente.")
    return document_id
