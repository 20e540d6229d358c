"""Position use cases. Never commit here."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.enti.models import Ente
from app.positions.models import COMPONENTS
from app.positions.queries import balances, list_positions_of_taxpayer
from app.reports.formatting import cents_to_machine
from app.taxpayers.identifiers import validate_codice_fiscale
from app.taxpayers.models import Taxpayer

ROME = ZoneInfo("Europe/Rome")


def system_principal(session: Session) -> Principal:
    """The server's own view (CLI, jobs): every ente, still through the scoping helper."""
    return Principal(role="admin", ente_ids=frozenset(session.scalars(sa.select(Ente.id))))


def positions_report(
    session: Session, codice_fiscale: str, *, as_of: dt.date, principal: Principal | None = None
) -> list[dict[str, Any]]:
    """formats.md §5 `esattoria posizioni`: the taxpayer's positions with components and total due.

    `total_due` is the ledger balance at `as_of` (interest not yet crystallised in the ledger is not added
    here). `notice_numbers` lists the pagoPA notices issued for the position (its own first).
    """
    cf = validate_codice_fiscale(codice_fiscale)
    principal = principal or system_principal(session)
    taxpayer_id = session.scalars(
        sa.select(Taxpayer.id).where(sa.or_(Taxpayer.codice_fiscale == cf, Taxpayer.partita_iva == cf))
    ).first()
    if taxpayer_id is None:
        return []
    positions = list_positions_of_taxpayer(session, principal, taxpayer_id)
    end_of_day = dt.datetime.combine(as_of, dt.time.max, tzinfo=ROME)  # what was booked by the end of `as_of`
    bals = balances(session, [p.id for p in positions], as_of_dt=end_of_day)
    from app.payments.notices import notice_numbers_of_positions

    notices = notice_numbers_of_positions(session, [p.id for p in positions])
    report = []
    for position in positions:
        bal = bals[position.id]
        components = [
            {
                "kind": c,
                "original": cents_to_machine(
                    bal.component(c).original_cents + bal.component(c).accrued_cents
                ),
                "paid": cents_to_machine(bal.component(c).paid_cents),
                "due": cents_to_machine(bal.component(c).due_cents),
            }
            for c in COMPONENTS
            if c in bal.components
        ]
        report.append(
            {
                "id_posizione": position.external_id,
                "ente": position.ente.code,
                "entrata": position.entrata.code,
                "state": position.state,
                "components": components,
                "total_due": cents_to_machine(bal.due_cents),
                "notice_numbers": notices.get(position.id, []),
                "as_of": as_of.isoformat(),
            }
        )
    return report
