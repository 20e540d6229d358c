"""Rendicontazione (R-A16): sums collected, grouped by any of ente, entrata, accounting chapter (capitolo),
year of the debt, component, channel and month, over a period of payment dates; and the detail behind each
total down to the single allocation of a single payment. Every report is exportable (`export_response`).

The sums are allocations (what went onto debts, net of reversals: a reversed payment nets to zero). Money
received but not allocated (credits to refund, payments with no debt) is reported apart
(`unallocated_stmt`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.core.access import Principal, scoped, scoped_join
from app.core.query_forms import QueryArgs
from app.enti.models import Ente, Entrata
from app.payments.models import PAYMENT_STATUSES, Allocation, Payment, PaymentFlow
from app.positions.models import COMPONENT_LABELS, Position
from app.reports.exports import Column, ExportSpec
from app.taxpayers.models import Taxpayer

_MONTH = sa.cast(
    sa.extract("year", Payment.paid_date) * 100 + sa.extract("month", Payment.paid_date), sa.Integer
)

DIMENSIONS: dict[str, tuple[str, Any, str]] = {
    "ente": ("Ente", Ente.code, "text"),
    "entrata": ("Entrata", Entrata.code, "text"),
    "capitolo": ("Capitolo di bilancio", Entrata.capitolo, "text"),
    "anno": ("Anno di riferimento", Position.year, "int"),
    "componente": ("Componente", Allocation.component, "text"),
    "canale": ("Canale", Payment.channel, "text"),
    "mese": ("Mese di pagamento (AAAAMM)", _MONTH, "int"),
}
DEFAULT_GROUPING = ("ente", "entrata", "capitolo", "componente")


@dataclass(frozen=True, slots=True)
class Filters(QueryArgs):
    dal: dt.date | None = None
    al: dt.date | None = None
    ente: str | None = None
    entrata: str | None = None
    capitolo: str | None = None
    anno: int | None = None
    componente: str | None = None
    canale: str | None = None
    mese: int | None = None


def _base(principal: Principal, filters: Filters) -> sa.Select:
    stmt = (
        sa.select()
        .select_from(Allocation)
        .join(Payment, Payment.id == Allocation.payment_id)
        .join(Position, Position.id == Allocation.position_id)
        .join(Entrata, Entrata.id == Position.entrata_id)
        .join(Ente, Ente.id == Allocation.ente_id)
    )
    if filters.dal:
        stmt = stmt.where(Payment.paid_date >= filters.dal)
    if filters.al:
        stmt = stmt.where(Payment.paid_date <= filters.al)
    for key in ("ente", "entrata", "capitolo", "anno", "componente", "canale", "mese"):
        value = getattr(filters, key)
        if value not in (None, ""):
            stmt = stmt.where(DIMENSIONS[key][1] == value)
    return scoped(stmt, Allocation, principal)


def grouping_of(values: list[str]) -> tuple[str, ...]:
    chosen = tuple(v for v in values if v in DIMENSIONS)
    return chosen or DEFAULT_GROUPING


def collected_stmt(principal: Principal, grouping: tuple[str, ...], filters: Filters) -> sa.Select:
    """The totals: one row per combination of the chosen dimensions, with the amount and the payments."""
    columns = [DIMENSIONS[key][1].label(key) for key in grouping]
    stmt = _base(principal, filters).add_columns(
        *columns,
        sa.cast(sa.func.sum(Allocation.amount_cents), sa.BigInteger).label("importo_cents"),
        sa.func.count(sa.distinct(Allocation.payment_id)).label("pagamenti"),
    )
    if columns:
        stmt = stmt.group_by(*[DIMENSIONS[key][1] for key in grouping]).order_by(
            *[DIMENSIONS[key][1] for key in grouping]
        )
    return stmt


def dimension_column(key: str) -> Column:
    """The export column of a dimension: years and months without separators, components as labels."""
    header, _expression, kind = DIMENSIONS[key]
    if kind == "int":
        return Column(key, header, kind, grouping=False)
    return Column(key, header, kind, labels=COMPONENT_LABELS if key == "componente" else None)


def collected_spec(grouping: tuple[str, ...], filters: Filters) -> ExportSpec:
    period = ""
    if filters.dal or filters.al:
        period = f" dal {filters.dal:%d/%m/%Y}" if filters.dal else ""
        period += f" al {filters.al:%d/%m/%Y}" if filters.al else ""
    return ExportSpec(
        title=f"Riscossioni per {', '.join(DIMENSIONS[k][0].lower() for k in grouping)}{period}",
        filename_stem="rendicontazione",
        columns=[
            *(dimension_column(k) for k in grouping),
            Column("importo_cents", "Importo riscosso", "money"),
            Column("pagamenti", "Pagamenti", "int"),
        ],
        totals=["importo_cents"],
    )


def detail_stmt(principal: Principal, filters: Filters) -> sa.Select:
    """Every allocation behind a total: payment, position, component, amount (negative for a reversal)."""
    return (
        scoped_join(
            _base(principal, filters), Taxpayer, Taxpayer.id == Position.taxpayer_id, principal, isouter=True
        )
        .join(PaymentFlow, PaymentFlow.id == Payment.flow_id)
        .add_columns(
            Allocation.id.label("id_movimento"),
            Allocation.booked_dt.label("data_contabile"),
            Payment.paid_date.label("data_pagamento"),
            Payment.channel.label("canale"),
            Payment.external_id.label("id_pagamento"),
            Payment.iuv.label("iuv"),
            Payment.id.label("payment_id"),
            PaymentFlow.identifier.label("flusso"),
            Ente.code.label("ente"),
            Entrata.code.label("entrata"),
            Entrata.capitolo.label("capitolo"),
            Position.year.label("anno"),
            Position.external_id.label("id_posizione"),
            Position.id.label("position_id"),
            Taxpayer.codice_fiscale.label("codice_fiscale"),
            Allocation.component.label("componente"),
            Allocation.amount_cents.label("importo_cents"),
            Allocation.reverses_id.label("storno_di"),
        )
        .order_by(Payment.paid_date, Allocation.id)
    )


DETAIL_SPEC = ExportSpec(
    title="Dettaglio delle riscossioni",
    filename_stem="rendicontazione_dettaglio",
    columns=[
        Column("data_pagamento", "Data pagamento", "date"),
        Column("canale", "Canale"),
        Column("id_pagamento", "Id pagamento / IUR"),
        Column("iuv", "IUV"),
        Column("flusso", "Flusso"),
        Column("ente", "Ente"),
        Column("entrata", "Entrata"),
        Column("capitolo", "Capitolo"),
        Column("anno", "Anno", "int", grouping=False),
        Column("id_posizione", "Id posizione"),
        Column("codice_fiscale", "Codice fiscale"),
        Column("componente", "Componente", labels=COMPONENT_LABELS),
        Column("importo_cents", "Importo", "money"),
        Column("data_contabile", "Registrato il", "datetime"),
        Column("storno_di", "Storno del movimento", "int", grouping=False),
    ],
    totals=["importo_cents"],
)


def unallocated_stmt(principal: Principal, filters: Filters) -> sa.Select:
    """Money received and not on any debt, by status: credits of reconciled payments, payments in review,
    with no debt, rejected."""
    amount = sa.case((Payment.status == "riconciliato", Payment.credit_cents), else_=Payment.amount_cents)
    stmt = (
        sa.select(
            Ente.code.label("ente"),
            Payment.status.label("stato"),
            sa.cast(sa.func.sum(amount), sa.BigInteger).label("importo_cents"),
            sa.func.count().label("pagamenti"),
        )
        .join(Ente, Ente.id == Payment.ente_id)
        .where(
            sa.or_(
                Payment.status.in_(("in_revisione", "non_abbinato", "respinto")),
                sa.and_(Payment.status == "riconciliato", Payment.credit_cents > 0),
            )
        )
        .group_by(Ente.code, Payment.status)
        .order_by(Ente.code, Payment.status)
    )
    if filters.dal:
        stmt = stmt.where(Payment.paid_date >= filters.dal)
    if filters.al:
        stmt = stmt.where(Payment.paid_date <= filters.al)
    if filters.ente:
        stmt = stmt.where(Ente.code == filters.ente)
    if filters.canale:
        stmt = stmt.where(Payment.channel == filters.canale)
    return scoped(stmt, Payment, principal)


UNALLOCATED_SPEC = ExportSpec(
    title="Incassi non attribuiti a debiti",
    filename_stem="incassi_non_attribuiti",
    columns=[
        Column("ente", "Ente"),
        Column("stato", "Stato", labels=PAYMENT_STATUSES),
        Column("importo_cents", "Importo", "money"),
        Column("pagamenti", "Pagamenti", "int"),
    ],
    totals=["importo_cents"],
)
