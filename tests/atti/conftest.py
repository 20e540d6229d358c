from __future__ import annotations

import datetime as dt
import io
from typing import Any


def pdf_text(pdf: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    return text.replace("\u2019", "'").replace("\u00a0", " ")  # Typst sets smart quotes


def pdf_qr_codes(pdf: bytes) -> list[str]:
    """Every QR code (and data matrix) of every page (recipes §6: pypdfium2 + zxing-cpp)."""
    import pypdfium2 as pdfium
    import zxingcpp

    found: list[str] = []
    for page in pdfium.PdfDocument(pdf):
        image = page.render(scale=150 / 72).to_pil()
        found += [b.text for b in zxingcpp.read_barcodes(image)]
    return found


def position_of(session: Any, ente_code: str, external_id: str) -> Any:
    import sqlalchemy as sa

    from app.enti.models import Ente
    from app.positions.models import Position

    return session.scalars(
        sa.select(Position)
        .join(Ente, Ente.id == Position.ente_id)
        .where(Ente.code == ente_code, Position.external_id == external_id)
    ).one()


def open_position(session: Any, codice_fiscale: str) -> Any:
    """An open position of the demo taxpayer with something due."""
    import sqlalchemy as sa

    from app.positions.amounts import amounts_due
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    taxpayer = sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == codice_fiscale).scalar_subquery()
    rows = session.scalars(
        sa.select(Position)
        .where(
            Position.taxpayer_id == taxpayer,
            Position.state.in_(("caricata", "notificata", "scaduta", "parzialmente_pagata")),
        )
        .order_by(Position.id)
    )
    rows = list(rows)
    dues = amounts_due(session, rows, dt.date.today())
    return next(p for p in rows if dues[p.id].total_cents > 10_000)
