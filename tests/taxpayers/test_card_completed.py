"""The completed card (issue 12 point 3): domicilio digitale, links between taxpayers, the timeline by group,
quick actions, the estratto conto PDF, the sections' exports and a constant number of queries."""

from __future__ import annotations

import collections
import datetime as dt
import io
import re

import pdfplumber
import sqlalchemy as sa

from app.demo.seed import COMPANY_CF, MARIO_ROSSI_CF, SECOND_ENTE_CF
from tests.conftest import csrf_token
from tests.test_access import taxpayer_id

HX = {"HX-Request": "true"}


def _ids(app) -> tuple[int, int, int]:
    with app.app_context():
        return taxpayer_id(MARIO_ROSSI_CF), taxpayer_id(COMPANY_CF), taxpayer_id(SECOND_ENTE_CF)


def _events(app, taxpayer: int, kind: str) -> list:
    from app.core.audit import Event
    from app.extensions import db

    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Event).where(Event.taxpayer_id == taxpayer, Event.kind == kind).order_by(Event.id)
            )
        )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


# ---------------------------------------------------------------------------------------------------------
# Domicilio digitale


def test_domicilio_digitale_is_a_new_version_with_its_source_and_an_event(app, personas) -> None:
    mario, _, _ = _ids(app)
    client = personas.client("sportello")
    token = csrf_token(client, f"/contribuenti/{mario}")
    url = f"/contribuenti/{mario}/domicilio-digitale"
    first = client.post(url, data={"csrf_token": token, "indirizzo": "mario@pec.esempio.it", "fonte": "INAD"})
    assert first.status_code == 302
    second = client.post(
        url, data={"csrf_token": token, "indirizzo": "rossi@legalmail.it", "fonte": "contribuente"}
    )
    assert second.status_code == 302
    html = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    shown = _text(html.split('data-testid="domicilio-digitale"')[1].split("</p>")[0])
    assert "rossi@legalmail.it" in shown and "Dichiarato dal contribuente" in shown
    history = _text(html.split('data-testid="domicilio-history"')[1].split("</details>")[0])
    assert "mario@pec.esempio.it" in history and "INAD" in history
    events = _events(app, mario, "domicilio_digitale.changed")
    assert [e.payload["source"] for e in events] == ["INAD", "contribuente"]
    assert events[1].payload["previous"] == "mario@pec.esempio.it"
    # the same address from the same source again: nothing new
    client.post(url, data={"csrf_token": token, "indirizzo": "rossi@legalmail.it", "fonte": "contribuente"})
    assert len(_events(app, mario, "domicilio_digitale.changed")) == 2


def test_a_bad_domicilio_is_refused_with_an_italian_message_and_nothing_saved(app, personas) -> None:
    mario, _, _ = _ids(app)
    client = personas.client("backoffice")
    token = csrf_token(client, f"/contribuenti/{mario}")
    response = client.post(
        f"/contribuenti/{mario}/domicilio-digitale",
        data={"csrf_token": token, "indirizzo": "non è una pec", "fonte": "operatore"},
    )
    assert response.status_code == 422
    assert "Indirizzo del domicilio digitale non valido" in response.get_data(as_text=True)
    assert _events(app, mario, "domicilio_digitale.changed") == []


def test_callcenter_reads_the_domicilio_but_gets_no_form_and_cannot_post(app, personas) -> None:
    mario, _, _ = _ids(app)
    client = personas.client("callcenter")
    html = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    assert "Domicilio digitale" in html
    assert 'data-testid="domicilio-form"' not in html and 'data-testid="relation-form"' not in html
    token = csrf_token(client, f"/contribuenti/{mario}")
    refused = client.post(
        f"/contribuenti/{mario}/domicilio-digitale",
        data={"csrf_token": token, "indirizzo": "a@pec.it", "fonte": "operatore"},
    )
    assert refused.status_code == 403


def test_the_header_search_finds_a_taxpayer_by_domicilio_digitale(app, personas) -> None:
    from app.core.audit import Actor
    from app.extensions import db
    from app.taxpayers.models import Taxpayer
    from app.taxpayers.services import set_domicilio_digitale

    mario, _, _ = _ids(app)
    with app.app_context():
        set_domicilio_digitale(
            db.session, Actor.system("test"), db.session.get(Taxpayer, mario), "Mario.R@PEC.it", source="INAD"
        )
        db.session.commit()
    html = personas.client("callcenter").get("/contribuenti/?q=mario.r@pec.it").get_data(as_text=True)
    assert MARIO_ROSSI_CF in html


