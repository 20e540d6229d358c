"""Helpers of the screen tests: the demo taxpayer's position, decoding an inline QR code."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
import typst
import zxingcpp

from app.core.pdf_images import render_pages
from app.demo.seed import MARIO_ROSSI_CF


@dataclass(frozen=True)
class DemoPosition:
    id: int
    taxpayer_id: int
    external_id: str
    notice_number: str
    iuv: str
    ente_code: str
    ente_cf: str


def mario_position(session) -> DemoPosition:
    """Mario Rossi's (the 'contribuente' account) first position of R01, with its codice avviso."""
    from app.enti.models import Ente
    from app.payments.models import NoticeNumber
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    row = session.execute(
        sa.select(Position, NoticeNumber.notice_number, NoticeNumber.iuv, Ente.code, Ente.codice_fiscale)
        .join(Taxpayer, Taxpayer.id == Position.taxpayer_id)
        .join(
            NoticeNumber,
            sa.and_(NoticeNumber.position_id == Position.id, NoticeNumber.item_kind == "posizione"),
        )
        .join(Ente, Ente.id == Position.ente_id)
        .where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        .order_by(Position.id)
    ).first()
    position, notice, iuv, code, cf = row
    return DemoPosition(position.id, position.taxpayer_id, position.external_id, notice, iuv, code, cf)


def qr_texts(html: str) -> list[str]:
    """Every inline QR <svg class="esa-qr"> of a page, rasterised (typst -> PDF -> pypdfium2) and decoded."""
    texts = []
    for svg in re.findall(r'<svg[^>]*class="esa-qr".*?</svg>', html, flags=re.S):
        svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
        source = (
            "#set page(width: 6cm, height: 6cm, margin: 0.5cm)\n"
            '#image(bytes(sys.inputs.qr), format: "svg", width: 5cm)'
        )
        pdf = typst.compile(source.encode(), sys_inputs={"qr": svg})
        image = render_pages(pdf, scale=200 / 72)[0]  # the app's pdfium lock: the server renders too
        texts += [b.text for b in zxingcpp.read_barcodes(image)]
    return texts
