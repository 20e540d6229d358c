"""The position monitor and its PDF dossier (issue 15 point 2)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from app.reports.exports import FORMATS
from app.reports.formatting import format_eur


def pdf_text(pdf: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    return text.replace("\u00a0", " ")


def _monitor_total(html: str) -> str:
    match = re.search(r'data-testid="monitor-total">([^<]+)<', html)
    assert match, "no total on the monitor"
    return match.group(1).replace("\u00a0", " ")


def test_the_monitor_shows_the_whole_life_and_is_scoped(app, personas, issued) -> None:
    client = personas.client("regione")
    response = client.get(f"/monitor/posizioni/{issued.r01_position_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert MARIO_ROSSI_CF in html
    for key in (
        "carico",
        "atti",
        "notifiche",
        "movimenti",
        "pagamenti",
        "rateazioni",
        "sospensioni",
        "eventi",
    ):
        assert f'data-testid="section-{key}"' in html, key
    assert issued.r01_protocol in html and f"/atti/{issued.r01_act_id}" in html
    assert "Notificato (consegnato)" in html  # the outcome
    # the prescription date: the engine's, as the notification outcome recorded it (app/atti/delivery)
    with app.app_context():
        from app.atti.delivery.models import ActOutcome
        from app.extensions import db

        recorded = db.session.scalar(
            sa.select(ActOutcome.prescription_date).where(ActOutcome.act_id == issued.r01_act_id)
        )
    shown = re.search(r'data-testid="monitor-prescription">([^<]+)<', html)
    assert recorded is not None and shown and shown.group(1) == recorded.strftime("%d/%m/%Y")
    assert 'data-testid="dossier-link"' in html
    # another ente's user: 404, never the data
    assert personas.client("regione2").get(f"/monitor/posizioni/{issued.r01_position_id}").status_code == 404
    # the call center reads the monitor but has no dossier (no exports)
    call = personas.client("callcenter").get(f"/monitor/posizioni/{issued.r01_position_id}")
    assert call.status_code == 200 and 'data-testid="dossier-link"' not in call.get_data(as_text=True)


def test_the_monitor_total_is_the_engine_quote_for_the_same_inputs(app, personas, client) -> None:
    """The page's total, and the public calculator given the same request (formats.md §4), agree."""
    from app.extensions import db
    from app.positions.amounts import amount_due, cents_of, today_rome
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer

    on = today_rome()
    with app.app_context():
        session = db.session
        positions = session.scalars(
            sa.select(Position)
            .join(Taxpayer, Taxpayer.id == Position.taxpayer_id)
            .where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
            .order_by(Position.id)
        ).all()
        oneri = {
            pid
            for (pid,) in session.execute(
                sa.select(Movement.position_id).where(Movement.component == "oneri").distinct()
            )
        }
        checked = []
        for position in positions:
            if position.id in oneri:
                continue  # booked oneri are added to the engine's total outside the quote
            due = amount_due(session, position, on)
            checked.append((position.id, due.request, due.total_cents))
    assert checked
    staff = personas.client("regione")
    for position_id, request, total_cents in checked:
        quote = client.post("/api/v1/engine/quote", json=request)
        assert quote.status_code == 200, quote.json
        engine_cents = cents_of(quote.json["total_due"])
        html = staff.get(f"/monitor/posizioni/{position_id}").get_data(as_text=True)
        assert _monitor_total(html) == format_eur(engine_cents) == format_eur(total_cents)


def test_the_dossier_pdf_holds_the_amounts_and_the_codice_fiscale(app, personas, issued) -> None:
    from app.core.audit import AccessLog
    from app.extensions import db
    from app.positions.amounts import amount_due, today_rome
    from app.positions.models import Movement, Position

    client = personas.client("regione")
    html = client.get(f"/monitor/posizioni/{issued.r01_position_id}").get_data(as_text=True)
    response = client.get(f"/monitor/posizioni/{issued.r01_position_id}/dossier.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = pdf_text(response.data)
    assert MARIO_ROSSI_CF in text
    total = _monitor_total(html)
    assert total in text
    assert issued.r01_protocol in text
    with app.app_context():
        session = db.session
        position = session.get(Position, issued.r01_position_id)
        due = amount_due(session, position, today_rome())
        assert format_eur(due.total_cents) == total
        for row in due.rows():  # every component's balance
            assert format_eur(row.due_cents) in text
        first = session.scalars(
            sa.select(Movement).where(Movement.position_id == position.id).order_by(Movement.id)
        ).first()
        assert format_eur(first.amount_cents) in text  # the ledger's table
        # the reads are in the card access log (GDPR accountability)
        actions = set(
            session.scalars(sa.select(AccessLog.action).where(AccessLog.taxpayer_id == position.taxpayer_id))
        )
        assert {"position_monitor", "position_dossier"} <= actions
    assert (
        personas.client("regione2")
        .get(f"/monitor/posizioni/{issued.r01_position_id}/dossier.pdf")
        .status_code
        == 404
    )
    assert (
        personas.client("callcenter")
        .get(f"/monitor/posizioni/{issued.r01_position_id}/dossier.pdf")
        .status_code
        == 403
    )


def test_the_amount_due_at_another_date(personas, issued) -> None:
    client = personas.client("regione")
    later = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    html = client.get(f"/monitor/posizioni/{issued.r01_position_id}", query_string={"al": later}).get_data(
        as_text=True
    )
    assert "Dovuto al " + dt.date.fromisoformat(later).strftime("%d/%m/%Y") in html


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_section_exports(personas, issued, fmt) -> None:
    client = personas.client("regione")
    url = f"/monitor/posizioni/{issued.r01_position_id}/sezione.{fmt}"
    response = client.get(url, query_string={"sezione": "movimenti"})
    assert response.status_code == 200 and len(response.data) > 100
    assert client.get(url, query_string={"sezione": "nessuna"}).status_code == 404


def test_a_slice_plugs_its_own_section(app, personas, issued) -> None:
    """Plans and procedures, built in parallel, register their sections the same way."""
    from app.monitor import sections
    from app.reports.exports import Column

    def rows(session, principal, position):
        return [{"fase": "Pignoramento presso terzi", "importo_cents": 12345}]

    section = sections.Section(
        "procedure_test",
        "Procedure esecutive (prova)",
        (Column("fase", "Fase"), Column("importo_cents", "Importo", "money")),
        rows,
        order=70,
    )
    sections.register_section(section)
    try:
        with pytest.raises(ValueError):
            sections.register_section(section)
        html = (
            personas.client("regione")
            .get(f"/monitor/posizioni/{issued.r01_position_id}")
            .get_data(as_text=True)
        )
        assert "Procedure esecutive (prova)" in html and "Pignoramento presso terzi" in html
        assert "123,45" in html
        keys = [s.key for s in sections.registered_sections()]
        assert keys.index("rateazioni") < keys.index("procedure_test") < keys.index("eventi")
    finally:
        sections._SECTIONS.pop("procedure_test")
