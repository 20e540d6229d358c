"""The start form's work: the PRA lookup of the debtor's vehicles, and the form turned into the start of the
chosen kind (fermo.start, ipoteca.start, ...). Never commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.audit import Actor
from app.payments.parsing import parse_amount
from app.procedures import fermo, insinuazione, ipoteca, pignoramento
from app.procedures.machine import ProcedureRefused
from app.procedures.models import Procedure
from app.registries.pra import Lookup, PraClient, PraUnavailable, Vehicle

MANUAL_SOURCE = "inserito dall'operatore (consultazione del PRA non disponibile)"


@dataclass(frozen=True, slots=True)
class VehicleLookup:
    lookup: Lookup | None
    error: str | None

    @property
    def vehicles(self) -> tuple[Vehicle, ...]:
        return self.lookup.vehicles if self.lookup else ()


def vehicle_lookup(position: Any, config: Any, *, today: dt.date | None = None) -> VehicleLookup:
    """The debtor's vehicles from the PRA (error: why there is no list; the operator then types the plate)."""
    try:
        return VehicleLookup(
            PraClient.from_config(config).vehicles(position.taxpayer.codice_fiscale, today=today), None
        )
    except PraUnavailable as exc:
        return VehicleLookup(None, str(exc))


def last_error(lookup: VehicleLookup | None) -> str | None:
    return lookup.error if lookup is not None else None


def _cents(text: str | None) -> int:
    return parse_amount(text) if text else 0


def start_from_form(
    session: Session,
    principal: Principal,
    actor: Actor,
    position: Any,
    form: Any,
    lookup: VehicleLookup | None,
    *,
    file_store: str,
) -> Procedure:
    kind, on = form.kind.data, form.on.data
    if kind == "fermo":
        chosen = next((v for v in (lookup.vehicles if lookup else ()) if v.plate == form.vehicle.data), None)
        if chosen is not None and lookup is not None and lookup.lookup is not None:
            vehicle, source = chosen.as_json(), lookup.lookup.source
        elif lookup is not None and lookup.lookup is not None and (form.plate.data or "").strip():
            raise ProcedureRefused("Scegli uno dei veicoli che il PRA intesta al debitore.")
        else:
            vehicle = {
                "targa": (form.plate.data or "").strip().upper().replace(" ", ""),
                "descrizione": (form.vehicle_text.data or "").strip(),
            }
            source = MANUAL_SOURCE
        return fermo.start(
            session,
            principal,
            actor,
            position.id,
            vehicle=vehicle,
            vehicle_source=source,
            on=on,
            file_store=file_store,
        )
    if kind == "ipoteca":
        return ipoteca.start(
            session,
            principal,
            actor,
            position.id,
            property_text=form.property_text.data or "",
            on=on,
            file_store=file_store,
        )
    if kind == "pignoramento":
        return pignoramento.start(
            session,
            principal,
            actor,
            position.id,
            third_party_kind=form.third_party_kind.data,
            third_party_name=form.third_party_name.data or "",
            wage_cents=_cents(form.wage.data) or None,
            amount_cents=_cents(form.amount.data),
            on=on,
        )
    if kind == "insinuazione":
        if form.opened_on.data is None or form.filing_deadline.data is None:
            raise ProcedureRefused("Indica la data di apertura e il termine per le domande.")
        return insinuazione.start(
            session,
            principal,
            actor,
            position.id,
            proceeding_kind=form.proceeding_kind.data,
            court=form.court.data or "",
            case_number=form.case_number.data,
            opened_on=form.opened_on.data,
            filing_deadline=form.filing_deadline.data,
            on=on,
        )
    raise ProcedureRefused("Tipo di procedura sconosciuto.")
