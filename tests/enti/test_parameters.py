"""The legal parameters on /amministrazione/parametri: rates shown as Italian percentages, sources that are
legal citations (also in the deadlines API), verification against the Gazzetta Ufficiale recorded with who,
when and which publication, and new periods that close the previous one instead of overwriting it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, user_by_name

PAGE = "/amministrazione/parametri"
#: A legal citation starts with the act it cites (independent of app/enti/citations.py, which must agree).
CITATION = re.compile(
    r"^(?:art\. \d|D\.M\. \d|D\.L\. \d|D\.Lgs\. \d|D\.P\.R\. \d|L\. \d|Provv\. Agenzia delle Entrate \d)"
)
#: What a research note or a file/web reference looks like; none of it may be in a source.
NOT_IN_A_SOURCE = re.compile(
    r"https?:|www\.|://|\.md\b|domain|formats|§|unconfirmed|ricordo|verificar|confermare|"
    r"\b[a-z0-9-]+\.(?:it|com|org|net|info)\b|[A-Za-z]/|/[A-Za-z]",
    re.IGNORECASE,
)


def _rows(session):
    from app.enti.models import Parameter, RatePeriod, RateTable

    rates = session.execute(
        sa.select(RateTable.code, RatePeriod)
        .join(RatePeriod.table)
        .order_by(RateTable.code, RatePeriod.valid_from)
    ).all()
    return rates, list(session.scalars(sa.select(Parameter).order_by(Parameter.code, Parameter.valid_from)))


def _legale(session, valid_from: dt.date):
    from app.enti.models import RatePeriod, RateTable

    return session.scalars(
        sa.select(RatePeriod)
        .join(RatePeriod.table)
        .where(RateTable.code == "legale", RatePeriod.valid_from == valid_from)
    ).one()


def assert_legal_citation(source: str, what: str) -> None:
    from app.enti.citations import citation_error

    assert CITATION.match(source), (what, source)
    assert not NOT_IN_A_SOURCE.search(source), (what, source)
    assert citation_error(source) is None, (what, source)


def test_rates_are_shown_as_italian_percentages(personas) -> None:
    html = personas.client("admin").get(PAGE).get_data(as_text=True)
    shown = dict(re.findall(r'data-testid="rate-([\w-]+)">([^<]*)<', html))
    assert shown["legale-2022-01-01"] == "1,25%"
    assert shown["legale-2020-01-01"] == "0,05%"
    assert shown["legale-2023-01-01"] == "5,00%"
    assert shown["legale-2026-01-01"] == "1,60%"
    assert shown["mora_dpr602_art30-2019-07-01"] == "2,68%"
    assert shown["mora_dpr602_art30-2009-10-01"] == "6,8358%"
    assert "125,0000%" not in html and "268,0000%" not in html


def test_parameter_values_are_shown_in_italian(personas) -> None:
    html = unescape(personas.client("admin").get(PAGE).get_data(as_text=True))
    for line in (
        "Tetto della misura ridotta: 300,00 €",
        "Misura piena: 6,00%",
        "Importo: 20.000,00 €",
        "Fasce: fino a 100,00 €: nessuna rateazione; fino a 500,00 €: da 2 a 4 rate;",
        "Ordine di imputazione: spese, interessi, sanzioni, capitale",
    ):
        assert f"<li>{line}" in html, line
    assert '"reduced_cap"' not in html


def test_every_seeded_source_is_a_legal_citation(session) -> None:
    rates, parameters = _rows(session)
    assert len(rates) > 30 and len(parameters) > 15
    for code, period in rates:
        assert_legal_citation(period.source, f"{code} dal {period.valid_from}")
    for parameter in parameters:
        assert_legal_citation(parameter.source, f"{parameter.code} dal {parameter.valid_from}")
    legale_2022 = _legale(session, dt.date(2022, 1, 1))
    assert legale_2022.source == "D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)"
    assert "buildnews.it" in legale_2022.note  # the research note is kept, apart from the source


def test_no_source_or_note_is_shown_on_the_page(personas, session) -> None:
    html = personas.client("admin").get(PAGE).get_data(as_text=True)
    for banned in ("domain.md", "unconfirmed", "ricordo non verificato", "buildnews.it", "http"):
        assert banned not in html, banned
    assert "D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)" in html


@pytest.mark.parametrize("regime", ["tassa_auto", "5y", "10y"])
def test_deadlines_api_source_is_a_legal_citation(client, regime: str) -> None:
    response = client.post("/api/v1/engine/deadlines", json={"regime": regime, "due_date": "2021-01-31"})
    assert response.status_code == 200
    assert_legal_citation(response.json["source"], regime)


def test_the_deadlines_source_comes_from_the_parameter_row(client, session) -> None:
    from app.enti.models import Parameter

    row = session.scalars(sa.select(Parameter).where(Parameter.code == "prescription_tassa_auto")).one()
    row.source = "D.L. 953/1982 art. 5 c. 51 (testo vigente)"
    session.commit()  # the outer test transaction is rolled back afterwards
    response = client.post(
        "/api/v1/engine/deadlines", json={"regime": "tassa_auto", "due_date": "2021-01-31"}
    )
    assert response.json["source"] == "D.L. 953/1982 art. 5 c. 51 (testo vigente)"


def test_unverified_rows_are_marked_for_the_admin(personas, session) -> None:
    period = _legale(session, dt.date(2022, 1, 1))
    assert period.verified is False
    html = personas.client("admin").get(PAGE).get_data(as_text=True)
    assert re.search(rf'data-testid="unverified-tasso-{period.id}">da verificare<', html)
    assert f"/amministrazione/parametri/tasso/{period.id}/verifica" in html


def test_verification_records_who_when_and_against_which_publication(app, personas, session) -> None:
    from app.core.audit import Event
    from app.core.history import RowVersion

    period = _legale(session, dt.date(2022, 1, 1))
    url = f"/amministrazione/parametri/tasso/{period.id}/verifica"
    client = personas.client("admin")
    before = dt.datetime.now(dt.UTC)
    response = client.post(
        url, data={"against": "G.U. n. 297 del 15/12/2021", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 302
    with app.app_context():
        from app.extensions import db

        admin = user_by_name("admin")
        period = _legale(db.session, dt.date(2022, 1, 1))
        assert period.verified is True
        assert period.verified_by_id == admin.id
        assert period.verified_against == "G.U. n. 297 del 15/12/2021"
        assert before <= period.verified_dt <= dt.datetime.now(dt.UTC)
        event = db.session.scalars(sa.select(Event).where(Event.kind == "parameter.verified")).one()
        assert event.actor_user_id == admin.id and event.payload["id"] == period.id
        assert "G.U. n. 297 del 15/12/2021" in event.summary
        version = db.session.scalars(
            sa.select(RowVersion).where(
                RowVersion.table_name == "rate_periods", RowVersion.row_id == period.id
            )
        ).one()
        assert version.before["verified"] is False and version.changed_by_id == admin.id
        name = admin.display_name
    html = client.get(PAGE).get_data(as_text=True)
    shown = re.search(rf'data-testid="verified-tasso-{period.id}">([^<]*)<', html).group(1)
    today = dt.datetime.now(ZoneInfo("Europe/Rome")).date()  # the Italian date of the verification
    assert shown == f"il {today:%d/%m/%Y} da {name} su G.U. n. 297 del 15/12/2021"


@pytest.mark.parametrize("persona", ["backoffice", "sportello", "callcenter", "regione", "contribuente"])
def test_verification_is_refused_to_other_roles(personas, session, persona: str) -> None:
    period = _legale(session, dt.date(2022, 1, 1))
    client = personas.client(persona)
    token = csrf_token(client, "/self-service/" if persona == "contribuente" else "/")
    response = client.post(
        f"/amministrazione/parametri/tasso/{period.id}/verifica",
        data={"against": "G.U. n. 297 del 15/12/2021", "csrf_token": token},
    )
    assert response.status_code == 403
    session.expire_all()
    assert _legale(session, dt.date(2022, 1, 1)).verified is False


def test_verification_without_csrf_is_refused(personas, session) -> None:
    period = _legale(session, dt.date(2022, 1, 1))
    response = personas.client("admin").post(
        f"/amministrazione/parametri/tasso/{period.id}/verifica",
        data={"against": "G.U. n. 297 del 15/12/2021"},
    )
    assert response.status_code == 400
    session.expire_all()
    assert _legale(session, dt.date(2022, 1, 1)).verified is False


def _new_period(client, code: str, **data: str):
    """Propose a new period of a rate (it takes effect only when a second administrator approves it)."""
    url = f"/amministrazione/parametri/tassi/{code}/nuovo"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def _approve_pending(app, client) -> None:
    """The second administrator approves every pending proposal (four eyes)."""
    from app.enti.models import ParameterProposal
    from app.extensions import db

    with app.app_context():
        ids = db.session.scalars(
            sa.select(ParameterProposal.id).where(ParameterProposal.status == "pending")
        ).all()
    assert ids, "no pending proposal"
    token = csrf_token(client, PAGE)
    for proposal_id in ids:
        response = client.post(
            "/amministrazione/parametri/proposte/approva",
            data={"proposal_id": str(proposal_id), "csrf_token": token},
        )
        assert response.status_code == 302


def _new_period_approved(app, personas, code: str, **data: str):
    response = _new_period(personas.client("admin"), code, **data)
    assert response.status_code == 302
    _approve_pending(app, personas.client("admin2"))
    return response


NEW_LEGALE = {
    "rate": "3,5",
    "valid_from": "2027-01-01",
    "valid_to": "",
    "source": "D.M. 10 dicembre 2026 (G.U. n. 290 del 14/12/2026)",
}


def test_a_new_rate_period_closes_the_open_one_and_keeps_history(app, personas, second_admin) -> None:
    from app.core.audit import Event
    from app.core.history import RowVersion
    from app.enti.models import RatePeriod
    from app.extensions import db

    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(RatePeriod.id)))
    response = _new_period(personas.client("admin"), "legale", **NEW_LEGALE)
    assert response.status_code == 302
    with app.app_context():  # a proposal only, until a second administrator approves it
        assert db.session.scalar(sa.select(sa.func.count(RatePeriod.id))) == count
        assert _legale(db.session, dt.date(2026, 1, 1)).valid_to is None
    _approve_pending(app, personas.client("admin2"))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RatePeriod.id))) == count + 1
        previous = _legale(db.session, dt.date(2026, 1, 1))
        assert (previous.valid_to, previous.rate) == (dt.date(2026, 12, 31), Decimal("1.6"))
        new = _legale(db.session, dt.date(2027, 1, 1))
        assert (new.valid_to, new.rate, new.source, new.verified) == (
            None,
            Decimal("3.5"),
            NEW_LEGALE["source"],
            False,
        )
        version = db.session.scalars(
            sa.select(RowVersion).where(
                RowVersion.table_name == "rate_periods", RowVersion.row_id == previous.id
            )
        ).one()
        assert version.before["valid_to"] is None and version.changed == ["valid_to"]
        event = db.session.scalars(sa.select(Event).where(Event.kind == "parameter.added")).one()
        assert event.actor_user_id == second_admin  # the approver makes it take effect
        proposed = db.session.scalars(sa.select(Event).where(Event.kind == "parameter.proposed")).one()
        assert proposed.actor_user_id == user_by_name("admin").id
        assert event.payload["closed"] == {"id": previous.id, "valid_to_before": None}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"valid_from": "2025-06-01"}, "valid_from", "deve essere successivo al 01/01/2026"),
        ({"valid_from": "2026-01-01"}, "valid_from", "Un periodo registrato non si riscrive"),
        ({"source": "https://www.gazzettaufficiale.it/eli/id/2026/12/14"}, "source", "indirizzo web"),
        ({"source": "domain.md §1"}, "source", "file"),
        ({"source": "D.M. 10/12/2026 (unconfirmed)"}, "source", "nota di lavoro"),
        ({"source": "tabella del sito"}, "source", "Deve iniziare con l'atto normativo"),
        ({"rate": "tre"}, "rate", "Tasso annuo: scrivi un numero"),
        ({"valid_to": "2026-12-31"}, "valid_to", "Valido fino al: non può precedere"),
    ],
)
def test_a_refused_new_period_changes_nothing_and_points_at_the_field(
    app, personas, change: dict, field: str, message: str
) -> None:
    from app.enti.models import RatePeriod
    from app.extensions import db

    response = _new_period(personas.client("admin"), "legale", **{**NEW_LEGALE, **change})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">\s*([^<]*)<', html)
    assert error and message.lower() in unescape(error.group(1)).lower(), error and error.group(1)
    assert re.search(
        rf'<(?:input|textarea)[^>]*\bautofocus\b[^>]*\bid="{field}"|id="{field}"[^>]*\bautofocus\b', html
    )
    with app.app_context():
        assert (
            db.session.scalar(sa.select(RatePeriod.id).where(RatePeriod.valid_from == dt.date(2027, 1, 1)))
            is None
        )
        assert _legale(db.session, dt.date(2026, 1, 1)).valid_to is None


def test_adding_a_period_is_refused_to_other_roles_and_without_csrf(personas) -> None:
    client = personas.client("backoffice")
    url = "/amministrazione/parametri/tassi/legale/nuovo"
    assert client.post(url, data={**NEW_LEGALE, "csrf_token": csrf_token(client, "/")}).status_code == 403
    assert personas.client("admin").post(url, data=NEW_LEGALE).status_code == 400


def test_the_engine_quote_uses_the_new_rate_from_its_valid_from(app, personas, client, second_admin) -> None:
    request = {
        "as_of": "2027-06-30",
        "components": {"capitale": "1000.00", "sanzioni": "0", "interessi": "0", "spese": "0"},
        "interest": {
            "from": "2026-06-30",
            "base": ["capitale"],
            "rate_table": "legale",
            "surcharge_points": "0",
            "day_count": "ACT/365",
        },
    }
    before = client.post("/api/v1/engine/quote", json=request).json["interest"]["segments"]
    assert [(s["from"], s["to"], s["rate"]) for s in before] == [("2026-07-01", "2027-06-30", "1.60")]
    assert _new_period(personas.client("admin"), "legale", **NEW_LEGALE).status_code == 302
    pending = client.post("/api/v1/engine/quote", json=request).json["interest"]["segments"]
    assert pending == before  # not in force before the second administrator approves it
    _approve_pending(app, personas.client("admin2"))
    after = client.post("/api/v1/engine/quote", json=request).json["interest"]
    assert [(s["from"], s["to"], s["rate"]) for s in after["segments"]] == [
        ("2026-07-01", "2026-12-31", "1.60"),
        ("2027-01-01", "2027-06-30", "3.50"),
    ]
    # 1000 x 1.6 x 184 / 36500 + 1000 x 3.5 x 181 / 36500 = 8.065753 + 17.356164 = 25.421917 -> 25.42
    assert after["amount"] == "25.42"


def test_a_new_parameter_period_closes_the_open_one(app, personas, second_admin) -> None:
    from app.enti.models import Parameter
    from app.extensions import db

    url = "/amministrazione/parametri/soglia_minima_tributi_regionali/nuovo"
    client = personas.client("admin")
    page = client.get(url).get_data(as_text=True)
    assert "Nuovo periodo del parametro «soglia_minima_tributi_regionali»" in page
    assert "&#34;amount&#34;: &#34;30.00&#34;" in page or '"amount": "30.00"' in page  # the value in force
    data = {
        "value": '{"amount": "50.00"}',
        "valid_from": "2027-01-01",
        "valid_to": "",
        "source": "D.L. 16/2012 art. 3 c. 10",
        "csrf_token": csrf_token(client, url),
    }
    bad = client.post(url, data={**data, "value": '{"importo": "50.00"}'})
    assert "mancanti: amount" in bad.get_data(as_text=True)
    assert client.post(url, data=data).status_code == 302
    _approve_pending(app, personas.client("admin2"))
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Parameter)
            .where(Parameter.code == "soglia_minima_tributi_regionali")
            .order_by(Parameter.valid_from)
        ).all()
        assert [(r.valid_from, r.valid_to, r.value) for r in rows] == [
            (dt.date(2012, 7, 1), dt.date(2026, 12, 31), {"amount": "30.00"}),
            (dt.date(2027, 1, 1), None, {"amount": "50.00"}),
        ]
        from app.positions.quotes import engine_inputs

        assert engine_inputs(db.session, dt.date(2026, 12, 31))[0].minimum_threshold == Decimal("30.00")
        assert engine_inputs(db.session, dt.date(2027, 1, 1))[0].minimum_threshold == Decimal("50.00")


def test_a_rate_table_has_no_uncovered_days_and_a_closed_period_stays_as_it_is(session) -> None:
    from app.core.audit import Actor
    from app.core.history import RowVersion
    from app.enti import periods

    actor = Actor(user_id=user_by_name("admin").id, label="admin")
    table = periods.get_rate_table(session, "legale")
    closed_2027 = periods.add_rate_period(
        session, actor, table, rate=Decimal("3"), valid_from=dt.date(2027, 1, 1),
        valid_to=dt.date(2027, 12, 31), source="D.M. 1 dicembre 2026",
    )
    with pytest.raises(periods.FieldError) as refused:
        periods.add_rate_period(
            session, actor, table, rate=Decimal("2"), valid_from=dt.date(2028, 3, 1), valid_to=None,
            source="D.M. 1 dicembre 2027",
        )
    assert refused.value.field == "valid_from" and "deve iniziare il 01/01/2028" in refused.value.message
    periods.add_rate_period(
        session, actor, table, rate=Decimal("2"), valid_from=dt.date(2028, 1, 1), valid_to=None,
        source="D.M. 1 dicembre 2027",
    )
    assert closed_2027.valid_to == dt.date(2027, 12, 31)
    versions = sa.select(RowVersion).where(
        RowVersion.table_name == "rate_periods", RowVersion.row_id == closed_2027.id
    )
    assert session.scalars(versions).all() == []
