"""Point 8 of issue 9: Italian numbers and plurals in messages, the ente filter a select, the quote panel's
rates, the quietanza's labels apart from their values."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pdfplumber
import pytest

from app.carichi.loading import check_error_rate
from app.core.templating import plural_it
from app.extensions import db
from app.payments.reconcile import _reason
from tests.screens.support import mario_position


def test_plurals() -> None:
    assert plural_it(1, "posizione aperta", "posizioni aperte") == "1 posizione aperta"
    assert plural_it(2, "posizione aperta", "posizioni aperte") == "2 posizioni aperte"
    assert plural_it(4395, "posizione", "posizioni") == "4.395 posizioni"
    assert "1 posizione aperta dell'ente" in _reason(90, 1)
    assert "3 posizioni aperte dell'ente" in _reason(90, 3)


def test_a_refused_flow_names_its_totals_the_italian_way() -> None:
    from app.payments.parsing import FlowRefused, parse_fdr
    from tests.payments.support import fdr, row

    xml = fdr([row("01000000000000001", "IUR-FMT-1", 294885)])
    xml = re.sub(rb"importoTotalePagamenti>[0-9.]+<", b"importoTotalePagamenti>3000.00<", xml)
    with pytest.raises(FlowRefused) as refused:
        parse_fdr(xml)
    message = str(refused.value.errors[0]["reason"])
    assert "3.000,00 €" in message and "2.948,85 €" in message and "1 pagamento," in message
    assert "2948.85" not in message


def test_the_error_rate_limit_is_italian_and_never_in_exponent_notation() -> None:
    from app.carichi.loading import Refused

    with pytest.raises(Refused) as refused:
        check_error_rate(2_000, 12_345, Decimal("10"))
    message = str(refused.value)
    assert "2.000 su 12.345" in message and "limite del 10%" in message and "E+" not in message


def test_the_ente_filter_is_a_select_of_the_users_enti(personas) -> None:
    html = personas.client("regione").get("/posizioni/").get_data(as_text=True)
    select = re.search(r'<select id="f-ente" name="ente">(.*?)</select>', html, flags=re.S)
    assert select, "the ente filter is not a select"
    values = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert values == ["", "R01"]  # regione sees R01 only


def test_the_quote_panel_shows_rates_the_italian_way(app, personas) -> None:
    with app.app_context():
        p = mario_position(db.session)
    html = (
        personas.client("sportello")
        .get(
            f"/posizioni/calcola/{p.taxpayer_id}/dovuto",
            query_string={"position": p.id, "al": "2026-12-03"},
            headers={"HX-Request": "true"},
        )
        .get_data(as_text=True)
    )
    segments = re.search(r'data-testid="quote-segments".*?</table>', html, flags=re.S).group(0)
    rates = re.findall(r">\s*([0-9][^<>]*%)\s*<", segments)
    assert rates, "no interest periods"
    assert all(re.fullmatch(r"\d+,\d{2,}%", r) for r in rates), rates


def test_the_quietanza_labels_do_not_run_into_their_values(app) -> None:
    from app.core.audit import Actor
    from app.payments import services
    from app.payments.receipts import render_receipt
    from app.positions.services import system_principal

    with app.app_context():
        p = mario_position(db.session)
        payment = services.register_desk_payment(
            db.session,
            system_principal(db.session),
            Actor.system("test"),
            position_id=p.id,
            amount_cents=1000,
            channel="pos",
            paid_date=dt.date(2026, 11, 30),
            payer_name="Mario Bianchi",
        )
        pdf = render_receipt(db.session, payment, secret="s")
        db.session.rollback()
    import io

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        words = doc.pages[0].extract_words()
    labels = {"Versante", "fiscale", "Posizione", "Descrizione", "avviso", "pagamento", "Operatore"}
    checked = 0
    for label in (w for w in words if w["text"] in labels):
        same_line = [w for w in words if abs(w["top"] - label["top"]) < 2 and w["x0"] > label["x1"]]
        if not same_line:
            continue
        value = min(same_line, key=lambda w: w["x0"])
        assert value["x0"] - label["x1"] >= 6, (label["text"], value["text"], value["x0"] - label["x1"])
        checked += 1
    assert checked >= 4
    assert not any(
        w["text"].startswith("pagamentoCarta") or w["text"].startswith("Versante") and len(w["text"]) > 8
        for w in words
    )


def test_a_one_payment_flow_says_so_in_the_singular(app, personas) -> None:
    from app.payments.services import import_flow
    from tests.payments.support import ACTOR, fdr, open_positions, row

    with app.app_context():
        (p,) = open_positions(db.session)
        summary = import_flow(db.session, fdr([row(p.iuv, "IUR-PLURAL-1", p.due)]), ACTOR)
        db.session.commit()
        flow_id = summary.flow_id
    html = personas.client("backoffice").get(f"/pagamenti/flussi/{flow_id}").get_data(as_text=True)
    assert "1 pagamento," in html and "1 riga," in html
    assert "1 pagamenti" not in html and "1 righe" not in html
