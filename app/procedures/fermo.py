"""Fermo amministrativo (D.Lgs. 33/2025 art. 187, già art. 86 D.P.R. 602/1973): the vehicle from a PRA
lookup, the preavviso (an act of app/atti, 30 days to pay from its notification: parameter
`termine_preavviso_fermo`), the exemption of a vehicle the debtor shows to be strumentale, the iscrizione,
and the cancellation once the debt is paid (requested automatically by a daily job). Never commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor, record_event
from app.procedures import common
from app.procedures.machine import ProcedureRefused
from app.procedures.models import Procedure
from app.reports.formatting import format_eur

SOURCE = "D.Lgs. 33/2025, art. 187 (già art. 86 D.P.R. 602/1973)"
TERM_PARAMETER = "termine_preavviso_fermo"


def start(
    session: Session,
    principal: Principal,
    actor: Actor,
    position_id: int,
    *,
    vehicle: dict[str, Any],
    vehicle_source: str,
    on: dt.date,
    file_store: str,
) -> Procedure:
    """The preavviso di fermo on one vehicle of the debtor: the act is issued (app/atti), the position moves
    to `in_procedura`, the step's cost comes from the DM table."""
    from app.atti.services import ActRefused, act_type_by_code, issue_act

    position = common.get_position(session, principal, position_id)
    common.refuse_closed_position(position, "fermo")
    plate = str(vehicle.get("targa") or "").upper().strip()
    if not plate:
        raise ProcedureRefused("Indica il veicolo (targa) su cui iscrivere il fermo.")
    if declared_strumentale(session, position.taxpayer_id, plate):
        raise ProcedureRefused(
            f"Il veicolo {plate} è stato dichiarato strumentale all'attività d'impresa o della professione: "
            f"il fermo non può essere iscritto ({SOURCE}, c. 2)."
        )
    open_on_plate = session.scalar(
        sa.select(Procedure.id).where(
            Procedure.taxpayer_id == position.taxpayer_id,
            Procedure.kind == "fermo",
            Procedure.position_id == position.id,
            Procedure.closed_on.is_(None),
            Procedure.details["vehicle"]["targa"].as_string() == plate,
        )
    )
    if open_on_plate is not None:
        raise ProcedureRefused(
            f"Sul veicolo {plate} c'è già il fermo n. {open_on_plate} per questa posizione."
        )
    amount = common.amount_due_cents(session, position, on)
    common.enter_procedure(session, position, actor, "fermo", on)
    try:
        issued = issue_act(
            session, position, act_type_by_code(session, "preavviso_fermo"), on, actor, file_store=file_store
        )
    except ActRefused as exc:
        raise ProcedureRefused(exc.message) from None
    procedure = common.new_procedure(
        position,
        "fermo",
        on,
        actor,
        amount_cents=amount,
        details={"vehicle": {**vehicle, "targa": plate, "fonte": vehicle_source}},
    )
    procedure.act_id = issued.act.id
    common.add_step(
        session,
        procedure,
        actor,
        "avvio",
        on,
        to_state="preavviso",
        cost_code="preavviso_fermo",
        act_id=issued.act.id,
        document_id=issued.act.document_id,
        summary=f"Fermo amministrativo: preavviso prot. {issued.act.protocol} sul veicolo {plate} "
        f"per {format_eur(amount)}",
    )
    return procedure


def declared_strumentale(session: Session, taxpayer_id: int, plate: str) -> bool:
    """Whether the debtor has shown the vehicle to be strumentale in any fermo (the exemption stays)."""
    return (
        session.scalar(
            sa.select(sa.func.count(Procedure.id)).where(
                Procedure.taxpayer_id == taxpayer_id,
                Procedure.kind == "fermo",
                Procedure.state == "esente",
                Procedure.details["vehicle"]["targa"].as_string() == plate,
            )
        )
        > 0
    )


def notify(session: Session, procedure: Procedure, actor: Actor, on: dt.date) -> None:
    """The preavviso was notified on `on`: the fermo may be registered after the term (30 days)."""
    common.notify_warning(session, procedure, actor, on, TERM_PARAMETER, "del preavviso")


def declare_strumentale(
    session: Session,
    procedure: Procedure,
    actor: Actor,
    on: dt.date,
    note: str | None,
    document_id: int | None = None,
) -> None:
    procedure.details = {
        **procedure.details,
        "vehicle": {
            **procedure.details.get("vehicle", {}),
            "strumentale": True,
            "dichiarato_il": on.isoformat(),
        },
    }
    common.add_step(
        session,
        procedure,
        actor,
        "dichiarazione_strumentale",
        on,
        document_id=document_id,
        note=note or f"Veicolo dichiarato strumentale dal debitore ({SOURCE}, c. 2)",
    )


def register(session: Session, procedure: Procedure, actor: Actor, on: dt.date) -> None:
    """The iscrizione of the fermo: after the 30 days of the notified preavviso, the debt still unpaid, the
    vehicle not strumentale (the machine's rule)."""
    from app.procedures.machine import check

    check("fermo", procedure.state, "iscrizione")
    common.refuse_before(
        on,
        procedure.deadline,
        "Iscrizione del fermo",
        f"{SOURCE}, c. 2: 30 giorni dalla notifica del preavviso",
    )
    position = procedure.position
    if common.amount_due_cents(session, position, on) <= 0 or position.state == "pagata":
        raise ProcedureRefused("Il debito risulta pagato: il fermo non va iscritto, chiudi la procedura.")
    common.add_step(session, procedure, actor, "iscrizione", on, cost_code="fermo_amministrativo")


def request_cancellation(
    session: Session, procedure: Procedure, actor: Actor, on: dt.date, *, automatic: bool = False
) -> None:
    """A fermo whose debt is paid in full: the cancellation is requested from the PRA (event)."""
    position = procedure.position
    due = common.amount_due_cents(session, position, on)
    if position.state != "pagata" and due > 0:
        raise ProcedureRefused(
            f"Il fermo si cancella quando il debito è estinto: restano da pagare {format_eur(due)} "
            f"({SOURCE})."
        )
    common.add_step(
        session,
        procedure,
        actor,
        "richiesta_cancellazione",
        on,
        note="richiesta automatica: debito pagato" if automatic else None,
    )
    record_event(
        session,
        actor,
        "procedure.cancellation_requested",
        f"Fermo n. {procedure.id} sul veicolo {procedure.details.get('vehicle', {}).get('targa')}: "
        f"cancellazione richiesta al PRA (debito pagato)",
        taxpayer_id=procedure.taxpayer_id,
        position_id=procedure.position_id,
        ente_id=procedure.ente_id,
        payload={"procedure": procedure.id, "automatic": automatic},
    )


def cancel(session: Session, procedure: Procedure, actor: Actor, on: dt.date, note: str | None) -> None:
    common.add_step(session, procedure, actor, "cancellazione", on, note=note)


def request_cancellations_of_paid(session: Session, actor: Actor, on: dt.date) -> list[int]:
    """Set-based: every registered fermo whose position is paid gets its cancellation request. Returns the
    procedures (the daily job; a rerun finds none: they are no longer `iscritto`)."""
    from app.positions.models import Position

    ids = list(
        session.scalars(
            sa.select(Procedure.id)
            .join(Position, Position.id == Procedure.position_id)
            .where(Procedure.kind == "fermo", Procedure.state == "iscritto", Position.state == "pagata")
            .order_by(Procedure.id)
        )
    )
    for procedure_id in ids:
        procedure = session.get(Procedure, procedure_id)
        assert procedure is not None
        request_cancellation(session, procedure, actor, on, automatic=True)
    return ids
