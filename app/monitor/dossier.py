"""The dossier of a position: the monitor (`app.monitor.life`) as one PDF made with Typst
(templates/monitor/dossier.typ): the position and its taxpayer, the amount due at the date with its
explanation (the engine's quote, the rule and the legal source of each rate), the prescription date, then
every section of the monitor as a table. Streamed, not stored (it is a print of what the ledger holds at
that moment)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from app.engine.states import STATES
from app.monitor.life import Monitor
from app.positions.models import COMPONENT_LABELS
from app.reports.formatting import format_date_it, format_datetime_it, format_eur, format_percent_it

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "monitor" / "dossier.typ"


def _machine_eur(text: str) -> str:
    from decimal import Decimal

    return format_eur(Decimal(text))


def dossier_data(monitor: Monitor, *, generated: dt.datetime, author: str) -> dict[str, Any]:
    position, due = monitor.position, monitor.due
    taxpayer = position.taxpayer
    components = [
        {
            "label": COMPONENT_LABELS.get(r.component, r.component),
            "original": format_eur(r.original_cents),
            "accrued": format_eur(r.accrued_cents),
            "abated": format_eur(r.abated_cents),
            "paid": format_eur(r.paid_cents),
            "due": format_eur(r.due_cents),
        }
        for r in due.rows()
    ]
    segments = [
        {
            "from": format_date_it(dt.date.fromisoformat(s["from"])),
            "to": format_date_it(dt.date.fromisoformat(s["to"])),
            "days": str(s["days"]),
            "rate": format_percent_it(s["rate_fraction"]),
            "base": _machine_eur(s["base"]),
            "amount": _machine_eur(s["amount"]),
            "source": s.get("source") or "",
        }
        for s in due.segments
    ]
    prescription = monitor.prescription
    sections = []
    for section, rows in monitor.sections:
        spec = section.spec()
        sections.append(
            {
                "title": section.title,
                "header": [c.header for c in spec.columns],
            "align": ["right" if c.is_numeric else "left" for c in spec.columns],
                "rows": [cells for cells, _link in section.display(rows)],
                "total": section.total_cells(rows) or [],
                "empty": section.empty,
            }
        )
    return {
        "ente": position.ente.name,
        "ente_cf": position.ente.codice_fiscale,
        "entrata": f"{position.entrata.code} – {position.entrata.name}",
        "position": position.external_id,
        "description": position.description or "",
        "reference": position.reference or "",
        "year": str(position.year),
        "state": STATES.get(position.state, position.state),
        "due_date": format_date_it(position.due_date),
        "notified": format_date_it(position.notified_date) if position.notified_date else "—",
        "taxpayer": taxpayer.display_name,
        "cf": taxpayer.codice_fiscale,
        "on": format_date_it(monitor.on),
        "components": components,
        "ledger": format_eur(due.ledger_cents),
        "interest": format_eur(due.interest_cents),
        "interest_from": format_date_it(due.interest_from) if due.interest_from else "",
        "oneri": format_eur(due.oneri_cents),
        "total": format_eur(due.total_cents),
        "rule": due.rule.description(),
        "rule_source": due.rule.source or "",
        "error": due.error or "",
        "segments": segments,
        "prescription": (
            ("scaduta il " if prescription.date < monitor.on else "") + format_date_it(prescription.date)
            if prescription
            else "non determinabile"
        ),
        "prescription_term": prescription.term if prescription else "",
        "prescription_source": prescription.source if prescription else "",
        "interruptions": ", ".join(format_date_it(d) for d in prescription.interruptions)
        if prescription
        else "",
        "sections": sections,
        "generated": format_datetime_it(generated),
        "author": author,
    }


def render_dossier(monitor: Monitor, *, generated: dt.datetime, author: str) -> bytes:
    import typst

    from app.reports.export_formats.pdf_writer import FONT_DIRS

    data = dossier_data(monitor, generated=generated, author=author)
    return typst.compile(
        str(TEMPLATE),
        font_paths=[str(p) for p in FONT_DIRS],
        sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
    )
