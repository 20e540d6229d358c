"""Reads of the help desk, every one through the scoping helper (app/core/access.py `scoped`), and the
figures of the SLA reports (R-D5): compliance by class / month / group, backlog, MTTR, reopen rate."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.core.access import Principal, scoped
from app.core.paging import Page, page_within
from app.helpdesk.clock import ROME
from app.helpdesk.models import GROUPS, OPEN_STATUSES, STATUSES, SlaPolicy, Ticket
from app.reports.formatting import format_month_it

PAGE_SIZE = 25


def list_tickets(
    session: Session,
    principal: Principal,
    *,
    page: int = 1,
    status: str | None = None,
    urgency: str | None = None,
    group: str | None = None,
    text: str | None = None,
    mine: int | None = None,
    open_only: bool = False,
) -> Page:
    stmt = scoped(sa.select(Ticket), Ticket, principal)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    if urgency:
        stmt = stmt.where(Ticket.urgency == urgency)
    if group:
        stmt = stmt.where(Ticket.assigned_group == group)
    if mine:
        stmt = stmt.where(Ticket.assigned_user_id == mine)
    if text:
        like = f"%{text.strip()}%"
        stmt = stmt.where(
            sa.or_(
                Ticket.reference.ilike(like), Ticket.subject.ilike(like), Ticket.requester_name.ilike(like)
            )
        )
    stmt = stmt.options(selectinload(Ticket.ente)).order_by(Ticket.opened_dt.desc(), Ticket.id.desc())
    return page_within(session, stmt, page, PAGE_SIZE)


def get_ticket(session: Session, principal: Principal, ticket_id: int) -> Ticket | None:
    return session.scalars(
        scoped(sa.select(Ticket), Ticket, principal)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.comments),
            selectinload(Ticket.events),
            selectinload(Ticket.pauses),
            selectinload(Ticket.attachments),
        )
    ).first()


def tickets_of_taxpayer(session: Session, principal: Principal, taxpayer_id: int) -> list[Ticket]:
    return list(
        session.scalars(
            scoped(sa.select(Ticket), Ticket, principal)
            .where(Ticket.taxpayer_id == taxpayer_id)
            .order_by(Ticket.opened_dt.desc())
            .limit(50)
        )
    )


def agents(session: Session, ente_id: int) -> list[Any]:
    """The staff who may take tickets of the ente (assignment list)."""
    from app.auth.models import User, user_enti

    return list(
        session.scalars(
            sa.select(User)
            .join(user_enti, user_enti.c.user_id == User.id)
            .where(
                user_enti.c.ente_id == ente_id,
                User.active.is_(True),
                User.role.in_(("admin", "backoffice", "sportello", "callcenter")),
            )
            .order_by(User.display_name)
        )
    )


def urgency_labels(session: Session) -> dict[str, str]:
    rows = session.execute(
        sa.select(SlaPolicy.code, SlaPolicy.label, SlaPolicy.rank).order_by(SlaPolicy.rank)
    )
    return {code: label for code, label, _ in rows}


# --- reports ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    key: str  # a class, a month (YYYY-MM) or a group
    label: str
    resolved: int
    within_resolution: int
    responded: int
    within_response: int
    mttr_minutes: int | None  # mean business minutes to resolution
    reopened: int

    @property
    def resolution_percent(self) -> int | None:
        return round(100 * self.within_resolution / self.resolved) if self.resolved else None

    @property
    def response_percent(self) -> int | None:
        return round(100 * self.within_response / self.responded) if self.responded else None

    @property
    def reopen_percent(self) -> int | None:
        return round(100 * self.reopened / self.resolved) if self.resolved else None


@dataclass(frozen=True, slots=True)
class Report:
    by_class: list[ComplianceRow]
    by_month: list[ComplianceRow]
    by_group: list[ComplianceRow]
    total: ComplianceRow
    backlog: dict[str, dict[str, int]]  # status -> urgency -> count
    opened: int


def _tickets(session: Session, principal: Principal, start: dt.date, end: dt.date) -> Iterator[Ticket]:
    lo = dt.datetime.combine(start, dt.time(), tzinfo=ROME)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=ROME)
    stmt = scoped(sa.select(Ticket), Ticket, principal).where(Ticket.opened_dt >= lo, Ticket.opened_dt < hi)
    yield from session.scalars(stmt.order_by(Ticket.id).execution_options(yield_per=1000))


def _row(key: str, label: str, tickets: list[Ticket]) -> ComplianceRow:
    resolved = [t for t in tickets if t.resolved_dt is not None]
    responded = [t for t in tickets if t.first_response_dt is not None]
    minutes = [t.resolution_minutes for t in resolved if t.resolution_minutes is not None]
    return ComplianceRow(
        key=key,
        label=label,
        resolved=len(resolved),
        within_resolution=sum(1 for t in resolved if not t.resolution_late_minutes),
        responded=len(responded),
        within_response=sum(1 for t in responded if not t.response_late_minutes),
        mttr_minutes=round(sum(minutes) / len(minutes)) if minutes else None,
        reopened=sum(1 for t in tickets if t.reopen_count),
    )


def sla_report(session: Session, principal: Principal, start: dt.date, end: dt.date) -> Report:
    """The SLA figures of the tickets opened in [start, end] (local dates)."""
    labels = urgency_labels(session)
    by_class: dict[str, list[Ticket]] = defaultdict(list)
    by_month: dict[str, list[Ticket]] = defaultdict(list)
    by_group: dict[str, list[Ticket]] = defaultdict(list)
    everything: list[Ticket] = []
    backlog: dict[str, dict[str, int]] = {s: {u: 0 for u in labels} for s in OPEN_STATUSES}
    for ticket in _tickets(session, principal, start, end):
        everything.append(ticket)
        by_class[ticket.urgency].append(ticket)
        by_month[ticket.opened_dt.astimezone(ROME).strftime("%Y-%m")].append(ticket)
        by_group[ticket.assigned_group or ""].append(ticket)
        if ticket.status in backlog:
            backlog[ticket.status][ticket.urgency] = backlog[ticket.status].get(ticket.urgency, 0) + 1
    return Report(
        by_class=[_row(code, label, by_class[code]) for code, label in labels.items()],
        by_month=[_row(month, format_month_it(month), by_month[month]) for month in sorted(by_month)],
        by_group=[_row(g, GROUPS.get(g, "Non assegnate"), by_group[g]) for g in sorted(by_group)],
        total=_row("totale", "Totale", everything),
        backlog={s: backlog[s] for s in OPEN_STATUSES},
        opened=len(everything),
    )


def status_label(code: str) -> str:
    return STATUSES.get(code, code)
