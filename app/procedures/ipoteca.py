"""Ipoteca (D.P.R. 602/1973 art. 77): only for a credit of at least the minimum (parameter `ipoteca_min`,
20.000 euro, c. 1-bis), after a comunicazione preventiva (an act of app/atti) giving 30 days to pay
(parameter `termine_preavviso_ipoteca`, c. 2-bis). Never commits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.procedures import common
from app.procedures.machine import ProcedureRefused, at_least, check
from app.procedures.models import Procedure
from app.reports.formatting import format_date_it, format_eur

SOURCE = "D.P.R. 602/1973, art. 77"
MINIMUM_PARAMETER = "ipoteca_min"
TERM_PARAMETER = "termine_preavviso_ipoteca"


def refuse_under_minimum(session: Session, position, on: dt.date) -> int:  # type: ignore[no-untyped-def]
    """The amount due at `on`, or ProcedureRefused when it is under the ipoteca minimum in force then."""
    row = common.parameter(session, position, MINIMUM_PARAMETER, on)
    minimum = Decimal(str(row["value"]["amount"]))
    due = common.amount_due_cents(session, position, on)
    if not at_least(Decimal(due).scaleb(-2), minimum):
        raise ProcedureRefused(
            f"L'ipoteca può essere iscritta solo per un credito non inferiore a "
            f"{format_eur(int(minimum * 100))} ({row['source']}): il dovuto al {format_date_it(on)} è "
            f"{format_eur(due)}.",
            amount=due,
            minimum=int(minimum * 100),
        )
    return due


def start(
    session: Session,
    principal: Principal,
    actor: Actor,
    position_id: int,
    *,
    property_text: str,
    on: dt.date,
    file_store: str,
) -> Procedure:
    from app.atti.services import ActRefused, act_type_by_code, issue_act

    position = common.get_position(session, principal, position_id)
    common.refuse_closed_position(position, "ipoteca")
    if not property_text.strip():
        raise ProcedureRefused("Indica gli immobili (dati catastali) su cui iscrivere l'ipoteca.")
    due = refuse_under_minimum(session, position, on)
    common.enter_procedure(session, position, actor, "ipoteca", on)
    try:
        issued = issue_act(
            session,
            position,
            act_type_by_code(session, "preavviso_ipoteca"),
            on,
            actor,
            file_store=file_store,
        )
    except ActRefused as exc:
        raise ProcedureRefused(exc.message) from None
    procedure = common.new_procedure(
        position,
        "ipoteca",
        on,
        actor,
        amount_cents=due,
        details={"immobili": property_text.strip()[:1000], "importo_ipoteca_cents": 2 * due},
    )
    procedure.act_id = issued.act.id
    common.add_step(
        session,
        procedure,
        actor,
        "avvio",
        on,
        to_state="comunicazione",
        act_id=issued.act.id,
        document_id=issued.act.document_id,
        summary=f"Ipoteca: comunicazione preventiva prot. {issued.act.protocol} per {format_eur(due)}",
    )
    return procedure


def notify(session: Session, procedure: Procedure, actor: Actor, on: dt.date) -> None:
    common.notify_warning(session, procedure, actor, on, TERM_PARAMETER, "della comunicazione")


def register(session: Session, procedure: Procedure, actor: Actor, on: dt.date) -> None:
    check("ipoteca", procedure.state, "iscrizione")
    common.refuse_before(
        on,
        procedure.deadline,
        "Iscrizione dell'ipoteca",
        f"{SOURCE}, c. 2-bis: 30 giorni dalla notifica della comunicazione preventiva",
    )
    refuse_under_minimum(session, procedure.position, on)
    common.add_step(session, procedure, actor, "iscrizione", on, cost_code="ipoteca")


def request_cancellation(session: Session, procedure: Procedure, actor: Actor, on: dt.date) -> None:
    due = common.amount_due_cents(session, procedure.position, on)
    if procedure.position.state != "pagata" and due > 0:
        raise ProcedureRefused(
            f"L'ipoteca si cancella quando il debito è estinto: restano da pagare {format_eur(due)}."
        )
    common.add_step(session, procedure, actor, "richiesta_cancellazione", on)
