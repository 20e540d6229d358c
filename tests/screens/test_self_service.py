"""Point 5 of issue 9 (self-service basics) and the taxpayer's quietanze (point 4): states as labels, the
amount of the notice helper, no staff search box, one landing page, own receipts only."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.extensions import db
from app.positions.models import Position
from app.positions.notice_view import notice_amount_cents, today
from app.reports.formatting import format_eur
from tests.screens.support import mario_position


def _desk_payment(app, position_id: int, cents: int):
    from app.core.audit import Actor
    from app.payments import services
    from app.positions.services import system_principal

    with app.app_context():
        payment = services.register_desk_payment(
            db.session,
            system_principal(db.session),
            Actor.system("test"),
            position_id=position_id,
            amount_cents=cents,
            channel="contanti",
            paid_date=dt.date(2026, 11, 30),
        )
        db.session.commit()
        return payment.id, payment.receipt_number


def _other_taxpayers_position(app, taxpayer_id: int) -> int:
    import sqlalchemy as sa

    with app.app_context():
        return db.session.scalars(
            sa.select(Position.id)
            .where(Position.taxpayer_id != taxpayer_id, Position.state != "pagata")
            .order_by(Position.id)
        ).first()


def test_the_taxpayer_has_no_staff_search_box_and_one_landing_page(personas) -> None:
    client = personas.client("contribuente")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/self-service/")
    html = client.get("/self-service/").get_data(as_text=True)
    assert 'id="esa-search-q"' not in html and 'action="/contribuenti/"' not in html
    nav = re.search(r'<ul class="navbar-nav">(.*?)</ul>', html, flags=re.S).group(1)
    assert re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', nav) == [
        "/self-service/", "/self-service/documenti", "/self-service/pagamenti", "/self-service/rateazione",
        "/self-service/appuntamenti", "/self-service/recapiti", "/self-service/assistenza",
    ]
    assert client.get("/contribuenti/").status_code == 403  # what the box used to lead to


def test_states_are_labels_and_the_amount_is_the_notice_amount(app, personas) -> None:
    with app.app_context():
        p = mario_position(db.session)
        position = db.session.get(Position, p.id)
        state = position.state
        amount = notice_amount_cents(db.session, position, today())
    html = personas.client("contribuente").get("/self-service/").get_data(as_text=True)
    table = re.search(r'data-testid="self-positions".*?</table>', html, flags=re.S).group(0)
    from app.engine.states import STATES

    assert STATES[state] in table and f">{state}<" not in table
    assert format_eur(amount) in table
    assert "interessi compresi" in html


def test_the_taxpayer_downloads_their_own_quietanze_only(app, personas) -> None:
    with app.app_context():
        p = mario_position(db.session)
    own_id, own_number = _desk_payment(app, p.id, 1000)
    other_id, _ = _desk_payment(app, _other_taxpayers_position(app, p.taxpayer_id), 100)
    client = personas.client("contribuente")
    html = client.get("/self-service/").get_data(as_text=True)
    assert own_number in html
    link = f"/pagamenti/le-mie-quietanze/{own_id}.pdf"
    assert f'href="{link}"' in html
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"/pagamenti/le-mie-quietanze/{other_id}.pdf").status_code == 404
    assert f"/pagamenti/le-mie-quietanze/{other_id}.pdf" not in html
    # the staff route stays closed to taxpayers, and staff have their own
    assert client.get(f"/pagamenti/{own_id}/quietanza.pdf").status_code == 403
    assert personas.client("sportello").get(link).status_code == 403


@pytest.mark.parametrize("path", ["/privacy", "/accessibilita"])
def test_the_legal_pages_are_reachable_without_login_and_linked_from_the_footer(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 200
    login = client.get("/login").get_data(as_text=True)
    footer = login[login.index('id="footer"') :]
    assert f'href="{path}"' in footer


def test_the_privacy_notice_has_the_article_13_contents(client) -> None:
    html = client.get("/privacy").get_data(as_text=True)
    for heading in (
        "Titolare del trattamento",
        "Finalità",
        "Base giuridica",
        "Destinatari",
        "Conservazione",
        "Diritti dell'interessato",
        "Reclamo",
    ):
        assert heading in html, heading
    assert "art. 13" in html and "Garante per la protezione dei dati personali" in html


def test_the_accessibility_statement_follows_the_agid_model(client) -> None:
    html = client.get("/accessibilita").get_data(as_text=True)
    for heading in (
        "Dichiarazione di accessibilità",
        "Stato di conformità",
        "Contenuti non accessibili",
        "Redazione della dichiarazione",
        "Meccanismo di feedback e informazioni di contatto",
        "Procedura di attuazione",
    ):
        assert heading in html, heading
    assert "Legge 9 gennaio 2004, n. 4" in html and "Difensore civico per il digitale" in html


@pytest.mark.parametrize(
    ("persona", "path"), [("contribuente", "/self-service/"), ("sportello", "/contribuenti/")]
)
def test_the_amounts_due_are_computed_once_for_the_table_and_the_notices(
    app, personas, monkeypatch, persona, path
):
    """The self-service page and the card compute each position's amount due once (the card's balances) and
    show the same figure in the table and on the notice."""
    from app.positions import amounts
    from app.taxpayers import queries

    with app.app_context():
        p = mario_position(db.session)
    calls: list[list[int]] = []
    real = amounts.amounts_due

    def counted(session, positions, on, **kwargs):
        calls.append([x.id for x in positions])
        return real(session, positions, on, **kwargs)

    monkeypatch.setattr(amounts, "amounts_due", counted)
    monkeypatch.setattr(queries, "amounts_due", counted)
    url = path if path.startswith("/self-service") else f"{path}{p.taxpayer_id}"
    html = personas.client(persona).get(url).get_data(as_text=True)
    assert calls and all(p.id in ids for ids in calls)
    assert len(calls) == 1, calls
    notice = re.search(
        rf'data-testid="notice-{p.id}".*?data-testid="notice-amount">([^<]+)<', html, flags=re.S
    )
    assert notice, "the position's notice is on the page"
    assert notice.group(1).strip() in html.replace(notice.group(0), "")  # the same figure in the table
