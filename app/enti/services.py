"""Enti, entrate and parameter rows. Loading the national defaults is idempotent: a row that exists
(same code, scope and valid_from) is left as the admin may have corrected it. Seeded rows start unverified
("da verificare"); an administrator adds new periods and verifies rows with app/enti/parameters.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.enti import defaults
from app.enti.models import Ente, Entrata, Parameter, RatePeriod, RateTable


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def load_default_parameters(session: Session) -> dict[str, int]:
    """Insert the national defaults of domain.md (app/enti/defaults.py) that are not there yet."""
    added = {"rate_periods": 0, "parameters": 0}
    for code, spec in defaults.RATE_TABLES.items():
        table = session.scalars(sa.select(RateTable).where(RateTable.code == code)).first()
        if table is None:
            table = RateTable(code=code, name=spec["name"], kind=spec.get("kind", "interessi"))
            session.add(table)
            session.flush()
        known = set(
            session.scalars(sa.select(RatePeriod.valid_from).where(RatePeriod.rate_table_id == table.id))
        )
        for period in spec["periods"]:
            start = _date(period["valid_from"])
            if start in known:
                continue
            session.add(
                RatePeriod(
                    rate_table_id=table.id,
                    valid_from=start,
                    valid_to=_date(period.get("valid_to")),
                    rate=Decimal(str(period["rate"])),
                    source=period["source"],
                    note=period.get("note"),
                )
            )
            added["rate_periods"] += 1
    existing = set(
        session.execute(
            sa.select(Parameter.code, Parameter.valid_from).where(
                Parameter.ente_id.is_(None), Parameter.entrata_id.is_(None)
            )
        ).tuples()
    )
    for row in defaults.PARAMETERS:
        key = (row["code"], _date(row["valid_from"]))
        if key in existing:
            continue
        session.add(
            Parameter(
                code=row["code"],
                valid_from=key[1],
                valid_to=_date(row.get("valid_to")),
                value=row["value"],
                source=row["source"],
                note=row.get("note"),
            )
        )
        existing.add(key)
        added["parameters"] += 1
    session.flush()
    return added


def ensure_ente(
    session: Session, *, code: str, name: str, codice_fiscale: str, segregation_code: str
) -> Ente:
    ente = session.scalars(sa.select(Ente).where(Ente.code == code)).first()
    if ente is None:
        ente = Ente(code=code, name=name, codice_fiscale=codice_fiscale, segregation_code=segregation_code)
        session.add(ente)
        session.flush()
    return ente


def ensure_entrata(session: Session, ente: Ente, *, code: str, name: str, **settings: Any) -> Entrata:
    entrata = session.scalars(
        sa.select(Entrata).where(Entrata.ente_id == ente.id, Entrata.code == code)
    ).first()
    if entrata is None:
        entrata = Entrata(ente_id=ente.id, code=code, name=name, **settings)
        session.add(entrata)
        session.flush()
    return entrata


def ensure_entrata_parameter(session: Session, entrata: Entrata, row: dict[str, Any]) -> bool:
    """Add one parameter row of the entrata (e.g. its `regola_dovuto`) unless a row with the same code and
    valid_from exists (left as the admin may have corrected it). True when added."""
    start = _date(row["valid_from"])
    exists = session.scalars(
        sa.select(Parameter.id).where(
            Parameter.code == row["code"], Parameter.entrata_id == entrata.id, Parameter.valid_from == start
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        Parameter(
            code=row["code"],
            ente_id=entrata.ente_id,
            entrata_id=entrata.id,
            valid_from=start,
            valid_to=_date(row.get("valid_to")),
            value=row["value"],
            source=row["source"],
            note=row.get("note"),
        )
    )
    session.flush()
    return True
