"""Pignoramento presso terzi (D.P.R. 602/1973 artt. 72-bis, 72-ter): the third party (an employer: at most
1/10, 1/7 or 1/5 of the monthly net wage by band, parameter `pignoramento_quote_stipendio`; a bank: up to
the amount due) is ordered to pay within 60 days (parameter `pignoramento_termine_terzo`); its payments are
recorded through the payments slice and allocated to the position. Never commits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from app.atti.prerequisites import sollecito_missing
from app.core.access import Principal
from app.core.audit import Actor
from app.procedures import common
from app.procedures.machine import ProcedureRefused, wage_bands, wage_limit
from app.procedures.models import THIRD_PARTY_KINDS, Procedure
from app.reports.formatting import format_eur

SOURCE = "D.P.R. 602/1973, art. 72-bis"
WAGE_PARAMETER = "pignoramento_quote_stipendio"
TERM_PARAMETER = "pignoramento_termine_terzo"


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def wage_check(session: Session, position, on: dt.date, wage_cents: int, monthly_cents: int) -> str:  # type: ignore[no-untyped-def]
    """The wage band's note, or ProcedureRefused when the monthly amount is beyond the wage's fraction."""
    row = common.parameter(session, position, WAGE_PARAMETER, on)
    try:
        bands = wage_bands(row["value"])
    except (KeyError, ValueError, InvalidOperation, TypeError, IndexError):
        raise ProcedureRefused(f"Il parametro «{WAGE_PARAMETER}» non è valido: correggilo.") from None
    limit, band = wage_limit(Decimal(wage_cents).scaleb(-2), bands)
    if monthly_cents > _cents(limit):
        raise ProcedureRefused(
            f"La quota mensile di {format_eur(monthly_cents)} supera il limite pignorabile: "
            f"{band.label} dello stipendio netto di {format_eur(wage_cents)}, "
            f"cioè {format_eur(_cents(limit))} "
            f"({row['source']}).",
            limit=_cents(limit),
            fraction=band.label,
        )
    return f"quota {band.label} dello stipendio ({row['source']})"


def start(
    session: Session,
    principal: Principal,
    actor: Actor,
    position_id: int,
    *,
    third_party_kind: str,
    third_party_name: str,
    wage_cents: int | None,
    amount_cents: int,
    on: dt.date,
) -> Procedure:
    position = common.get_position(session, principal, position_id)
    common.refuse_closed_position(position, "pignoramento")
    if third_party_kind not in THIRD_PARTY_KINDS:
        raise ProcedureRefused("Indica il terzo: datore di lavoro o banca.")
    if not third_party_name.strip():
        raise ProcedureRefused("Indica il nome del terzo pignorato.")
    if amount_cents <= 0:
        raise ProcedureRefused("L'importo da pignorare deve essere positivo.")
    due = common.amount_due_cents(session, position, on)
    missing = sollecito_missing(session, position, on, due)
    if missing:
        raise ProcedureRefused(missing)
    details: dict[str, object] = {"terzo": {"tipo": third_party_kind, "nome": third_party_name.strip()[:200]}}
    if third_party_kind == "datore":
        if not wage_cents or wage_cents <= 0:
            raise ProcedureRefused("Per il datore di lavoro indica lo stipendio netto mensile.")
        details["stipendio_netto_cents"] = wage_cents
        details["quota_mensile_cents"] = amount_cents
        details["regola"] = wage_check(session, position, on, wage_cents, amount_cents)
    else:
        if amount_cents > due:
            raise ProcedureRefused(
                f"L'importo da pignorare ({format_eur(amount_cents)}) supera il dovuto della "
                f"posizione ({format_eur(due)})."
            )
        details["importo_cents"] = amount_cents
    common.enter_procedure(session, position, actor, "pignoramento", on)
    procedure = common.new_procedure(position, "pignoramento", on, actor, amount_cents=due, details=details)
    common.add_step(
        session,
        procedure,
        actor,
        "avvio",
        on,
        to_state="atto_emesso",
        cost_code="pignoramento_presso_terzi",
        summary=f"Pignoramento presso {third_party_name.strip()[:80]}: "
        f"{format_eur(amount_cents)}{' al mese' if third_party_kind == 'datore' else ''}",
    )
    return procedure


def notify_third_party(session: Session, procedure: Procedure, actor: Actor, on: dt.date) -> None:
    days, source = common.term_days(session, procedure.position, TERM_PARAMETER, on)
    common.add_step(
        session,
        procedure,
        actor,
        "notifica_terzo",
        on,
        due_date=on + dt.timedelta(days=days),
        note=f"il terzo paga entro {days} giorni le somme già maturate ({source})",
    )


def record_payment(
    session: Session, principal: Principal, procedure: Procedure, actor: Actor, on: dt.date, amount_cents: int
) -> None:
    """The third party's payment, registered and allocated by the payments slice; the procedure ends when the
    position is paid."""
    from app.core.errors import DomainError
    from app.payments.services import register_desk_payment
    from app.procedures.machine import check

    check("pignoramento", procedure.state, "pagamento_terzo")
    third = procedure.details.get("terzo", {})
    try:
        payment = register_desk_payment(
            session,
            principal,
            actor,
            position_id=procedure.position_id,
            amount_cents=amount_cents,
            channel="bonifico",
            paid_date=on,
            payer_name=third.get("nome"),
            channels={"bonifico": "Bonifico del terzo pignorato"},
        )
    except DomainError as exc:
        raise ProcedureRefused(exc.message) from None
    common.add_step(
        session,
        procedure,
        actor,
        "pagamento_terzo",
        on,
        payment_id=payment.id,
        note=f"{format_eur(amount_cents)} dal terzo {third.get('nome', '')}".strip(),
    )
    session.refresh(procedure.position)
    if procedure.position.state == "pagata":
        common.add_step(session, procedure, actor, "chiusura", on, note="posizione pagata")
        procedure.outcome = "Debito estinto con i pagamenti del terzo"
