"""The knowledge base: articles written and edited with history, Italian full-text search with stemming on
the embedded backend (PostgreSQL `italian`) in its own table beside the archive's, ente scope, office hours
with the national holidays closed, the card's side panel."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.conftest import csrf_token


def _ente(app, code: str) -> int:  # type: ignore[no-untyped-def]
    """Read in an app context of its own: the test's clients must not share one (Flask-Login caches the
    signed-in user in `g`)."""
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        return int(db.session.scalars(sa.select(Ente.id).where(Ente.code == code)).one())


def _article(client, token: str, **fields: str) -> str:  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": token,
        "kind": "faq",
        "ente_id": "0",
        "title": "Titolo",
        "body": "Testo",
        "tags": "",
        "entrate": "",
        "valid_from": "2026-01-01",
        "valid_to": "",
        **fields,
    }
    response = client.post("/conoscenza/nuovo", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return str(response.headers["Location"])


def test_search_finds_inflected_words_and_keeps_the_history(app, personas) -> None:
    client = personas.client("backoffice")
    token = csrf_token(client, "/conoscenza/nuovo")
    r01 = _ente(app, "R01")
    url = _article(
        client,
        token,
        title="Rateizzazione delle cartelle",
        ente_id=str(r01),
        body="Il contribuente può chiedere la rateazione dei debiti fino a 72 rate mensili.",
        tags="rateazione, piani",
        entrate="tassa_auto",
    )
    # stemming: "rata" and "debito" find "rate" and "debiti"
    for query in ("rata", "debito", "rateizzazioni"):
        page = client.get(f"/conoscenza/?q={query}").get_data(as_text=True)
        assert "Rateizzazione delle cartelle" in page, query
    assert "<em>" in client.get("/conoscenza/?q=debito").get_data(as_text=True)
    article_id = int(url.rsplit("/", 1)[1])
    response = client.post(
        f"/conoscenza/{article_id}/modifica",
        data={
            "csrf_token": token,
            "kind": "faq",
            "ente_id": str(r01),
            "title": "Rateazione: come chiederla",
            "body": "Domanda allo sportello o dal portale.",
            "tags": "rateazione",
            "entrate": "TASSA_AUTO",
            "valid_from": "2026-01-01",
            "valid_to": "",
        },
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Rateazione: come chiederla" in page and "Rateizzazione delle cartelle" in page  # the old version
    assert "Rateazione: come chiederla" in client.get("/conoscenza/?q=portale").get_data(as_text=True)
    assert "Rateazione: come chiederla" not in client.get("/conoscenza/?q=mensili").get_data(as_text=True)
    # the archive's documents index is another table: the article is not a document
    from app.extensions import db
    from search.embedded import TABLE

    with app.app_context():
        stmt = sa.text(f"SELECT count(*) FROM {TABLE} WHERE title LIKE 'Rateazione%'")  # noqa: S608
        assert db.session.execute(stmt).scalar() == 0


def test_an_article_of_one_ente_is_not_seen_by_another_regione(app, personas) -> None:
    client = personas.client("backoffice")
    token = csrf_token(client, "/conoscenza/nuovo")
    url = _article(
        client,
        token,
        title="Sportello di Roma chiuso per lavori",
        ente_id=str(_ente(app, "R02")),
        body="Lo sportello resta chiuso per lavori di ristrutturazione.",
        kind="notizia",
    )
    assert personas.client("regione2").get(url).status_code == 200
    assert personas.client("regione").get(url).status_code == 404
    assert "Sportello di Roma" not in personas.client("regione").get("/conoscenza/?q=lavori").get_data(
        as_text=True
    )
    regione = personas.client("regione")
    assert (
        regione.post(
            "/conoscenza/nuovo", data={"csrf_token": csrf_token(regione, "/conoscenza/")}
        ).status_code
        == 403
    )
    assert personas.client("contribuente").get("/conoscenza/").status_code == 403


def test_office_hours_show_8_december_closed(app, personas) -> None:
    from app.crm.knowledge.models import Article
    from app.crm.knowledge.queries import opening_days

    article = Article(
        kind="orari",
        title="Sportello centrale",
        body="Via Roma 1",
        valid_from=dt.date(2026, 1, 1),
        office_hours={"0": "09:00-13:00", "1": "09:00-13:00, 14:30-16:30"},
        author_label="t",
    )
    days = {d.day: d for d in opening_days(article, dt.date(2026, 12, 7), 3)}
    assert days[dt.date(2026, 12, 7)].hours == "09:00-13:00"
    assert days[dt.date(2026, 12, 8)].hours is None and "Immacolata" in (
        days[dt.date(2026, 12, 8)].closed_reason or ""
    )
    assert days[dt.date(2026, 12, 9)].closed_reason == "Chiuso"
    client = personas.client("admin")
    token = csrf_token(client, "/conoscenza/nuovo")
    bad = client.post(
        "/conoscenza/nuovo",
        data={
            "csrf_token": token,
            "kind": "orari",
            "ente_id": "0",
            "title": "Orari",
            "body": "x",
            "valid_from": "2026-01-01",
            "hours_0": "9-13",
        },
    )
    assert bad.status_code == 200 and "09:00-13:00" in bad.get_data(as_text=True)
    url = _article(
        client,
        token,
        kind="orari",
        title="Sportello centrale",
        body="Via Roma 1",
        office_name="Sportello centrale",
        hours_0="09:00-13:00",
        hours_1="09:00-13:00",
    )
    assert 'data-testid="opening-days"' in client.get(url).get_data(as_text=True)


def test_the_card_panel_shows_articles_of_the_taxpayers_entrate(app, personas) -> None:
    from app.demo.seed import MARIO_ROSSI_CF
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        taxpayer_id = db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).one()
    client = personas.client("admin")
    token = csrf_token(client, "/conoscenza/nuovo")
    # the demo's Mario Rossi owes CANONI only
    _article(
        client, token, title="Canoni demaniali: scadenze", body="Le scadenze dei canoni.", entrate="canoni"
    )
    _article(client, token, title="Bollo auto: esenzioni", body="Veicoli storici.", entrate="TASSA_AUTO")
    card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert f"/conoscenza/scheda/{taxpayer_id}" in card
    panel = client.get(f"/conoscenza/scheda/{taxpayer_id}").get_data(as_text=True)
    assert "Canoni demaniali: scadenze" in panel and "Bollo auto: esenzioni" not in panel
    assert personas.client("regione2").get(f"/conoscenza/scheda/{taxpayer_id}").status_code == 404
