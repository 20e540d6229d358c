"""Insinuazione al passivo: the taxpayer's insolvency proceeding (court, opening date, deadline for filing
claims: D.Lgs. 14/2019, artt. 200-201), the amount filed and the outcome (ammessa, ammessa in parte,
esclusa). A claim filed after the deadline is kept as *tardiva* (art. 208). Never commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor, record_event
from app.procedures import common
from app.procedures.machine import ProcedureRefused
from app.procedures.models import INSOLVENCY_KINDS, InsolvencyProceeding, Procedure
from app.reports.formatting import format_date_it, format_eur

SOURCE = "D.Lgs. 14/2019, artt. 200, 201 e 208"
OUTCOMES = {"ammessa": "Ammessa", "ammessa_parzialmente": "Ammessa in parte", "esclusa": "Esclusa"}


def start(
    session: Session,
    principal: Principal,
    actor: Actor,
    position_id: int,
    *,
    proceeding_kind: str,
    court: str,
    case_number: str | None,
    opened_on: dt.date,
    filing_deadline: dt.date,
    on: dt.date,
) -> Procedure:
    position = common.get_position(session, principal, position_id)
    if position.state in ("pagata", "sgravata", "prescritta"):
        common.refuse_closed_position(position, "insinuazione")
    if proceeding_kind not in INSOLVENCY_KINDS:
        raise ProcedureRefused("Indica il tipo di procedura concorsuale.")
    if not court.strip():
        raise ProcedureRefused("Indica il tribunale della procedura concorsuale.")
    if filing_deadline < opened_on:
        raise ProcedureRefused("Il termine per le domande non può precedere l'apertura della procedura.")
    proceeding = InsolvencyProceeding(
        ente_id=position.ente_id,
        taxpayer_id=position.taxpayer_id,
        kind=proceeding_kind,
        court=court.strip()[:200],
        case_number=(case_number or "").strip()[:60] or None,
        opened_on=opened_on,
        filing_deadline=filing_deadline,
    )
    session.add(proceeding)
    session.flush()
    record_event(
        session,
        actor,
        "insolvency.recorded",
        f"{proceeding.kind_label} aperta il {format_date_it(opened_on)} dal {proceeding.court}; "
        "domande entro "
        f"il {format_date_it(filing_deadline)}",
        taxpayer_id=position.taxpayer_id,
        ente_id=position.ente_id,
        payload={"insolvency": proceeding.id, "kind": proceeding_kind},
    )
    due = common.amount_due_cents(session, position, on)
    common.enter_procedure(session, position, actor, "insinuazione", on)
    procedure = common.new_procedure(position, "insinuazione", on, actor, amount_cents=due, details={})
    procedure.insolvency_id = proceeding.id
    common.add_step(
        session,
        procedure,
        actor,
        "avvio",
        on,
        to_state="da_insinuare",
        due_date=filing_deadline,
        summary=f"Insinuazione al passivo: {proceeding.kind_label} presso {proceeding.court}, "
        f"domanda entro il {format_date_it(filing_deadline)}",
    )
    return procedure


def file_claim(
    session: Session,
    procedure: Procedure,
    actor: Actor,
    on: dt.date,
    amount_cents: int,
    document_id: int | None = None,
) -> None:
    due = common.amount_due_cents(session, procedure.position, on)
    if amount_cents <= 0:
        raise ProcedureRefused("L'importo insinuato deve essere positivo.")
    if amount_cents > due:
        raise ProcedureRefused(
            f"L'importo insinuato ({format_eur(amount_cents)}) supera il credito dovuto al "
            f"{format_date_it(on)} ({format_eur(due)})."
        )
    late = procedure.deadline is not None and on > procedure.deadline
    procedure.details = {**procedure.details, "importo_insinuato_cents": amount_cents, "tardiva": late}
    common.add_step(
        session,
        procedure,
        actor,
        "deposito_domanda",
        on,
        document_id=document_id,
        note=f"domanda tardiva, oltre il termine del {format_date_it(procedure.deadline)} ({SOURCE})"
        if late and procedure.deadline
        else None,
    )
    procedure.deadline = None


def outcome(
    session: Session,
    procedure: Procedure,
    actor: Actor,
    on: dt.date,
    result: str,
    admitted_cents: int | None,
    note: str | None,
) -> None:
    if result not in OUTCOMES:
        raise ProcedureRefused("Indica l'esito: ammessa, ammessa in parte o esclusa.")
    filed = int(procedure.details.get("importo_insinuato_cents") or 0)
    if result == "ammessa":
        admitted_cents = filed
    elif result == "esclusa":
        admitted_cents = 0
    elif not admitted_cents or admitted_cents <= 0 or admitted_cents >= filed:
        raise ProcedureRefused(
            f"Per l'ammissione in parte indica l'importo ammesso, inferiore a quello "
            f"insinuato ({format_eur(filed)})."
        )
    procedure.details = {**procedure.details, "importo_ammesso_cents": admitted_cents}
    procedure.outcome = f"{OUTCOMES[result]}: {format_eur(admitted_cents or 0)}"
    common.add_step(session, procedure, actor, "esito", on, outcome=result, note=note)
