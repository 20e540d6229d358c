"""Phase 2 of the variation flows from the Regione (R-A10, docs/formats/variazioni.md), inside the caller's
transaction, row by row in file order, through the services that own the data:

- anagrafica: a new address / PEC becomes a new version with its source (`set_address`, `set_contact`), a date
  of death is set on the versioned taxpayer with a `taxpayer.updated` event;
- variazioni: an ordered sgravio writes negative `sgravio` movements (never more than what is due on the
  component) and, when nothing is left, moves the position to "sgravata"; a sospensione / revoca moves the
  state; every state change is checked with `app.engine.states.check_transition` and leaves an event.

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
from app.core.audit import Actor, Event, record_event
from app.engine.errors import TransitionNotAllowed
from app.engine.states import check_transition
from app.positions.models import COMPONENT_LABELS, Movement, Position
from app.positions.queries import balances
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
        try:
            if operation == "sgravio":
                problem = _sgravio(session, request, position, component, int(amount), day, reason)
                if problem:
                    late_errors.add(int(line), label("importo", "importo"), problem, format_eur(int(amount)))
                    rejected += 1
                    continue
                abated_total += int(amount)
            elif operation == "sospensione":
                check_transition(position.state, "sospesa")
                previous = position.state
                position.state = "sospesa"
                record_event(
                    session,
                    request.actor,
                    "position.suspended",
                    f"Sospensione: {reason}",
                    position_id=position.id,
                    taxpayer_id=position.taxpayer_id,
                    ente_id=request.ente_id,
                    payload={"source": request.source, "previous_state": previous, "date": value_date},
                )
            else:
                if position.state != "sospesa":
                    late_errors.add(
                        int(line),
                        label("operazione", "operazione"),
                        f"revoca non applicabile: la posizione non è sospesa (stato «{position.state}»)",
                        operation,
                    )
                    rejected += 1
                    continue
                target = _state_before_suspension(session, position)
                check_transition(position.state, target)
                position.state = target
                record_event(
                    session,
                    request.actor,
                    "position.suspension_revoked",
                    f"Revoca della sospensione: {reason}",
                    position_id=position.id,
                    taxpayer_id=position.taxpayer_id,
                    ente_id=request.ente_id,
                    payload={"source": request.source, "state": target, "date": value_date},
                )
        except TransitionNotAllowed as exc:
            late_errors.add(int(line), label("operazione", "operazione"), exc.message_it, operation)
            rejected += 1
            continue
        accepted += 1
        session.flush()
    rejected += prepared.rejected
    check_error_rate(rejected, prepared.rows, request.max_error_rate)
    return LoadResult(
        accepted=accepted, rejected=rejected, duplicates=0, total_cents=abated_total, taxpayers_created=0
    )


def _sgravio(
    session: Session,
    request: VariationRequest,
    position: Position,
    component: str,
    cents: int,
    day: dt.date,
    reason: str,
) -> str | None:
    """Write the abatement; the reason it cannot be written otherwise."""
    check_transition(position.state, "sgravata")  # the state must admit a sgravio at all
    balance = balances(session, [position.id])[position.id]
    due = balance.component(component).due_cents
    if cents > due:
        return (
            f"sgravio di {format_eur(cents)} superiore al dovuto della componente "
            f"{COMPONENT_LABELS.get(component, component)} ({format_eur(due)})"
        )
    session.add(
        Movement(
            position_id=position.id,
            component=component,
            kind="sgravio",
            amount_cents=-cents,
            value_date=day,
            source=f"{request.source}: {reason}"[:200],
            user_id=request.actor.user_id,
        )
    )
    session.flush()
    left = balances(session, [position.id])[position.id].due_cents
    previous = position.state
    summary = f"Sgravio di {format_eur(cents)} ({COMPONENT_LABELS.get(component, component)}): {reason}"
    if left == 0:
        position.state = "sgravata"
        summary += "; posizione sgravata"
    record_event(
        session,
        request.actor,
        "position.abated",
        summary[:500],
        position_id=position.id,
        taxpayer_id=position.taxpayer_id,
        ente_id=request.ente_id,
        payload={
            "source": request.source,
            "component": component,
            "cents": cents,
            "previous_state": previous,
            "state": position.state,
        },
    )
    return None


def _state_before_suspension(session: Session, position: Position) -> str:
    """The state the position had when it was suspended (from the last suspension event)."""
    payload = session.scalars(
        sa.select(Event.payload)
        .where(Event.position_id == position.id, Event.kind == "position.suspended")
        .order_by(Event.occurred_dt.desc(), Event.id.desc())
        .limit(1)
    ).first()
    previous = (payload or {}).get("previous_state")
    if previous:
        return previous
    return "notificata" if position.notified_date else "scaduta"
