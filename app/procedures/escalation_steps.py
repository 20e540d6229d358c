"""The procedures slice's step of the escalation ladder (app/escalation/procedure_steps.py): after the
preavviso di fermo and the comunicazione preventiva di ipoteca, the pignoramento presso terzi
(D.P.R. 602/1973, art. 72-bis). An approved proposal starts it through `pignoramento.start`, whose
preconditions refuse with their Italian reason (a position not overdue, paid or closed; no third party
named...). The step's options (or the operator's, at approval) name the third party:
{"terzo": {"tipo": "banca", "nome": "..."}}; the amount is the position's whole amount due on the day
(a bank's holding, up to the amount due)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.escalation.procedure_steps import register_procedure_starter
from app.procedures import common, pignoramento
from app.procedures.machine import ProcedureRefused


def start_pignoramento(
    session: Session,
    principal: Principal,
    actor: Actor,
    position_id: int,
    on: dt.date,
    options: dict[str, Any],
) -> int:
    third = options.get("terzo") or {}
    if (third.get("tipo") or "banca") != "banca":
        raise ProcedureRefused(
            "Dall'escalation si avvia il pignoramento presso la banca: presso il datore di lavoro servono "
            "lo stipendio e la quota mensile, da indicare avviando la procedura dalla posizione."
        )
    position = common.get_position(session, principal, position_id)
    procedure = pignoramento.start(
        session,
        principal,
        actor,
        position.id,
        third_party_kind="banca",
        third_party_name=str(third.get("nome") or ""),
        wage_cents=None,
        amount_cents=common.amount_due_cents(session, position, on),
        on=on,
    )
    session.flush()
    return procedure.id


register_procedure_starter("pignoramento", "Pignoramento presso terzi", start_pignoramento)
