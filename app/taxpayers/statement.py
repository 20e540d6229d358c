"""The estratto conto of a taxpayer: a PDF made with Typst (templates/taxpayers/estratto_conto.typ) with
every position the user may see, its components and its original / paid / due amounts as the card shows
them, i.e. from app.positions.amounts (`amounts_due`, through `queries.get_card`): nothing is recomputed
here, the figures are only formatted. Codici avviso are printed in groups of four
(app.engine.notice.grouped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal
from app.engine.notice import grouped
from app.engine.states import STATES
from app.enti.models import Ente
from app.positions.models import COMPONENT_LABELS
from app.reports.formatting import format_date_it, format_eur
from app.taxpayers.queries import Card

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "taxpayers" / "estratto_conto.typ"


def statement_data(session: Session, card: Card, principal: Principal) -> dict[str, Any]:
    """The data of the PDF: money already formatted (`1.234,56 €`), dates `31/12/2026`."""
    t = card.taxpayer
    ente_ids = sorted({p.ente_id for p in card.positions} or principal.ente_ids)
    enti = list(session.scalars(sa.select(Ente).where(Ente.id.in_(ente_ids)).order_by(Ente.name)))
    positions = []
    for p in card.positions:
        due = card.balances[p.id]
        lines = [
            {
                "label": COMPONENT_LABELS.get(r.component, r.component),
                "original": format_eur(r.original_cents + r.accrued_cents),
                "paid": format_eur(r.paid_cents),
                "due": format_eur(r.due_cents),
            }
            for r in due.rows()
        ]
        if due.interest_cents:
            since = f" dal {format_date_it(due.interest_from)}" if due.interest_from else ""
            lines.append({"label": f"Interessi maturati{since}", "original": "", "paid": "",
                          "due": format_eur(due.interest_cents)})
        if due.oneri_cents:
            lines.append({"label": "Oneri di riscossione", "original": "", "paid": "",
                          "due": format_eur(due.oneri_cents)})
        notice = card.notice_numbers.get(p.id)
        positions.append(
            {
                "id": p.external_id,
                "ente": p.ente.name,
                "entrata": f"{p.entrata.name} {p.year}",
                "reference": p.reference or "",
                "due_date": format_date_it(p.due_date),
                "state": STATES.get(p.state, p.state),
                "notice": grouped(notice) if notice else "",
                "lines": lines,
                "original": format_eur(due.original_cents),
                "paid": format_eur(due.paid_cents),
                "total": format_eur(due.total_cents),
            }
        )
    address = next(iter(card.current_addresses()), None)
    domicilio = card.domicilio_digitale
    return {
        "date": format_date_it(card.on),
        "enti": [{"name": e.name, "cf": e.codice_fiscale} for e in enti],
        "name": t.display_name,
        "cf": t.codice_fiscale,
        "address": address.one_line if address else "",
        "domicilio": domicilio.value if domicilio else "",
        "positions": positions,
        "total_original": format_eur(card.total_original_cents),
        "total_paid": format_eur(card.total_paid_cents),
        "total_due": format_eur(card.total_due_cents),
        "total_accrued": format_eur(card.total_accrued_cents) if card.total_accrued_cents else "",
    }


def render_statement(session: Session, card: Card, principal: Principal) -> bytes:
    """The estratto conto PDF."""
    import typst

    from app.reports.export_formats.pdf_writer import FONT_DIRS

    inputs = {"data": json.dumps(statement_data(session, card, principal), ensure_ascii=False)}
    return typst.compile(str(TEMPLATE), font_paths=[str(p) for p in FONT_DIRS], sys_inputs=inputs)
