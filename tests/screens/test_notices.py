"""Point 4 of issue 9: a notice you can pay. The codice avviso (in groups of four), the amount and the pagoPA
QR code are on the card, the position page and the self-service page; the QR decodes to the pagoPA payload
with the amount of `notice_amount_cents`; "Incassa allo sportello" opens the desk form filled for the
position."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from app.extensions import db
from app.positions.models import Position
from app.positions.notice_view import grouped, notice_amount_cents, qr_payload, today
from app.reports.formatting import format_eur
from tests.screens.support import mario_position, qr_texts


@pytest.fixture
def mario(app):
    with app.app_context():
        p = mario_position(db.session)
        amount = notice_amount_cents(db.session, db.session.get(Position, p.id), today())
    return p, amount


def test_the_payload_is_pagopas_zero_padded_string() -> None:
    assert qr_payload("301000000000004083", "80000000010", 71227) == (
        "PAGOPA|002|301000000000004083|80000000010|71227"
    )
    assert qr_payload("1234", "123", 5) == "PAGOPA|002|000000000000001234|00000000123|5"
    assert grouped("301000000000004083") == "3010 0000 0000 0040 83"


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("sportello", "/contribuenti/{taxpayer}"),
        ("callcenter", "/contribuenti/{taxpayer}"),
        ("regione", "/posizioni/{position}"),
        ("contribuente", "/self-service/"),
    ],
)
def test_the_notice_is_on_the_page_and_its_qr_decodes_to_the_pagopa_payload(
    personas, mario, persona, path
) -> None:
    p, amount = mario
    assert amount > 0
    html = (
        personas.client(persona)
        .get(path.format(taxpayer=p.taxpayer_id, position=p.id))
        .get_data(as_text=True)
    )
    block = re.search(rf'data-testid="notice-{p.id}".*?</div>\s*</div>', html, flags=re.S)
    assert block, "no notice block"
    text = html_lib.unescape(block.group(0))
    assert grouped(p.notice_number) in text and len(grouped(p.notice_number)) == 22
    assert format_eur(amount) in text
    assert f"PAGOPA|002|{p.notice_number}|{p.ente_cf}|{amount}" in qr_texts(html)


def test_the_desk_link_opens_the_form_filled_for_that_position(personas, mario) -> None:
    p, amount = mario
    card = personas.client("sportello").get(f"/contribuenti/{p.taxpayer_id}").get_data(as_text=True)
    assert f'href="/pagamenti/sportello?posizione={p.id}"' in card
    form = personas.client("sportello").get(f"/pagamenti/sportello?posizione={p.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{p.ente_code}"|<option value="{p.ente_code}" selected', form)
    assert f'value="{p.external_id}"' in form
    assert f'value="{amount // 100},{amount % 100:02d}"' in form


def test_roles_that_cannot_take_payments_see_no_desk_link(personas, mario) -> None:
    p, _ = mario
    card = personas.client("callcenter").get(f"/contribuenti/{p.taxpayer_id}").get_data(as_text=True)
    assert "/pagamenti/sportello" not in card
    assert "Incassa allo sportello" not in card


def test_the_desk_prefill_does_not_reveal_a_position_out_of_scope(app, personas, mario) -> None:
    p, _ = mario
    from app.auth.models import User
    from app.enti.models import Ente

    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.username == "sportello")).one()
        r02 = db.session.scalars(db.select(Ente).where(Ente.code == "R02")).one()
        user.enti = [r02]
        db.session.commit()
    form = personas.client("sportello").get(f"/pagamenti/sportello?posizione={p.id}").get_data(as_text=True)
    assert p.external_id not in form
