"""The payment notice of a position as screens show it: codice avviso in groups of four, the amount, and the
pagoPA QR code (domain.md §6.2). Every amount a notice shows goes through `notice_amount_cents`."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.engine.notice import grouped
from app.enti.models import Ente
from app.payments.models import NoticeNumber
from app.positions.models import Position

if TYPE_CHECKING:
    from app.positions.amounts import Due

CLOSED_STATES = frozenset({"pagata", "sgravata", "inesigibile", "prescritta"})  # no notice to pay


def today() -> dt.date:
    """The calendar day in Rome (a notice's amount is the amount of that day)."""
    from app.payments.queries import today_rome

    return today_rome()


def notice_amount_cents(session: Session, position: Position, on: dt.date) -> int:
    """The amount a notice of `position` asks for on `on`: the amount due of that day
    (`app.positions.amounts.amount_due`, the one amount due everywhere), never negative."""
    from app.positions.amounts import amount_due

    return max(amount_due(session, position, on).total_cents, 0)


def amounts_due(session: Session, positions: Iterable[Position], on: dt.date) -> dict[int, int]:
    """What each position asks for on `on` (0 for closed ones), computed in one batch."""
    from app.positions import amounts

    positions = list(positions)
    open_ = [p for p in positions if p.state not in CLOSED_STATES]
    return amounts_of(amounts.amounts_due(session, open_, on) if open_ else {}, positions)


def amounts_of(dues: Mapping[int, Due], positions: Iterable[Position]) -> dict[int, int]:
    """What each position asks for, from the amounts due already computed (`amounts.amounts_due`, e.g. a
    card's balances): 0 for closed ones, never negative. A screen that has them computes nothing again."""
    return {
        p.id: max(dues[p.id].total_cents, 0) if p.state not in CLOSED_STATES and p.id in dues else 0
        for p in positions
    }


@dataclass(frozen=True, slots=True)
class Notice:
    position_id: int
    notice_number: str  # 18 digits
    iuv: str
    ente_codice_fiscale: str
    amount_cents: int

    @property
    def grouped(self) -> str:
        """"3010 0000 0000 0012 34": groups of four, as printed on the avviso."""
        return grouped(self.notice_number)

    @property
    def qr_payload(self) -> str:
        return qr_payload(self.notice_number, self.ente_codice_fiscale, self.amount_cents)

    def qr_svg(self) -> str:
        return qr_svg(self.qr_payload)


def qr_payload(notice_number: str, ente_codice_fiscale: str, amount_cents: int) -> str:
    """`PAGOPA|002|<codice avviso 18>|<CF ente 11>|<importo in centesimi>` (domain.md §6.2), zero-padded as
    pagoPA's own generator does."""
    return f"PAGOPA|002|{notice_number.zfill(18)}|{ente_codice_fiscale.zfill(11)}|{int(amount_cents)}"


@functools.lru_cache(maxsize=512)
def qr_svg(payload: str) -> str:
    """An inline <svg> (one path with presentation attributes: no style, no script, CSP-safe). ECC level M,
    as pagoPA prints it. Kept per payload (a pure function of it, ~2 kB each): segno scores 8 masks in pure
    Python, 15-75 ms a code, and a card shown again (the amount of the day unchanged) draws the same codes."""
    return segno.make(payload, error="m", micro=False).svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="esa-qr", title="Codice QR pagoPA"
    )


def notices_of(
    session: Session, positions: Iterable[Position], on: dt.date, *, amounts: Mapping[int, int] | None = None
) -> dict[int, Notice]:
    """The notice of each open position that has a codice avviso (already scoped positions only), for the
    amounts of `amounts_of` / `amounts_due` at `on` when the screen has them (else computed here)."""
    todo = [p for p in positions if p.state not in CLOSED_STATES]
    if not todo:
        return {}
    rows = session.execute(
        sa.select(NoticeNumber.position_id, NoticeNumber.notice_number, NoticeNumber.iuv, Ente.codice_fiscale)
        .join(Ente, Ente.id == NoticeNumber.ente_id)
        .where(
            NoticeNumber.position_id.in_([p.id for p in todo]),
            NoticeNumber.item_kind == "posizione",
            NoticeNumber.item_ref == "",
        )
    ).all()
    due = (
        amounts
        if amounts is not None
        else amounts_due(session, [p for p in todo if p.id in {r[0] for r in rows}], on)
    )
    result: dict[int, Notice] = {}
    for position_id, number, iuv, ente_cf in rows:
        amount = due[position_id]
        if amount > 0:
            result[position_id] = Notice(position_id, number, iuv, ente_cf, amount)
    return result