# ---------------------------------------------------------------------------------------------------------
# Links between taxpayers


def _add_representative(client, company: int, representative_cf: str, **extra: str):
    token = csrf_token(client, f"/contribuenti/{company}")
    data = {
        "csrf_token": token,
        "tipo": "rappresentante_legale",
        "codice_fiscale": representative_cf,
        "dal": "2024-01-01",
        "fonte": "Visura camerale 2024",
        **extra,
    }
    return client.post(f"/contribuenti/{company}/collegamenti", data=data)


def test_a_legal_representative_shows_on_both_cards_with_links_and_events(app, personas) -> None:
    mario, company, _ = _ids(app)
    client = personas.client("backoffice")
    assert _add_representative(client, company, MARIO_ROSSI_CF).status_code == 302
    company_html = client.get(f"/contribuenti/{company}").get_data(as_text=True)
    section = company_html.split('data-testid="card-relations"')[1].split("</section>")[0]
    assert f'href="/contribuenti/{mario}"' in section and "Rappresentante legale" in section
    mario_html = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    section = mario_html.split('data-testid="card-relations"')[1].split("</section>")[0]
    assert f'href="/contribuenti/{company}"' in section and "Rappresentante legale di" in section
    assert len(_events(app, company, "relation.added")) == 1
    assert len(_events(app, mario, "relation.added")) == 1
    # the same open link again is refused, nothing added
    again = _add_representative(client, company, MARIO_ROSSI_CF)
    assert again.status_code == 422 and "già registrato" in again.get_data(as_text=True)
    # ending it keeps the row (history) and records an event on both timelines
    from app.extensions import db
    from app.taxpayers.models import TaxpayerRelation

    with app.app_context():
        relation_id = db.session.scalars(sa.select(TaxpayerRelation.id)).one()
    token = csrf_token(client, f"/contribuenti/{company}")
    ended = client.post(
        f"/contribuenti/{company}/collegamenti/chiudi",
        data={"csrf_token": token, "collegamento": relation_id, "al": "2025-06-30", "motivo": "dimissioni"},
    )
    assert ended.status_code == 302
    with app.app_context():
        relation = db.session.get(TaxpayerRelation, relation_id)
        assert relation.valid_to == dt.date(2025, 6, 30)
        from app.core.history import RowVersion

        version = db.session.scalars(
            sa.select(RowVersion).where(
                RowVersion.table_name == "taxpayer_relations", RowVersion.row_id == relation_id
            )
        ).one()
        assert "valid_to" in version.changed and version.before["valid_to"] is None
    assert len(_events(app, mario, "relation.ended")) == 1
    html = client.get(f"/contribuenti/{company}").get_data(as_text=True)
    assert "al 30/06/2025" in _text(html.split('data-testid="card-relations"')[1].split("</section>")[0])
    export = client.get(f"/contribuenti/{company}/collegamenti.csv").get_data(as_text=True)
    assert MARIO_ROSSI_CF in export and "Visura camerale 2024" in export


def test_an_heir_needs_a_natural_person_and_a_company_a_representative(app, personas) -> None:
    _, company, _ = _ids(app)
    client = personas.client("backoffice")
    response = _add_representative(client, company, MARIO_ROSSI_CF, tipo="erede")
    assert response.status_code == 422 and "persona fisica" in response.get_data(as_text=True)
    unknown = _add_representative(client, company, "RSSMRA80A01H501X")
    assert unknown.status_code == 422


