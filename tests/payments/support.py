"""Helpers for the payments tests: open positions with their notice numbers, FdR and CSV files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.core.audit import Actor
from app.payments.fdr_writer import FdrRow, build_fdr

SAMPLES = Path(__file__).resolve().parent / "samples"
SHARED = Path(__file__).resolve().parents[3] / "shared"  # the published specs, next to the checkout


def shared_file(relative: str, environ: dict[str, str] | None = None) -> Path:
    """A published spec under ../shared; its absence skips the comparison on a developer's machine but
    fails it in CI (CI=true), where a silent skip would leave the copies unchecked."""
    import os

    import pytest

    path = SHARED / relative
    if not path.exists():
        message = f"../shared/{relative} not present next to the checkout"
        if (os.environ if environ is None else environ).get("CI", "").lower() == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    return path


ACTOR = Actor.system("test pagamenti")
CSV_HEADER = "id_pagamento;data_pagamento;data_valuta;importo;codice_avviso;codice_fiscale;causale;canale"


PAID_ON = dt.date(2026, 11, 20)  # the default date of the payments of these tests (`row`)


@dataclass
class Open:
    id: int
    iuv: str
    notice: str
    due: int  # the amount due at `on` (app.positions.amounts, interest and oneri included): the notice's
    components: dict[str, int]  # the ledger balance by component
    codice_fiscale: str
    external_id: str
    state: str
    ledger: int = 0  # the ledger balance (without what accrued and is not booked yet)


def open_positions(
    session,
    n: int = 1,
    *,
    ente: str = "R01",
    skip: int = 0,
    min_components: int = 1,
    on: dt.date = PAID_ON,
) -> list[Open]:
    """Positions of `ente` with something due and a notice number, not touched by payments yet; `due` is
    what their notice asks for on `on` (the amount due of that day)."""
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber, Payment
    from app.positions.models import Position
    from app.positions.queries import balances
    from app.taxpayers.models import Taxpayer

    rows = session.execute(
        sa.select(
            Position.id,
            NoticeNumber.iuv,
            NoticeNumber.notice_number,
            Taxpayer.codice_fiscale,
            Position.external_id,
            Position.state,
        )
        .join(
            NoticeNumber,
            sa.and_(NoticeNumber.position_id == Position.id, NoticeNumber.item_kind == "posizione"),
        )
        .join(Taxpayer, Taxpayer.id == Position.taxpayer_id)
        .join(Ente, Ente.id == Position.ente_id)
        .where(
            Ente.code == ente,
            Position.state.in_(("caricata", "notificata")),
            ~sa.exists().where(Payment.position_id == Position.id),
        )
        .order_by(Position.id)
    ).all()
    bals = balances(session, [r[0] for r in rows])
    found = []
    for pid, iuv, notice, cf, ext, state in rows:
        comps = {c.component: c.due_cents for c in bals[pid].rows() if c.due_cents > 0}
        if (
            bals[pid].due_cents > 0
            and len(comps) >= min_components
            and all(c.due_cents >= 0 for c in bals[pid].rows())
        ):
            found.append(Open(pid, iuv, notice, bals[pid].due_cents, comps, cf, ext, state))
    found = found[skip : skip + n]
    from app.positions.amounts import amounts_due_by_id

    dues = amounts_due_by_id(session, [o.id for o in found], on)
    for o in found:
        o.ledger, o.due = o.due, dues[o.id].total_cents
    return found


def fdr(rows: list[FdrRow], **kw) -> bytes:
    return build_fdr(rows, **kw)


def row(
    iuv: str,
    iur: str,
    cents: int,
    outcome: str = "0",
    day: dt.date = dt.date(2026, 11, 20),
    index: int | None = 1,
) -> FdrRow:
    return FdrRow(iuv, iur, cents, outcome, day, index)


def csv_file(*lines: str) -> bytes:
    return ("\n".join([CSV_HEADER, *lines]) + "\n").encode()


def euro(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"
