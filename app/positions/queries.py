"""Reads of positions and their ledger. Every query is scoped through `app.core.access.scoped`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.core.access import Principal, scoped, scoped_join
from app.positions.models import COMPONENTS, Movement, Position

# Movement kinds that make up the "original" amount, and those that are payments.
ORIGINAL_KINDS = ("carico",)
PAID_KINDS = ("pagamento", "rimborso")
ABATED_KINDS = ("sgravio",)


@dataclass(slots=True)
class ComponentBalance:
    component: str
    original_cents: int = 0
    accrued_cents: int = 0  # interest, charges, costs added after the carico
    abated_cents: int = 0  # positive number: how much was abated
    paid_cents: int = 0  # positive number: how much was paid (net of refunds)

    @property
    def due_cents(self) -> int:
        return self.original_cents + self.accrued_cents - self.abated_cents - self.paid_cents


class ComponentSums:
    """Sums over a `components` mapping of ComponentBalance (a position's ledger, or its amount due)."""

    __slots__ = ()
    components: dict[str, ComponentBalance]

    @property
    def original_cents(self) -> int:
        return sum(c.original_cents for c in self.components.values())

    @property
    def paid_cents(self) -> int:
        return sum(c.paid_cents for c in self.components.values())

    @property
    def ledger_cents(self) -> int:
        return sum(c.due_cents for c in self.components.values())

    def rows(self) -> list[ComponentBalance]:
        return [self.components[c] for c in COMPONENTS if c in self.components]


@dataclass(slots=True)
class PositionBalance(ComponentSums):
    position_id: int
    components: dict[str, ComponentBalance] = field(default_factory=dict)

    def component(self, name: str) -> ComponentBalance:
        return self.components.setdefault(name, ComponentBalance(name))

    @property
    def due_cents(self) -> int:
        return self.ledger_cents


def balances(
    session: Session, position_ids: Iterable[int], *, as_of_dt: dt.datetime | None = None
) -> dict[int, PositionBalance]:
    """Balances by component, summed from the ledger (the truth), optionally as booked at `as_of_dt`."""
    ids = list(position_ids)
    result: dict[int, PositionBalance] = {pid: PositionBalance(pid) for pid in ids}
    if not ids:
        return result
    stmt = (
        sa.select(Movement.position_id, Movement.component, Movement.kind, sa.func.sum(Movement.amount_cents))
        .where(Movement.position_id.in_(ids))
        .group_by(Movement.position_id, Movement.component, Movement.kind)
    )
    if as_of_dt is not None:
        stmt = stmt.where(Movement.booked_dt <= as_of_dt)
    for position_id, component, kind, total in session.execute(stmt):
        bal = result[position_id].component(component)
        total = int(total)
        if kind in ORIGINAL_KINDS:
            bal.original_cents += total
        elif kind in PAID_KINDS:
            bal.paid_cents -= total
        elif kind in ABATED_KINDS:
            bal.abated_cents -= total
        else:
            bal.accrued_cents += total
    return result


def list_positions_of_taxpayer(
    session: Session, principal: Principal, taxpayer_id: int, *, created_before: dt.datetime | None = None
) -> list[Position]:
    stmt = (
        sa.select(Position)
        .where(Position.taxpayer_id == taxpayer_id)
        .options(joinedload(Position.entrata), joinedload(Position.ente))
        .order_by(Position.due_date, Position.id)
    )
    if created_before is not None:
        stmt = stmt.where(Position.created_dt <= created_before)
    return list(session.scalars(scoped(stmt, Position, principal)))


def position_options(session: Session, principal: Principal, taxpayer_id: int) -> list[sa.Row]:
    """A taxpayer's visible positions as plain rows (id, external_id, entrata_name, year, due_date, state),
    in the order of list_positions_of_taxpayer: the choices of the card's forms, without loading entities."""
    from app.enti.models import Entrata

    stmt = (
        sa.select(
            Position.id,
            Position.external_id,
            Entrata.name.label("entrata_name"),
            Position.year,
            Position.due_date,
            Position.state,
        )
        .join(Entrata, Entrata.id == Position.entrata_id)
        .where(Position.taxpayer_id == taxpayer_id)
        .order_by(Position.due_date, Position.id)
    )
    return list(session.execute(scoped(stmt, Position, principal)))


def position_rows_stmt(
    principal: Principal,
    *,
    taxpayer_id: int | None = None,
    ente_code: str | None = None,
    state: str | None = None,
    per_row_ledger: bool = False,
) -> sa.Select:
    """A flat, scoped SELECT of positions with their ledger totals: the source of lists and exports.

    `per_row_ledger`: the totals as correlated subqueries, computed only for the rows returned (a page of a
    search among millions: no aggregate of the whole ledger); the default, one grouped pass over the ledger,
    suits reading every row (exports)."""
    from app.enti.models import Ente, Entrata
    from app.taxpayers.models import Taxpayer

    def total(*kinds: str) -> sa.ColumnElement[int]:
        summed = sa.func.sum(sa.case((Movement.kind.in_(kinds), Movement.amount_cents), else_=0))
        return sa.cast(sa.func.coalesce(summed, 0), sa.BigInteger)  # SUM(bigint) is numeric on PostgreSQL

    sums = (
        total(*ORIGINAL_KINDS).label("original_cents"),
        (-total(*PAID_KINDS)).label("paid_cents"),
        sa.cast(sa.func.sum(Movement.amount_cents), sa.BigInteger).label("due_cents"),
    )
    if per_row_ledger:
        own = Movement.position_id == Position.id
        original, paid, due = (sa.select(c).where(own).correlate(Position).scalar_subquery() for c in sums)
    else:
        ledger = sa.select(Movement.position_id.label("position_id"), *sums).group_by(Movement.position_id)
        ledger = ledger.subquery()
        original, paid, due = ledger.c.original_cents, ledger.c.paid_cents, ledger.c.due_cents
    stmt = (
        sa.select(
            Position.id.label("id"),
            Ente.code.label("ente"),
            Entrata.code.label("entrata"),
            Position.external_id.label("id_posizione"),
            Taxpayer.codice_fiscale.label("codice_fiscale"),
            sa.func.coalesce(Taxpayer.company_name, Taxpayer.surname + " " + Taxpayer.given_name).label(
                "nominativo"
            ),
            Position.year.label("anno"),
            Position.description.label("descrizione"),
            Position.reference.label("riferimento"),
            Position.due_date.label("data_scadenza"),
            Position.state.label("stato"),
            sa.func.coalesce(original, 0).label("original_cents"),
            sa.func.coalesce(paid, 0).label("paid_cents"),
            sa.func.coalesce(due, 0).label("due_cents"),
        )
        .join(Ente, Ente.id == Position.ente_id)
        .join(Entrata, Entrata.id == Position.entrata_id)
        .order_by(Position.due_date, Position.id)
    )
    if not per_row_ledger:
        stmt = stmt.outerjoin(ledger, ledger.c.position_id == Position.id)
    stmt = scoped_join(stmt, Taxpayer, Taxpayer.id == Position.taxpayer_id, principal)
    if taxpayer_id is not None:
        stmt = stmt.where(Position.taxpayer_id == taxpayer_id)
    if ente_code:
        stmt = stmt.where(Ente.code == ente_code)
    if state:
        stmt = stmt.where(Position.state == state)
    return scoped(stmt, Position, principal)


def get_position(session: Session, principal: Principal, position_id: int) -> Position | None:
    stmt = (
        sa.select(Position)
        .where(Position.id == position_id)
        .options(joinedload(Position.entrata), joinedload(Position.ente))
    )
    return session.scalars(scoped(stmt, Position, principal)).first()


def list_movements(session: Session, principal: Principal, position_id: int) -> list[Movement]:
    stmt = (
        sa.select(Movement)
        .where(Movement.position_id == position_id)
        .order_by(Movement.booked_dt, Movement.id)
    )
    return list(session.scalars(scoped(stmt, Movement, principal)))


def dashboard_counts(session: Session, principal: Principal) -> dict[str, int]:
    """Positions by state and the total amount due today (interest included: `amounts.total_due_cents`), for
    the home page."""
    from app.positions.amounts import today_rome, total_due_cents

    stmt = scoped(sa.select(Position.state, sa.func.count()).group_by(Position.state), Position, principal)
    by_state = {state: n for state, n in session.execute(stmt)}
    due = total_due_cents(session, principal, today_rome())
    return {"positions": sum(by_state.values()), "due_cents": due, **by_state}


def by_component(balances_: dict[int, PositionBalance]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for bal in balances_.values():
        for row in bal.rows():
            totals[row.component] += row.due_cents
    return dict(totals)


def count_positions(
    session: Session, principal: Principal, *, ente_code: str | None = None, state: str | None = None
) -> int:
    """How many positions the list shows with these filters (the same filters as `position_rows_stmt`)."""
    from app.enti.models import Ente

    stmt = sa.select(sa.func.count(Position.id)).join(Ente, Ente.id == Position.ente_id)
    if ente_code:
        stmt = stmt.where(Ente.code == ente_code)
    if state:
        stmt = stmt.where(Position.state == state)
    return int(session.scalar(scoped(stmt, Position, principal)) or 0)
