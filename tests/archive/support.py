"""Documents made by the archive tests: born-digital PDFs compiled with Typst (a text layer), and the seeded
taxpayers and notice numbers they name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

LETTER = """#let d = json(bytes(sys.inputs.data))
#set page(paper: "a4", margin: 2cm)
#set text(font: "DejaVu Sans", size: 11pt, lang: "it")
Spett.le #d.ente

*Oggetto:* #d.subject

#d.body
"""


def typst_pdf(
    path: Path, body: str, *, subject: str = "istanza di rateazione", ente: str = "Regione Demo"
) -> Path:
    """A one-page born-digital PDF whose text layer holds `body`."""
    import typst

    data = json.dumps({"ente": ente, "subject": subject, "body": body})
    path.write_bytes(typst.compile(LETTER.encode(), sys_inputs={"data": data}))
    return path


def grouped(number: str) -> str:
    """A notice number as printed on the avviso: groups of 4 digits."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class Debtor:
    taxpayer_id: int
    codice_fiscale: str
    position_id: int
    notice_number: str


def debtor_of(session, ente_code: str, *, only_there: bool = True) -> Debtor:  # type: ignore[no-untyped-def]
    """A seeded taxpayer of that ente (linked to it alone) with a position there and its notice number."""
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer, TaxpayerEnte

    ente_id = session.scalars(sa.select(Ente.id).where(Ente.code == ente_code)).one()
    stmt = (
        sa.select(Taxpayer.id, Taxpayer.codice_fiscale, Position.id, NoticeNumber.notice_number)
        .join(Position, Position.taxpayer_id == Taxpayer.id)
        .join(
            NoticeNumber, (NoticeNumber.position_id == Position.id) & (NoticeNumber.item_kind == "posizione")
        )
        .where(Position.ente_id == ente_id, Taxpayer.kind == "PF")
        .order_by(Taxpayer.id, Position.id)
    )
    if only_there:
        alone = (
            sa.select(TaxpayerEnte.taxpayer_id)
            .group_by(TaxpayerEnte.taxpayer_id)
            .having(sa.func.count() == 1, sa.func.max(TaxpayerEnte.ente_id) == ente_id)
        )
        stmt = stmt.where(Taxpayer.id.in_(alone))
    row = session.execute(stmt).first()
    assert row is not None, f"no seeded debtor of {ente_code}"
    return Debtor(*row)
