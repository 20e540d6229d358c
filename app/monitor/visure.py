"""The visura aggregata of communications (acts by type, state and notification outcome, per carico, entrata
and period; down to the single act) and the visura degli incassi (payments by period, entrata and channel,
with the rendicontazione's totals: `app.payments.reports`). Every statement is scoped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from app.atti.models import Act, ActType
from app.carichi.models import Carico
from app.core.access import Principal, scoped, scoped_join
from app.core.query_forms import QueryArgs
from app.enti.models import Ente, Entrata
from app.payments import reports
from app.payments.models import Payment
from app.positions.models import Position
from app.taxpayers.models import Taxpayer

NO_OUTCOME = "nessuno"  # the filter value of "no outcome recorded yet"
COLLECTION_GROUPING = ("mese", "entrata", "canale")


@dataclass(frozen=True, slots=True)
class ActFilters(QueryArgs):
    ente: str | None = None
    entrata: str | None = None
    carico: int | None = None
    tipo: str | None = None
    stato: str | None = None
    esito: str | None = None
    dal: dt.date | None = None
    al: dt.date | None = None


def _acts(principal: Principal, filters: ActFilters) -> sa.Select:
    stmt = (
        sa.select()
        .select_from(Act)
        .join(ActType, ActType.id == Act.act_type_id)
        .join(Ente, Ente.id == Act.ente_id)
        .join(Entrata, Entrata.id == Act.entrata_id)
        .join(Position, Position.id == Act.position_id)
        .outerjoin(Carico, Carico.id == Position.carico_id)
    )
    if filters.ente:
        stmt = stmt.where(Ente.code == filters.ente)
    if filters.entrata:
        stmt = stmt.where(Entrata.code == filters.entrata)
    if filters.carico:
        stmt = stmt.where(Position.carico_id == filters.carico)
    if filters.tipo:
        stmt = stmt.where(ActType.code == filters.tipo)
    if filters.stato:
        stmt = stmt.where(Act.status == filters.stato)
    if filters.esito == NO_OUTCOME:
        stmt = stmt.where(Act.notification_outcome.is_(None))
    elif filters.esito:
        stmt = stmt.where(Act.notification_outcome == filters.esito)
    if filters.dal:
        stmt = stmt.where(Act.issue_date >= filters.dal)
    if filters.al:
        stmt = stmt.where(Act.issue_date <= filters.al)
    return scoped(stmt, Act, principal)


def communications_stmt(principal: Principal, filters: ActFilters) -> sa.Select:
    """Acts counted (and their amounts summed) by carico, entrata, act type, state and outcome."""
    keys = (
        Ente.code,
        Carico.id,
        Carico.reference,
        Entrata.code,
        ActType.code,
        ActType.name,
        Act.status,
        Act.notification_outcome,
    )
    return (
        _acts(principal, filters)
        .add_columns(
            Ente.code.label("ente"),
            Carico.id.label("carico_id"),
            Carico.reference.label("carico"),
            Entrata.code.label("entrata"),
            ActType.code.label("tipo"),
            ActType.name.label("tipo_nome"),
            Act.status.label("stato"),
            sa.func.coalesce(Act.notification_outcome, NO_OUTCOME).label("esito"),
            sa.func.count(Act.id).label("atti"),
            sa.func.count(Act.notified_date).label("notificati"),
            sa.cast(sa.func.sum(Act.amount_due_cents), sa.BigInteger).label("importo_cents"),
        )
        .group_by(*keys)
        .order_by(
            Ente.code,
            Carico.reference,
            Entrata.code,
            ActType.code,
            Act.status,
            sa.func.coalesce(Act.notification_outcome, NO_OUTCOME),
        )
    )


def act_detail_stmt(principal: Principal, filters: ActFilters) -> sa.Select:
    """Every act behind a row of the visura (the drill-down), with its taxpayer when in scope."""
    stmt = _acts(principal, filters)
    stmt = scoped_join(stmt, Taxpayer, Taxpayer.id == Act.taxpayer_id, principal, isouter=True)
    return stmt.add_columns(
        Act.id.label("id"),
        Act.protocol.label("protocollo"),
        Act.issue_date.label("data_emissione"),
        Ente.code.label("ente"),
        Entrata.code.label("entrata"),
        Carico.reference.label("carico"),
        ActType.code.label("tipo"),
        Position.id.label("position_id"),
        Position.external_id.label("id_posizione"),
        Taxpayer.codice_fiscale.label("codice_fiscale"),
        Act.status.label("stato"),
        Act.channel.label("canale"),
        Act.sent_date.label("data_invio"),
        Act.notification_outcome.label("esito"),
        Act.notified_date.label("data_notifica"),
        Act.amount_due_cents.label("importo_cents"),
    ).order_by(Act.issue_date.desc(), Act.id.desc())


def act_type_choices(session: sa.orm.Session) -> list[tuple[str, str]]:
    return [
        (code, name)
        for code, name in session.execute(
            sa.select(ActType.code, ActType.name).order_by(ActType.sort_order, ActType.code)
        )
    ]


# --- incassi ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CollectionFilters(QueryArgs):
    ente: str | None = None
    entrata: str | None = None
    canale: str | None = None
    dal: dt.date | None = None
    al: dt.date | None = None

    def report_filters(self) -> reports.Filters:
        """The same selection as the rendicontazione's filters (its totals, its detail)."""
        return reports.Filters(
            dal=self.dal,
            al=self.al,
            ente=self.ente or None,
            entrata=self.entrata or None,
            canale=self.canale or None,
        )


def collection_totals_stmt(principal: Principal, filters: CollectionFilters) -> sa.Select:
    """What was collected (allocations net of reversals) by month, entrata and channel: the rendicontazione's
    own statement (`app.payments.reports.collected_stmt`)."""
    return reports.collected_stmt(principal, COLLECTION_GROUPING, filters.report_filters())


def payments_stmt(principal: Principal, filters: CollectionFilters) -> sa.Select:
    """Every payment received in the period (any status: reconciled, in review, with no debt...), newest
    first, with the entrata of the position it went to."""
    stmt = (
        sa.select(
            Payment.id.label("id"),
            Payment.paid_date.label("data_pagamento"),
            Ente.code.label("ente"),
            Entrata.code.label("entrata"),
            Payment.channel.label("canale"),
            Payment.external_id.label("id_pagamento"),
            Payment.iuv.label("iuv"),
            Payment.codice_fiscale.label("codice_fiscale"),
            Position.id.label("position_id"),
            Position.external_id.label("id_posizione"),
            Payment.status.label("stato"),
            Payment.amount_cents.label("importo_cents"),
            Payment.credit_cents.label("eccedenza_cents"),
        )
        .join(Ente, Ente.id == Payment.ente_id)
        .outerjoin(Position, Position.id == Payment.position_id)
        .outerjoin(Entrata, Entrata.id == Position.entrata_id)
        .order_by(Payment.paid_date.desc(), Payment.id.desc())
    )
    if filters.ente:
        stmt = stmt.where(Ente.code == filters.ente)
    if filters.entrata:
        stmt = stmt.where(Entrata.code == filters.entrata)
    if filters.canale:
        stmt = stmt.where(Payment.channel == filters.canale)
    if filters.dal:
        stmt = stmt.where(Payment.paid_date >= filters.dal)
    if filters.al:
        stmt = stmt.where(Payment.paid_date <= filters.al)
    return scoped(stmt, Payment, principal)
