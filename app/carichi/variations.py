"""Phase 2 of the variation flows from the Regione (R-A10, docs/formats/variazioni.md), inside the caller's
transaction, row by row in file order, through the services that own the data:

- anagrafica: a new address / PEC becomes a new version with its source (`set_address`, `set_contact`), a date
  of death is set on the versioned taxpayer with a `taxpayer.updated` event;
- variazioni: an ordered sgravio, a sospensione (an order of the Regione) and its revoca go through the very
  services of the operators' screens and the API (`app.dynamics`: `abate`, `suspend`, `revoke`: the state
  machine, the ledger, the events, the refusals naming their rule and legal source).

A row that cannot be applied (unknown taxpayer or position, sgravio above what is due, transition not allowed)
is rejected with its line, column and reason, and the others go on; the error-rate limit of the layout then
decides whether the file is kept. Never commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.carichi.loading import LoadResult, check_error_rate
from app.carichi.pipeline import ErrorSpool, Prepared
from app.carichi.validation import parse_copy_line
from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.dynamics.common import MeasureRequest
from app.dynamics.rules import DynamicsRefused
from app.dynamics.sgravio import abate
from app.dynamics.sospensione import revoke, suspend
from app.positions.amounts import today_rome
from app.positions.models import Position
from app.reports.formatting import format_eur
from app.taxpayers.models import Taxpayer
from app.taxpayers.services import AddressData, set_address, set_contact


@dataclass(frozen=True, slots=True)
class VariationRequest:
    ente_id: int
    source: str  # "variazioni n. N"
    actor: Actor
    max_error_rate: Decimal
    labels: dict[str, str]


def _rows(prepared: Prepared):
    prepared.stage.seek(0)
    for raw in prepared.stage:
        yield parse_copy_line(raw.decode("utf-8"))


def apply_anagrafica(
    session: Session, prepared: Prepared, request: VariationRequest, late_errors: ErrorSpool
) -> LoadResult:
    principal = Principal(role="regione", ente_ids=frozenset({request.ente_id}))
    label = request.labels.get
    accepted = rejected = 0
    for index, (line, cf, street, cap, comune, provincia, pec, deceased) in enumerate(_rows(prepared)):
        taxpayer = session.scalars(
            scoped(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == cf), Taxpayer, principal)
        ).first()
        if taxpayer is None:
            late_errors.add(
                int(line),
                label("codice_fiscale", "codice_fiscale"),
                "contribuente non presente tra quelli dell'ente",
                cf,
            )
            rejected += 1
            continue
        if street:
            kind = "sede_legale" if taxpayer.kind == "PG" else "residenza"
            set_address(
                session,
                request.actor,
                taxpayer,
                AddressData(kind=kind, street=street, cap=cap, comune=comune, provincia=provincia),
                source=request.source,
            )
        if pec:
            set_contact(session, request.actor, taxpayer, "pec", pec, source=request.source)
        if deceased:
            day = dt.date.fromisoformat(deceased)
            if taxpayer.deceased_date != day:
                taxpayer.deceased_date = day
                record_event(
                    session,
                    request.actor,
                    "taxpayer.updated",
                    f"Decesso registrato: {day:%d/%m/%Y}",
                    taxpayer_id=taxpayer.id,
                    ente_id=request.ente_id,
                    payload={"source": request.source, "deceased_date": day.isoformat()},
                )
        accepted += 1
        if index % 500 == 499:
            session.flush()
    session.flush()
    rejected += prepared.rejected
    check_error_rate(rejected, prepared.rows, request.max_error_rate)
    return LoadResult(accepted=accepted, rejected=rejected, duplicates=0, total_cents=0, taxpayers_created=0)


def apply_variazioni(
    session: Session, prepared: Prepared, request: VariationRequest, late_errors: ErrorSpool
) -> LoadResult:
    principal = Principal(role="regione", ente_ids=frozenset({request.ente_id}))
    label = request.labels.get
    accepted = rejected = 0
    abated_total = 0
    for line, entrata_id, external_id, operation, component, amount, value_date, reason in _rows(prepared):
        position = session.scalars(
            scoped(
                sa.select(Position).where(
                    Position.ente_id == request.ente_id,
                    Position.entrata_id == int(entrata_id),
                    Position.external_id == external_id,
                ),
                Position,
                principal,
            )
        ).first()
        if position is None:
            late_errors.add(
                int(line),
                label("id_posizione", "id_posizione"),
                "posizione inesistente per l'ente e l'entrata",
                external_id,
            )
            rejected += 1
            continue
        day = dt.date.fromisoformat(value_date)
        measure = MeasureRequest(reason=reason, ordered_by="regione", value_date=day, source=request.source)
        today = max(day, today_rome())  # the row's date was checked (not in the future) by the validation
        try:
            with session.begin_nested():  # a refused row keeps nothing (not even the figures fixed first)
                if operation == "sgravio":
                    abate(session, request.actor, position, {component: int(amount)}, measure, today=today)
                elif operation == "sospensione":
                    suspend(session, request.actor, position, "ordine_regione", measure, today=today)
                else:
                    revoke(session, request.actor, position, measure, today=today)
            if operation == "sgravio":
                abated_total += int(amount)
        except DynamicsRefused as exc:
            column = {"sgravio": "importo"}.get(operation, "operazione")
            late_errors.add(
                int(line),
                label(column, column),
                exc.message,
                format_eur(int(amount)) if operation == "sgravio" else operation,
            )
            rejected += 1
            continue
        accepted += 1
        session.flush()
    rejected += prepared.rejected
    check_error_rate(rejected, prepared.rows, request.max_error_rate)
    return LoadResult(
        accepted=accepted, rejected=rejected, duplicates=0, total_cents=abated_total, taxpayers_created=0
    )
