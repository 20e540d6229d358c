"""The stored plan: made when a request is approved (by the role the ente sets, four eyes when it asks), with
one installment per row of the simulated schedule, each with its own pagoPA notice number; the positions move
to `in_rateazione` and the act "comunicazione di accoglimento della rateazione" is issued with one notice page
per installment. The approval fixes the plan's figures in the ledger (`app.plans.fixing`). Never commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import PERMISSIONS, ROLE_LABELS, Principal
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.engine.errors import TransitionNotAllowed
from app.engine.states import STATES, check_transition
from app.enti.queries import in_force, parameter_rows
from app.plans.fixing import fix_at_approval
from app.plans.models import Plan, PlanInstallment, PlanPosition, PlanRequest
from app.reports.formatting import format_date_it, format_eur

# The ente's setting (a parameter row of the ente): {"roles": ["backoffice", "admin"], "four_eyes": false}.
APPROVAL_PARAMETER = "rateazione_approvazione"


@dataclass(frozen=True, slots=True)
class ApprovalSetting:
    roles: frozenset[str]
    four_eyes: bool
    source: str


def approval_setting(session: Session, ente_id: int, on: dt.date) -> ApprovalSetting:
    """Who approves a rateazione for the ente on `on`: its parameter row, else every role that decides."""
    row = in_force(parameter_rows(session, ente_id=ente_id), APPROVAL_PARAMETER, on)
    default = PERMISSIONS["plans.decide"]
    if row is None or not isinstance(row.get("value"), dict):
        return ApprovalSetting(default, False, "")
    value = row["value"]
    roles = frozenset(r for r in value.get("roles") or default if r in default)
    return ApprovalSetting(roles or default, bool(value.get("four_eyes")), str(row.get("source") or ""))


def check_approver(
    session: Session, principal: Principal, actor: Actor, request: PlanRequest, on: dt.date
) -> bool:
    """Raises DomainError when this user may not approve; True when the approval is final (four eyes: the
    first approval is not)."""
    setting = approval_setting(session, request.ente_id, on)
    if principal.role not in setting.roles:
        names = ", ".join(ROLE_LABELS[r].lower() for r in sorted(setting.roles))
        raise DomainError(f"L'ente riserva l'approvazione delle rateazioni a: {names}.")
    if not setting.four_eyes:
        return True
    if request.first_approved_by_id is None:
        return False
    if request.first_approved_by_id == actor.user_id:
        raise DomainError(
            "Controllo a quattro occhi: la seconda approvazione spetta a un utente diverso da "
            f"{request.first_approved_by_label}."
        )
    return True


def add_installment(
    session: Session, plan: Plan, row: dict[str, Any], *, number: int, carrier_id: int, on: dt.date
) -> PlanInstallment:
    """One installment of the engine's schedule (`row`: due, capital, interest, amount) added to the plan,
    with its own pagoPA codice avviso (item kind `rata`) on the plan's carrier position: at approval and at a
    proroga."""
    from app.payments.notices import issue_notice_number
    from app.positions.amounts import cents_of

    amount = cents_of(row["amount"])
    notice = issue_notice_number(
        session,
        ente_id=plan.ente_id,
        amount_cents=amount,
        issued_on=on,
        item_kind="rata",
        item_ref=f"piano {plan.id} rata {number}",
        position_id=carrier_id,
    )
    installment = PlanInstallment(
        number=number,
        due_date=dt.date.fromisoformat(row["due"]),
        capital_cents=cents_of(row["capital"]),
        interest_cents=cents_of(row["interest"]),
        amount_cents=amount,
        notice_id=notice.id,
        notice_number=notice.notice_number,
        paid_cents=0,
        status="da_pagare",
    )
    plan.installments.append(installment)
    return installment


def start_plan(
    session: Session, request: PlanRequest, actor: Actor, on: dt.date, *, file_store: str | None
) -> tuple[Plan, str | None]:
    """The plan of an approved request (see the module's docstring). Returns it and, when the act could not
    be issued (no template, ...), the reason (the plan stands; the act can be issued later)."""
    from app.positions.amounts import cents_of

    links = list(request.positions)
    for link in links:
        try:
            check_transition(link.position.state, "in_rateazione")
        except TransitionNotAllowed:
            raise DomainError(
                f"La posizione {link.position.external_id} è «{STATES[link.position.state]}»: "
                "non può passare in rateazione."
            ) from None
    rows = request.schedule["installments"]
    plan = Plan(
        ente_id=request.ente_id,
        taxpayer_id=request.taxpayer_id,
        request_id=request.id,
        regime=str(request.schedule.get("regime") or links[0].position.entrata.installment_regime),
        amount_cents=sum(cents_of(r["amount"]) for r in rows),
        first_due=request.first_due,
        approved_date=on,
        approved_by_label=actor.label,
        status="attivo",
        positions=[
            PlanPosition(
                position_id=link.position_id, amount_cents=link.amount_cents, state_before=link.position.state
            )
            for link in links
        ],
    )
    session.add(plan)
    session.flush()
    for row in rows:
        add_installment(session, plan, row, number=int(row["n"]), carrier_id=links[0].position_id, on=on)
    session.flush()
    fix_at_approval(session, plan, request, actor, on)  # the plan's figures become ledger movements
    for link in links:
        position = link.position
        before = position.state
        position.state = "in_rateazione"
        record_event(
            session,
            actor,
            "plan.started",
            f"Piano rateale n. {plan.id}: {len(rows)} rate dal {format_date_it(plan.first_due)}, totale "
            f"{format_eur(plan.amount_cents)}; posizione da «{STATES[before]}» a «{STATES['in_rateazione']}»",
            taxpayer_id=position.taxpayer_id,
            position_id=position.id,
            ente_id=position.ente_id,
            payload={"plan": plan.id, "request": request.id, "from": before, "to": "in_rateazione"},
        )
    error = None
    if file_store:
        act, error = issue_plan_act(
            session, plan, "accoglimento_rateazione", on, actor, file_store=file_store
        )
        plan.accoglimento_act_id = act.id if act else None
    return plan, error


def installment_notices(installments: list[PlanInstallment]) -> list[dict[str, Any]]:
    return [
        {
            "number": i.notice_number,
            "cents": i.amount_cents - i.paid_cents,
            "due": f"entro il {format_date_it(i.due_date)}",
            "label": f"rata n. {i.number} di {len(i.plan.installments)}",
        }
        for i in installments
        if i.notice_number
    ]


def plan_facts(plan: Plan, items: list[PlanInstallment]) -> dict[str, str]:
    """What a plan's act may quote of it (`d.plan`, app/atti/services.py `PLAN_FIELDS`)."""
    replaced = [str(i.number) for i in plan.installments if i.status == "sostituita"]
    return {
        "id": str(plan.id),
        "installments": str(len(items)),
        "proroga_date": format_date_it(plan.proroga_date) if plan.proroga_date else "",
        "replaced": ", ".join(replaced),
    }


def issue_plan_act(
    session: Session,
    plan: Plan,
    code: str,
    on: dt.date,
    actor: Actor,
    *,
    file_store: str,
    installments: list[PlanInstallment] | None = None,
) -> tuple[Any, str | None]:
    """A plan's act on its first position, with one pagoPA notice per installment (all of them, or
    `installments`): the accoglimento, the sollecito of the unpaid ones, the accoglimento of the proroga (the
    new ones). Its text may quote the plan (`plan_facts`). Returns (act, None) or (None, the reason it was
    refused)."""
    from app.atti.services import ActRefused, Prepared, act_type_by_code, issue_act, template_in_force

    items = installments if installments is not None else list(plan.installments)
    position = plan.positions[0].position
    try:
        act_type = act_type_by_code(session, code)
        template = template_in_force(
            session, ente_id=plan.ente_id, entrata_id=position.entrata_id, act_type_id=act_type.id, on=on
        )
        if template is None:
            raise ActRefused(
                f"Nessun modello di «{act_type.name}» per l'entrata {position.entrata.code} valido al "
                f"{format_date_it(on)}."
            )
        lines = [
            {
                "kind": "rata",
                "label": f"Rata n. {i.number} con scadenza {format_date_it(i.due_date)}",
                "cents": i.amount_cents - i.paid_cents,
                "source": f"piano rateale n. {plan.id}",
            }
            for i in items
        ]
        total = sum(line["cents"] for line in lines)
        prepared = Prepared(act_type, template, position, total, lines, None)
        with session.begin_nested():
            issued = issue_act(
                session,
                position,
                act_type,
                on,
                actor,
                file_store=file_store,
                prepared=prepared,
                installments=installment_notices(items),
                plan=plan_facts(plan, items),
            )
    except ActRefused as exc:
        return None, exc.message
    return issued.act, None
