"""Position use cases. Never commit here."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.enti.models import Ente
from app.positions.amounts import amounts_due
from app.positions.models import COMPONENTS
from app.positions.queries import list_positions_of_taxpayer
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

    `total_due` is the amount due at `as_of` (`amounts.amounts_due`: the engine's quote of the ledger by the
    entrata's rule, interest included); `components` are the ledger's, by value date up to `as_of`.
    `notice_numbers` lists the pagoPA notices issued for the position (its own first).
    """
    cf = validate_codice_fiscale(codice_fiscale)
    principal = principal or system_principal(session)
    taxpayer_id = session.scalars(
        scoped(
            sa.select(Taxpayer.id).where(sa.or_(Taxpayer.codice_fiscale == cf, Taxpayer.partita_iva == cf)),
            Taxpayer,
            principal,
        )
    ).first()
    if taxpayer_id is None:
        return []
    positions = list_positions_of_taxpayer(session, principal, taxpayer_id)
    end_of_day = dt.datetime.combine(as_of, dt.time.max, tzinfo=ROME)  # what was booked by the end of `as_of`
    bals = amounts_due(session, positions, as_of, booked_by=end_of_day)
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
                "total_due": cents_to_machine(bal.total_cents),
                "notice_numbers": notices.get(position.id, []),
                "as_of": as_of.isoformat(),
            }
        )
    return report
