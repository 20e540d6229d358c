"""A fresh position of the demo taxpayer (R01, TASSA_AUTO: legal interest on the capital from the due date)
with its carico in the ledger, and helpers to compare the card's figure with the engine's quote API."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import sqlalchemy as sa

from app.core.audit import Actor
from app.demo.seed import MARIO_ROSSI_CF

ACTOR = Actor.system("test")
_COUNTER = itertools.count(1)


def new_position(
    session: Any,
    *,
    capitale: int = 100_000,
    sanzioni: int = 30_000,
    spese: int = 588,
    due: dt.date = dt.date(2024, 1, 31),
    state: str = "scaduta",
    entrata: str = "TASSA_AUTO",
    notified: dt.date | None = dt.date(2024, 3, 1),
    codice_fiscale: str = MARIO_ROSSI_CF,
) -> Any:
    from app.enti.models import Ente, Entrata
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer

    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    entrata_row = session.scalars(
        sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == entrata)
    ).one()
    taxpayer = session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == codice_fiscale)).one()
    position = Position(
        ente_id=ente.id,
        entrata_id=entrata_row.id,
        taxpayer_id=taxpayer.id,
        external_id=f"DYN-{next(_COUNTER)}-{dt.datetime.now().timestamp()}",
        year=due.year,
        description="Posizione di prova",
        due_date=due,
        notified_date=notified,
        state=state,
    )
    session.add(position)
    session.flush()
    for component, cents in (("capitale", capitale), ("sanzioni", sanzioni), ("spese", spese)):
        if cents:
            session.add(
                Movement(
                    position_id=position.id,
                    component=component,
                    kind="carico",
                    amount_cents=cents,
                    value_date=due,
                    source="lista di carico di prova",
                )
            )
    session.flush()
    return position


def ledger_payload(session: Any, position: Any, as_of: dt.date) -> dict[str, Any]:
    """The formats.md §4 request of a position written by hand from its ledger: the components are what the
    ledger holds (fixed interest included), interest runs on the capital from the due date or from the last
    day fixed (or the revoca of a suspension that stopped it)."""
    from app.positions.models import Movement

    original = dict.fromkeys(("capitale", "sanzioni", "interessi", "spese"), 0)
    paid: dict[dt.date, int] = {}
    interest_from = position.due_date
    for m in session.scalars(sa.select(Movement).where(Movement.position_id == position.id)):
        if m.value_date > as_of or m.component == "oneri":
            continue
        if m.kind in ("pagamento", "rimborso"):
            paid[m.value_date] = paid.get(m.value_date, 0) - m.amount_cents
        else:
            original[m.component] += m.amount_cents
        if m.kind == "interessi" and m.reverses_id is None:
            interest_from = max(interest_from, m.value_date)
    if position.interest_resumes_on:
        interest_from = max(interest_from, position.interest_resumes_on)
    payload: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "components": {c: f"{v // 100}.{v % 100:02d}" for c, v in original.items()},
    }
    if interest_from < as_of and not (position.interest_stopped_on and position.interest_stopped_on <= as_of):
        payload["interest"] = {
            "from": interest_from.isoformat(),
            "base": ["capitale"],
            "rate_table": "legale",
        }
    if paid:
        payload["payments"] = [
            {"date": d.isoformat(), "amount": f"{c // 100}.{c % 100:02d}"} for d, c in sorted(paid.items())
        ]
    return payload


def engine_api_total(client: Any, payload: dict[str, Any]) -> int:
    response = client.post("/api/v1/engine/quote", json=payload)
    assert response.status_code == 200, response.get_json()
    whole, frac = response.get_json()["total_due"].split(".")
    return int(whole) * 100 + int(frac)


def due_cents(session: Any, position: Any, on: dt.date) -> int:
    from app.positions.amounts import amount_due

    session.expire(position)
    due = amount_due(session, position, on)
    assert due.error is None, due.error
    return due.total_cents


def stop_interest_on_suspension(session: Any, kinds: list[str]) -> None:
    """A newer `regola_dovuto` of TASSA_AUTO (R01) saying which suspensions stop interest."""
    from app.enti.models import Ente, Entrata
    from app.enti.services import ensure_entrata_parameter

    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    entrata = session.scalars(
        sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == "TASSA_AUTO")
    ).one()
    value = {
        "interest": {
            "start": "scadenza",
            "start_days": 0,
            "rate_table": "legale",
            "base": ["capitale"],
            "surcharge_points": "0",
            "day_count": "ACT/365",
        },
        "charges": None,
        "suspension": {"stops_interest": kinds},
    }
    ensure_entrata_parameter(
        session,
        entrata,
        {
            "code": "regola_dovuto",
            "valid_from": "2021-01-01",
            "value": value,
            "source": "art. 1282 c.c.; prova",
        },
    )
