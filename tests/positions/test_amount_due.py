"""One amount due everywhere (issue 9 point 1): the engine's quote of the ledger by the entrata's rule,
the same on the card, the positions list, the self-service page, the API, `esattoria posizioni` and the
exports; a desk payoff of exactly that amount leaves nothing due; a partial desk payment is no anomaly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from tests.conftest import new_api_token


def _ledger_payload(session, position, as_of: dt.date) -> dict:
    """The formats.md §4 request of a position written out by hand from its ledger and the rule the demo gives
    its entrata (TASSA_AUTO and CANONI: legal interest on the capital from the due date; SANZIONI: none)."""
    from app.positions.models import Movement

    original: dict[str, int] = defaultdict(int)
    paid: dict[dt.date, int] = defaultdict(int)
    for m in session.scalars(sa.select(Movement).where(Movement.position_id == position.id)):
        if m.value_date > as_of:
            continue
        if m.kind in ("pagamento", "rimborso"):
            paid[m.value_date] -= m.amount_cents
        else:
            original[m.component] += m.amount_cents
    payload = {"as_of": as_of.isoformat(),
               "components": {c: f"{original[c] // 100}.{original[c] % 100:02d}"
                              for c in ("capitale", "sanzioni", "interessi", "spese")}}
    if position.entrata.code in ("TASSA_AUTO", "CANONI") and position.due_date < as_of:
        payload["interest"] = {"from": position.due_date.isoformat(), "base": ["capitale"],
                               "rate_table": "legale"}
    if paid:
        payload["payments"] = [{"date": d.isoformat(), "amount": f"{c // 100}.{c % 100:02d}"}
                               for d, c in sorted(paid.items())]
    return payload


def _mario_positions(session):
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    taxpayer = session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()
    positions = session.scalars(
        sa.select(Position).where(Position.taxpayer_id == taxpayer.id).order_by(Position.id)).all()
    return taxpayer, positions


def test_esattoria_posizioni_total_due_is_the_engine_quote(app, session) -> None:
    from app.engine import wire
    from app.positions.quotes import engine_inputs

    result = app.test_cli_runner().invoke(args=["posizioni", "--cf", MARIO_ROSSI_CF])
    assert result.exit_code == 0, result.output
    report = {r["id_posizione"]: r for r in json.loads(result.output)}
    _, positions = _mario_positions(session)
    today = dt.date.fromisoformat(next(iter(report.values()))["as_of"])
    with_interest = 0
    for position in positions:
        params, tables = engine_inputs(session, today, ente_id=position.ente_id,
                                       entrata_id=position.entrata_id)
        quote = wire.quote_request(_ledger_payload(session, position, today), tables, params)
        assert report[position.external_id]["total_due"] == quote["total_due"], position.external_id
        with_interest += quote["interest"]["amount"] != "0.00"
    assert with_interest, "the demo taxpayer must have a position with accrued interest"


def _page_due(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]+)<', html)
    assert match, testid
    return match.group(1).strip()


def _get(client, url: str) -> str:
    """A page as `client`'s user (the test's app context is shared by requests: forget the last user)."""
    from flask import g

    g.pop("_login_user", None)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _eur(cents: int) -> str:
    from app.reports.formatting import format_eur

    return format_eur(cents)


def test_card_list_self_service_api_and_exports_show_one_amount_due(app, session, personas) -> None:
    from app.positions.amounts import amounts_due, today_rome

    taxpayer, positions = _mario_positions(session)
    today = today_rome()
    dues = amounts_due(session, positions, today)
    accrued = [p for p in positions if dues[p.id].interest_cents > 0]
    assert accrued, "a position with accrued interest"
    target = accrued[0]
    due = dues[target.id]
    assert due.total_cents == due.ledger_cents + due.interest_cents + due.oneri_cents
    total = sum(d.total_cents for d in dues.values())

    staff = personas.client("backoffice")
    card = _get(staff, f"/contribuenti/{taxpayer.id}")
    assert _page_due(card, "card-total-due") == _eur(total)
    assert _eur(due.total_cents) in card and "Come è calcolato il dovuto" in card
    assert "1284 c.c." in card and "D.M. " in card  # the rule's and the rates' legal source

    own = _get(personas.client("contribuente"), "/self-service/")
    assert _page_due(own, "self-total") == _eur(total)

    detail = _get(staff, f"/posizioni/{target.id}")
    assert _page_due(detail, "position-due") == _eur(due.total_cents)

    listed = None
    for page in range(1, 50):
        html = _get(staff, f"/posizioni/?ente=R01&pagina={page}")
        row = re.search(rf">{re.escape(target.external_id)}</a>.*?</tr>", html, re.S)
        if row:
            listed = re.findall(r'<td class="text-end">([^<]+)</td>', row.group(0))[-1]
            break
        if "Successiva" not in html:
            break
    assert listed == _eur(due.total_cents)

    exported = _get(staff, "/posizioni/esporta.csv?ente=R01")
    card_export = _get(staff, f"/contribuenti/{taxpayer.id}/posizioni.csv")
    for text in (exported, card_export):
        rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
                if target.external_id in r]
        assert rows, text[:300]
        header = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        value = rows[0][header.index("Dovuto")]
        assert value == f"{due.total_cents // 100}.{due.total_cents % 100:02d}"  # machine format

    token = new_api_token(app, "positions:read", name="test dovuto")
    client = app.test_client()
    api = client.get(f"/api/v1/positions?codice_fiscale={MARIO_ROSSI_CF}",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    by_id = {r["id_posizione"]: r["total_due"] for r in api}
    assert by_id[target.external_id] == f"{due.total_cents // 100}.{due.total_cents % 100:02d}"
    quote = client.get(f"/api/v1/positions/{target.id}/quote",
                       headers={"Authorization": f"Bearer {token}"}).get_json()
    assert quote["total_due"] == by_id[target.external_id]


def test_batch_quotes_give_the_amount_due_of_every_position(session) -> None:
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.positions.amounts import amounts_due
    from app.positions.batch_quotes import batch_quotes
    from app.positions.models import Position

    principal = Principal(role="admin", ente_ids=frozenset(session.scalars(sa.select(Ente.id))))
    on = dt.date(2026, 11, 30)
    positions = session.scalars(sa.select(Position).order_by(Position.id)).all()
    dues = amounts_due(session, positions, on)
    expected = [(pid, f"{d.total_cents // 100}.{d.total_cents % 100:02d}") for pid, d in sorted(dues.items())]
    assert list(batch_quotes(session, principal, on, workers=0, chunk=13)) == expected
    sanzioni = [p for p in positions if p.entrata.code == "SANZIONI" and p.due_date < on]
    assert sanzioni and all(dues[p.id].interest_cents == 0 for p in sanzioni)  # the entrata's rule


def _open_position_with_interest(session):
    from app.payments.models import NoticeNumber, Payment
    from app.positions.amounts import amounts_due, today_rome
    from app.positions.models import Position

    positions = session.scalars(
        sa.select(Position)
        .join(NoticeNumber, sa.and_(NoticeNumber.position_id == Position.id,
                                    NoticeNumber.item_kind == "posizione"))
        .where(Position.state.in_(("caricata", "notificata")),
               ~sa.exists().where(Payment.position_id == Position.id))
        .order_by(Position.id)).all()
    dues = amounts_due(session, positions, today_rome())
    return next(p for p in positions if dues[p.id].interest_cents > 0 and dues[p.id].ledger_cents > 0), dues


def test_a_desk_payoff_of_the_amount_due_leaves_nothing_due(session) -> None:
    from app.payments import services
    from app.payments.models import Anomaly
    from app.payments.receipts import receipt_data
    from app.positions.amounts import amount_due, today_rome
    from app.positions.queries import balances
    from app.positions.services import system_principal
    from tests.payments.support import ACTOR

    position, dues = _open_position_with_interest(session)
    due = dues[position.id]
    payment = services.register_desk_payment(
        session, system_principal(session), ACTOR, position_id=position.id, amount_cents=due.total_cents,
        channel="contanti", paid_date=today_rome())
    session.refresh(position)
    assert position.state == "pagata"
    assert balances(session, [position.id])[position.id].due_cents == 0  # interest booked, then paid
    assert payment.credit_cents == 0
    assert amount_due(session, position, today_rome()).total_cents == 0
    assert receipt_data(session, payment)["residual"] == "0,00 €"
    assert session.scalars(sa.select(Anomaly).where(Anomaly.payment_id == payment.id)).all() == []


def test_a_partial_desk_payment_is_not_an_anomaly(session) -> None:
    from app.payments import services
    from app.payments.models import Anomaly
    from app.positions.amounts import amount_due, today_rome
    from app.positions.services import system_principal
    from tests.payments.support import ACTOR

    position, dues = _open_position_with_interest(session)
    due = dues[position.id]
    payment = services.register_desk_payment(
        session, system_principal(session), ACTOR, position_id=position.id, amount_cents=due.total_cents // 2,
        channel="pos", paid_date=today_rome())
    session.refresh(position)
    assert position.state == "parzialmente_pagata"
    assert session.scalars(sa.select(Anomaly).where(Anomaly.payment_id == payment.id)).all() == []
    assert amount_due(session, position, today_rome()).total_cents == due.total_cents - due.total_cents // 2


def test_a_payoff_under_a_rule_with_oneri_books_and_pays_interest_and_oneri(session) -> None:
    """An entrata whose rule adds oneri L. 160/2019 from esecutività: the amount due has them; a desk payoff
    of exactly that books interest and oneri and pays every component, oneri last."""
    from app.enti.models import Parameter
    from app.payments import services
    from app.positions.amounts import RULE_CODE, amount_due, today_rome
    from app.positions.models import Movement
    from app.positions.queries import balances
    from app.positions.services import system_principal
    from tests.payments.support import ACTOR

    position, _ = _open_position_with_interest(session)
    today = today_rome()
    session.add(Parameter(
        code=RULE_CODE, ente_id=position.ente_id, entrata_id=position.entrata_id,
        valid_from=today - dt.timedelta(days=1), valid_to=None,
        source="regola di prova (L. 160/2019, art. 1, c. 803)",
        value={"interest": {"start": "scadenza", "rate_table": "legale", "base": ["capitale"]},
               "charges": {"rule": "oneri_l160", "esecutivo_days": 60}}))
    position.notified_date = today - dt.timedelta(days=400)
    session.flush()
    due = amount_due(session, position, today)
    assert due.oneri_cents > 0 and due.interest_cents > 0
    base = due.ledger_cents + due.interest_cents
    assert due.oneri_cents == min((base * 6 + 50) // 100, 60000)  # 6% after day 60, capped at 600 euro
    payment = services.register_desk_payment(
        session, system_principal(session), ACTOR, position_id=position.id, amount_cents=due.total_cents,
        channel="contanti", paid_date=today)
    assert payment.credit_cents == 0
    booked = {m.kind: m.amount_cents for m in session.scalars(
        sa.select(Movement).where(Movement.position_id == position.id,
                                  Movement.kind.in_(("interessi", "oneri"))))}
    assert booked == {"interessi": due.interest_cents, "oneri": due.oneri_cents}
    assert balances(session, [position.id])[position.id].due_cents == 0
    assert amount_due(session, position, today).total_cents == 0
    assert amount_due(session, position, today + dt.timedelta(days=90)).total_cents == 0  # nothing accrues


def test_a_reprinted_quietanza_keeps_the_residual_of_its_own_payment(session) -> None:
    """The residual printed on a quietanza is what was left right after that payment: printing it again after
    the taxpayer paid the rest does not turn it into 0,00 €."""
    from app.payments import services
    from app.payments.receipts import receipt_data
    from app.positions.amounts import amount_due, today_rome
    from app.positions.services import system_principal
    from app.reports.formatting import format_eur
    from tests.payments.support import ACTOR

    position, dues = _open_position_with_interest(session)
    first = services.register_desk_payment(
        session, system_principal(session), ACTOR, position_id=position.id,
        amount_cents=dues[position.id].total_cents // 2, channel="contanti", paid_date=today_rome())
    left = amount_due(session, position, today_rome()).total_cents
    assert left > 0 and receipt_data(session, first)["residual"] == format_eur(left)
    second = services.register_desk_payment(
        session, system_principal(session), ACTOR, position_id=position.id, amount_cents=left,
        channel="contanti", paid_date=today_rome())
    assert receipt_data(session, second)["residual"] == "0,00 €"
    assert receipt_data(session, first)["residual"] == format_eur(left)  # as printed the first time