def test_a_link_to_a_taxpayer_of_another_ente_is_not_shown(app, personas) -> None:
    """R02's taxpayer linked to Mario (R01): R01 staff (regione) do not see the link; both enti's staff do."""
    from app.core.audit import Actor
    from app.extensions import db
    from app.taxpayers.models import Taxpayer
    from app.taxpayers.services import add_relation

    mario, _, other = _ids(app)
    with app.app_context():
        add_relation(
            db.session,
            Actor.system("test"),
            kind="erede",
            from_taxpayer=db.session.get(Taxpayer, mario),
            to_taxpayer=db.session.get(Taxpayer, other),
            valid_from=dt.date(2025, 1, 1),
            source="Dichiarazione di successione",
        )
        db.session.commit()
    html = personas.client("regione").get(f"/contribuenti/{mario}").get_data(as_text=True)
    section = html.split('data-testid="card-relations"')[1].split("</section>")[0]
    assert SECOND_ENTE_CF not in section and "Nessun collegamento" in section
    both = personas.client("backoffice").get(f"/contribuenti/{mario}").get_data(as_text=True)
    assert SECOND_ENTE_CF in both.split('data-testid="card-relations"')[1].split("</section>")[0]
    assert personas.client("regione2").get(f"/contribuenti/{mario}").status_code == 404


# ---------------------------------------------------------------------------------------------------------
# Timeline by group


def test_the_timeline_filters_by_group_through_htmx(app, personas) -> None:
    from app.core.timeline import group_of

    mario, _, _ = _ids(app)
    client = personas.client("sportello")
    for group in ("posizioni", "pagamenti", "anagrafica"):
        html = client.get(f"/contribuenti/{mario}/cronologia?gruppo={group}", headers=HX).get_data(True)
        kinds = re.findall(r'data-event-kind="([^"]+)"', html)
        assert all(group_of(k) == group for k in kinds), (group, kinds)
        assert f'data-timeline-group="{group}"' in html and 'aria-pressed="true"' in html
    positions = client.get(f"/contribuenti/{mario}/cronologia?gruppo=posizioni", headers=HX).get_data(True)
    assert "Posizione caricata" in positions
    # without HTMX: the card, filtered
    page = client.get(f"/contribuenti/{mario}/cronologia?gruppo=posizioni")
    assert page.status_code == 302 and "gruppo=posizioni" in page.location
    assert client.get(f"/contribuenti/{mario}?gruppo=nessuno").status_code == 400
    assert client.get(f"/contribuenti/{mario}/cronologia?gruppo=x%00", headers=HX).status_code == 400


def test_the_timeline_shows_the_last_50_and_loads_the_others(app, personas) -> None:
    from app.core.audit import Actor, record_event
    from app.extensions import db

    mario, _, _ = _ids(app)
    with app.app_context():
        for n in range(70):
            record_event(
                db.session, Actor.system("test"), "taxpayer.updated", f"modifica {n}", taxpayer_id=mario,
                occurred_dt=dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
            )
        db.session.commit()
    client = personas.client("sportello")
    html = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    timeline = html.split('data-testid="card-timeline"')[1]
    assert timeline.count('data-event-kind="') == 50
    assert "modifica 69" in timeline and "modifica 19" not in timeline
    more = re.search(r'hx-get="([^"]*da=50[^"]*)"', timeline)
    assert more, "no 'mostra altri'"
    rest = client.get(more.group(1).replace("&amp;", "&"), headers=HX).get_data(as_text=True)
    assert "modifica 19" in rest and "modifica 20" not in rest
    assert 'data-event-kind="' in rest


