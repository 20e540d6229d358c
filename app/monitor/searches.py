"""Searches of positions (by taxpayer, carico, entrata, state) and the totals of each lista di carico.

The position search is the positions list's own statement (`app.positions.queries.position_rows_stmt`,
scoped) with more filters; the carico totals are one set-based SELECT over the ledger (`movements`), grouped
by carico, exact to the cent (integer sums)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.carichi.models import Carico
from app.core.access import Principal, scoped
from app.core.query_forms import QueryArgs
from app.enti.models import Ente, Entrata
from app.positions.models import Movement, Position
from app.positions.queries import ABATED_KINDS, ORIGINAL_KINDS, PAID_KINDS, position_rows_stmt
from app.taxpayers.identifiers import compact, search_key
from app.taxpayers.models import Taxpayer, TaxpayerAddress

IN_PLAN_STATES = ("in_rateazione",)
SUSPENDED_STATES = ("sospesa",)


@dataclass(frozen=True, slots=True)
class PositionSearch(QueryArgs):
    cf: str | None = None
    nome: str | None = None
    nascita: dt.date | None = None
    indirizzo: str | None = None
    ente: str | None = None
    entrata: str | None = None
    carico: int | None = None
    stato: str | None = None

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.cf,
                self.nome,
                self.nascita,
                self.indirizzo,
                self.ente,
                self.entrata,
                self.carico,
                self.stato,
            )
        )


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def position_search_stmt(principal: Principal, search: PositionSearch, *, page: bool = False) -> sa.Select:
    """The positions list's rows (`position_rows_stmt`: ledger totals, scoped) filtered by the search; `page`:
    the ledger totals computed for the rows returned only (a page), not in one pass over the whole ledger."""
    stmt = position_rows_stmt(principal, ente_code=search.ente or None, state=search.stato or None,
                              per_row_ledger=page)
    if search.cf:
        code = compact(search.cf).upper()
        stmt = stmt.where(sa.or_(Taxpayer.codice_fiscale == code, Taxpayer.partita_iva == code))
    if search.nome:
        key = _like_prefix(search_key(search.nome))
        stmt = stmt.where(Taxpayer.search_name.like(key + "%", escape="\\"))
    if search.nascita:
        stmt = stmt.where(Taxpayer.birth_date == search.nascita)
    if search.indirizzo:
        words = [w for w in search_key(search.indirizzo).split(" ") if w]
        text = sa.func.upper(
            TaxpayerAddress.street
            + " "
            + sa.func.coalesce(TaxpayerAddress.cap, "")
            + " "
            + TaxpayerAddress.comune
        )
        address = sa.select(TaxpayerAddress.taxpayer_id).where(TaxpayerAddress.valid_to_dt.is_(None))
        for word in words:
            address = address.where(text.contains(word, autoescape=True))
        stmt = stmt.where(Position.taxpayer_id.in_(scoped(address, TaxpayerAddress, principal)))
    if search.entrata:
        stmt = stmt.where(Entrata.code == search.entrata)
    if search.carico:
        stmt = stmt.where(Position.carico_id == search.carico)
    return stmt


def _sum_of(condition: Any) -> sa.ColumnElement[int]:
    summed = sa.func.sum(sa.case((condition, Movement.amount_cents), else_=0))
    return sa.cast(sa.func.coalesce(summed, 0), sa.BigInteger)  # SUM(bigint) is numeric on PostgreSQL


def carico_totals_stmt(
    principal: Principal, *, ente: str | None = None, entrata: str | None = None, carico: int | None = None
) -> sa.Select:
    """One row per lista di carico the user may see: positions and, from the ledger, what was loaded, abated
    (sgravi), collected (payments net of refunds), what is outstanding (the ledger balance: interest and
    charges booked included), and of that how much is in a plan and how much is suspended (the balance of the
    positions in those states). Amounts in cents; abated and collected as positive numbers."""
    # two grouped passes, each one hash aggregate: positions per carico, and the ledger per carico (a join of
    # positions and movements; a COUNT(DISTINCT) over that join would sort it, three times slower)
    counts = scoped(
        sa.select(Position.carico_id.label("carico_id"), sa.func.count().label("posizioni"))
        .where(Position.carico_id.is_not(None))
        .group_by(Position.carico_id),
        Position,
        principal,
    ).subquery()
    ledger = scoped(
        sa.select(
            Position.carico_id.label("carico_id"),
            _sum_of(Movement.kind.in_(ORIGINAL_KINDS)).label("caricato_cents"),
            (-_sum_of(Movement.kind.in_(ABATED_KINDS))).label("sgravato_cents"),
            (-_sum_of(Movement.kind.in_(PAID_KINDS))).label("riscosso_cents"),
            _sum_of(sa.true()).label("residuo_cents"),
            _sum_of(Position.state.in_(IN_PLAN_STATES)).label("rateizzato_cents"),
            _sum_of(Position.state.in_(SUSPENDED_STATES)).label("sospeso_cents"),
        )
        .select_from(Position)
        .join(Movement, Movement.position_id == Position.id)
        .where(Position.carico_id.is_not(None))
        .group_by(Position.carico_id),
        Position,
        principal,
    ).subquery()

    def amount(name: str) -> sa.ColumnElement[int]:
        return sa.func.coalesce(ledger.c[name], 0).label(name)

    stmt = (
        sa.select(
            Carico.id.label("id"),
            Ente.code.label("ente"),
            Entrata.code.label("entrata"),
            Carico.reference.label("riferimento"),
            Carico.received_date.label("data_ricezione"),
            sa.func.coalesce(counts.c.posizioni, 0).label("posizioni"),
            *(
                amount(n)
                for n in (
                    "caricato_cents",
                    "sgravato_cents",
                    "riscosso_cents",
                    "residuo_cents",
                    "rateizzato_cents",
                    "sospeso_cents",
                )
            ),
        )
        .join(Ente, Ente.id == Carico.ente_id)
        .outerjoin(Entrata, Entrata.id == Carico.entrata_id)
        .outerjoin(counts, counts.c.carico_id == Carico.id)
        .outerjoin(ledger, ledger.c.carico_id == Carico.id)
        .order_by(Carico.received_date.desc(), Carico.id.desc())
    )
    if ente:
        stmt = stmt.where(Ente.code == ente)
    if entrata:
        stmt = stmt.where(Entrata.code == entrata)
    if carico:
        stmt = stmt.where(Carico.id == carico)
    return scoped(stmt, Carico, principal)


def carico_choices(session: Session, principal: Principal) -> list[tuple[int, str]]:
    rows = session.execute(
        scoped(
            sa.select(Carico.id, Carico.reference, Carico.received_date)
            .order_by(Carico.received_date.desc(), Carico.id.desc())
            .limit(500),
            Carico,
            principal,
        )
    )
    return [(cid, f"{ref} ({day:%d/%m/%Y})") for cid, ref, day in rows]


def entrata_choices(session: Session, principal: Principal) -> list[tuple[str, str]]:
    rows = session.execute(
        scoped(sa.select(Entrata.code, Entrata.name).distinct().order_by(Entrata.code), Entrata, principal)
    )
    return [(code, f"{code} – {name}") for code, name in rows]