def test_the_timeline_export_keeps_the_group(app, personas) -> None:
    mario, _, _ = _ids(app)
    client = personas.client("backoffice")
    everything = client.get(f"/contribuenti/{mario}/cronologia.csv").get_data(as_text=True)
    positions = client.get(f"/contribuenti/{mario}/cronologia.csv?gruppo=posizioni").get_data(as_text=True)
    assert "position.loaded" in positions and "taxpayer.created" not in positions
    assert "taxpayer.created" in everything or "position.loaded" in everything
    assert len(everything.splitlines()) >= len(positions.splitlines())
    xlsx = client.get(f"/contribuenti/{mario}/cronologia.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    contacts = client.get(f"/contribuenti/{mario}/recapiti.csv").get_data(as_text=True)
    assert "mario.rossi@pec.esempio.it" in contacts and "Via del Corso 12" in contacts
    assert personas.client("callcenter").get(f"/contribuenti/{mario}/cronologia.csv").status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Quick actions


def test_quick_actions_follow_the_role(app, personas) -> None:
    mario, _, _ = _ids(app)

    def actions(persona: str) -> list[tuple[str, str]]:
        html = personas.client(persona).get(f"/contribuenti/{mario}").get_data(as_text=True)
        bar = html.split('data-testid="quick-actions"')[1].split("</nav>")[0]
        return re.findall(r'href="([^"]+)" data-quick-action="([^"]+)"', bar)

    sportello = dict((key, href) for href, key in actions("sportello"))
    assert set(sportello) >= {"documento", "rateazione"}
    assert sportello["documento"].endswith(f"contribuente={mario}")
    callcenter = {key for _, key in actions("callcenter")}
    assert "documento" not in callcenter and "rateazione" in callcenter
    html = personas.client("callcenter").get(f"/contribuenti/{mario}").get_data(as_text=True)
    bar = html.split('data-testid="quick-actions"')[1].split("</nav>")[0]
    assert 'data-quick-action="estratto-conto"' in bar
    for persona in ("sportello", "callcenter", "regione"):  # no action answers 403 to who sees it
        client = personas.client(persona)
        for href, _ in actions(persona):
            if not href.startswith("#"):
                assert client.get(href.replace("&amp;", "&")).status_code == 200, (persona, href)


# ---------------------------------------------------------------------------------------------------------
# Estratto conto


def test_the_estratto_conto_has_the_engines_amounts_and_is_an_event(app, personas) -> None:
    from app.core.access import principal_of
    from app.engine.notice import grouped
    from app.extensions import db
    from app.payments.models import NoticeNumber
    from app.positions.amounts import amounts_due, today_rome
    from app.positions.queries import list_positions_of_taxpayer
    from app.reports.formatting import format_eur
    from tests.conftest import user_by_name

    mario, _, _ = _ids(app)
    client = personas.client("sportello")
    token = csrf_token(client, f"/contribuenti/{mario}")
    response = client.post(f"/contribuenti/{mario}/estratto-conto.pdf", data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages).replace("\xa0", " ")
    with app.app_context():
        principal = principal_of(user_by_name("sportello"))
        positions = list_positions_of_taxpayer(db.session, principal, mario)
        due = amounts_due(db.session, positions, today_rome())
        numbers = {
            row.position_id: row.notice_number
            for row in db.session.execute(
                sa.select(NoticeNumber.position_id, NoticeNumber.notice_number).where(
                    NoticeNumber.position_id.in_([p.id for p in positions]),
                    NoticeNumber.item_kind == "posizione",
                )
            ).all()
        }
        externals = [p.external_id for p in positions]
    assert positions and "Estratto conto" in text and MARIO_ROSSI_CF in text
    for p in positions:
        assert p.external_id in text
        assert format_eur(due[p.id].total_cents).replace("\xa0", " ") in text
    total = sum(d.total_cents for d in due.values())
    assert f"Totale ({len(externals)} posizioni)" in text
    assert format_eur(total).replace("\xa0", " ") in text
    for number in numbers.values():
        assert grouped(number) in text
    assert today_rome().strftime("%d/%m/%Y") in text
    (event,) = _events(app, mario, "estratto_conto.printed")
    assert event.payload["total_due_cents"] == total


def test_the_estratto_conto_of_another_entes_taxpayer_is_not_found(app, personas) -> None:
    _, _, other = _ids(app)
    client = personas.client("regione")
    token = csrf_token(client, "/contribuenti/")
    response = client.post(f"/contribuenti/{other}/estratto-conto.pdf", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.get(f"/contribuenti/{other}/estratto-conto.pdf").status_code == 405
    assert _events(app, other, "estratto_conto.printed") == []


# ---------------------------------------------------------------------------------------------------------
# A constant number of queries


def _card_queries(app, client, taxpayer: int) -> list[str]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def before(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        assert client.get(f"/contribuenti/{taxpayer}").status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", before)
    return statements


def test_the_card_runs_the_same_number_of_queries_for_2_or_40_positions(app, personas) -> None:
    from app.core.audit import Actor, record_event
    from app.extensions import db
    from app.positions.models import Movement, Position

    mario, _, _ = _ids(app)
    client = personas.client("sportello")
    _card_queries(app, client, mario)  # warm-up
    before = _card_queries(app, client, mario)
    with app.app_context():
        template = db.session.scalars(
            sa.select(Position).where(Position.taxpayer_id == mario).order_by(Position.id)
        ).first()
        for n in range(40):
            position = Position(
                ente_id=template.ente_id, entrata_id=template.entrata_id, taxpayer_id=mario,
                external_id=f"QC-{n}", year=2024, due_date=dt.date(2024, 3, 1), state=template.state,
            )
            db.session.add(position)
            db.session.flush()
            db.session.add(Movement(position_id=position.id, component="capitale", kind="carico",
                                    amount_cents=10000 + n, value_date=dt.date(2024, 3, 1), source="test"))
            record_event(db.session, Actor.system("test"), "position.loaded", f"QC-{n}",
                         taxpayer_id=mario, position_id=position.id, ente_id=template.ente_id)
        db.session.commit()
    after = _card_queries(app, client, mario)
    html = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    assert 'data-testid="card-positions-more"' in html and html.count('data-testid="due-explain"') == 25
    everything = client.get(f"/contribuenti/{mario}?tutte=1").get_data(as_text=True)
    assert "QC-39" in everything and 'data-testid="card-positions-more"' not in everything
    extra = collections.Counter(after) - collections.Counter(before)
    assert len(after) == len(before), (len(before), len(after), extra.most_common(3))


def test_the_card_draws_two_notices_and_loads_the_others_on_demand(app, personas) -> None:
    from app.extensions import db
    from app.payments.models import NoticeNumber
    from app.positions.models import Movement, Position

    mario, _, _ = _ids(app)
    with app.app_context():
        template = db.session.scalars(
            sa.select(Position).where(Position.taxpayer_id == mario).order_by(Position.id)
        ).first()
        for n in range(14):
            position = Position(
                ente_id=template.ente_id, entrata_id=template.entrata_id, taxpayer_id=mario,
                external_id=f"AV-{n}", year=2024, due_date=dt.date(2024, 3, 1), state="notificata",
            )
            db.session.add(position)
            db.session.flush()
            db.session.add(Movement(position_id=position.id, component="capitale", kind="carico",
                                    amount_cents=10000 + n, value_date=dt.date(2024, 3, 1), source="test"))
            db.session.add(NoticeNumber(
                ente_id=template.ente_id, position_id=position.id, item_kind="posizione", item_ref="",
                iuv_base=7000000000 + n, notice_number=f"3{7000000000 + n:017d}",
                iuv=f"{7000000000 + n:017d}",
                amount_cents=10000 + n, issued_date=dt.date(2024, 3, 1),
            ))
        db.session.commit()
    client = personas.client("sportello")
    html = client.get(f"/contribuenti/{mario}").get_data(as_text=True)
    notices = html.split('data-testid="card-notices"')[1].split("</section>")[0]
    assert notices.count("<svg") == 2
    more = re.search(r'hx-get="([^"]*/avvisi[^"]*)"', notices)
    assert more and "Mostra altri avvisi di pagamento" in notices
    page = client.get(more.group(1).replace("&amp;", "&"), headers=HX).get_data(as_text=True)
    assert page.count("<svg") == 10 and "notices-more" in page
    last = re.search(r'hx-get="([^"]*/avvisi[^"]*)"', page)
    rest = client.get(last.group(1).replace("&amp;", "&"), headers=HX).get_data(as_text=True)
    assert rest.count("<svg") >= 2 and "notices-more" not in rest
    assert client.get(more.group(1).replace("&amp;", "&")).status_code == 302


def test_every_event_kind_has_the_group_its_name_says() -> None:
    from app.core.timeline import group_expression, group_of

    assert group_of("contact.logged") == group_of("contact.recorded") == "contatti"
    assert group_of("appointment.booked") == "contatti"
    assert group_of("contact.changed") == "anagrafica"  # a changed phone number is anagrafica
    assert group_of("payment.allocated") == "pagamenti" and group_of("act.notified") == "atti"
    assert group_of("document.filed") == group_of("estratto_conto.printed") == "documenti"
    assert group_of("message.sent") == "messaggi" and group_of("position.loaded") == "posizioni"
    assert group_of("relation.added") == group_of("something.else") == "anagrafica"
    assert "CASE" in str(group_expression(sa.column("kind")))
