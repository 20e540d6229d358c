"""Ad-hoc queries (issue 15 point 4, R-A21): a grouped query and its export agree to the cent with a direct
SQL sum; averages are exact (half-up to the cent); no dataset shows a row of another ente; only whitelisted
keys are accepted; saved queries are shared with a role."""

from __future__ import annotations

import csv
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from app.analytics.builder import QuerySpec, SpecError, plan
from app.analytics.datasets import datasets
from app.reports.exports import write_export
from tests.analytics.conftest import principal

GROUPED = {"dataset": "posizioni", "raggruppa": ["entrata"], "misure": ["count", "sum:carico", "sum:residuo"]}


def _csv_rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))


def _cents(text: str) -> int:
    """A CSV money cell (machine format, "1234.56") as cents."""
    return int((Decimal(text) * 100).to_integral_value())


def test_a_grouped_query_and_its_export_agree_with_direct_sql(session, r01, ledger) -> None:
    spec = QuerySpec("posizioni", group=("entrata",), measures=("count", "sum:carico", "sum:residuo"))
    query = plan(spec, principal({r01}))
    rows = list(query.rows(session))
    direct = session.execute(
        sa.text("""
        SELECT en.code, count(*),
               coalesce(sum((SELECT coalesce(sum(amount_cents), 0) FROM movements m
                             WHERE m.position_id = p.id AND m.kind = 'carico')), 0),
               coalesce(sum((SELECT coalesce(sum(amount_cents), 0) FROM movements m
                             WHERE m.position_id = p.id)), 0)
        FROM positions p JOIN entrate en ON en.id = p.entrata_id
        WHERE p.ente_id = :e GROUP BY en.code ORDER BY en.code"""),
        {"e": r01},
    ).all()
    assert [(r["entrata"], r["conteggio"], r["sum_carico"], r["sum_residuo"]) for r in rows] == [
        tuple(int(v) if i else v for i, v in enumerate(d)) for d in direct
    ]
    body = b"".join(write_export(query.rows(session), query.export_spec(), "csv")).decode("utf-8")
    table = _csv_rows(body)
    assert table[0] == ["Entrata", "Numero", "Somma di carico", "Somma di residuo"]
    data = [r for r in table[1:] if r and r[0] != "Totale"]
    assert sum(_cents(r[3]) for r in data) == sum(int(d[3]) for d in direct)
    assert sum(_cents(r[2]) for r in data) == sum(int(d[2]) for d in direct)


def test_the_route_export_agrees_with_direct_sql(app, personas) -> None:
    client = personas.client("regione")
    body = client.get("/analisi/interrogazioni/export.csv", query_string=GROUPED).get_data(True)
    total = sum(_cents(r[3]) for r in _csv_rows(body)[1:] if r and r[0] != "Totale")
    from app.extensions import db

    with app.app_context():
        direct = db.session.execute(
            sa.text("""SELECT sum(m.amount_cents) FROM movements m JOIN positions p ON p.id = m.position_id
                       JOIN enti e ON e.id = p.ente_id WHERE e.code = 'R01'""")
        ).scalar()
        db.session.remove()
    assert total == int(direct)
    xlsx = client.get("/analisi/interrogazioni/export.xlsx", query_string=GROUPED)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_an_average_is_exact_half_up(session, r01) -> None:
    spec = QuerySpec("posizioni", group=("ente",), measures=("count", "sum:residuo", "avg:residuo"))
    [row] = plan(spec, principal({r01})).rows(session)
    expected = (Decimal(row["sum_residuo"]) / row["conteggio"]).to_integral_value(ROUND_HALF_UP)
    assert row["avg_residuo"] == int(expected)


@pytest.mark.parametrize("key", ["posizioni", "pagamenti", "atti", "contatti"])  # contribuenti: next test
def test_no_dataset_shows_another_entes_rows(session, r01, r02, key) -> None:
    ds = datasets()[key]
    for mine, code in ((r01, "R01"), (r02, "R02")):
        spec = QuerySpec(key, group=("ente",), measures=("count",))
        rows = list(plan(spec, principal({mine})).rows(session))
        assert {r["ente"] for r in rows} <= {code}
        detail = list(plan(QuerySpec(key, columns=("ente",)), principal({mine})).rows(session))
        assert {r["ente"] for r in detail} <= {code}
    assert ds.has("ente")


def test_taxpayers_dataset_is_scoped(session, r01, r02) -> None:
    only_r02 = set(
        session.scalars(
            sa.text("""SELECT t.codice_fiscale FROM taxpayers t WHERE EXISTS (SELECT 1 FROM taxpayer_enti l
                       WHERE l.taxpayer_id = t.id AND l.ente_id = :r02)
                       AND NOT EXISTS (SELECT 1 FROM taxpayer_enti l
                       WHERE l.taxpayer_id = t.id AND l.ente_id = :r01)"""),
            {"r01": r01, "r02": r02},
        )
    )
    assert only_r02
    seen = {r["codice_fiscale"] for r in plan(QuerySpec("contribuenti"), principal({r01})).rows(session)}
    assert seen and not (seen & only_r02)
    count = next(plan(QuerySpec("contribuenti", group=("tipo",)), principal(set())).rows(session), None)
    assert count is None  # no ente, no rows


def test_a_taxpayer_account_sees_nothing_through_the_summary_datasets(session) -> None:
    from app.core.access import Principal

    who = Principal(role="contribuente", ente_ids=frozenset(), taxpayer_id=None)
    assert list(plan(QuerySpec("posizioni"), who).rows(session)) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (QuerySpec("sql"), "Insieme di dati sconosciuto"),
        (QuerySpec("posizioni", columns=("password",)), "non fa parte"),
        (QuerySpec("posizioni", group=("riferimento",)), "raggruppare"),
        (QuerySpec("posizioni", group=("ente",), measures=("sum:stato",)), "Misura non ammessa"),
        (QuerySpec("posizioni", filters=(("carico", "gt", "dieci euro"),)), "Valore non valido"),
        (QuerySpec("posizioni", filters=(("anno", "contains", "20"),)), "contiene"),
    ],
)
def test_only_whitelisted_keys_and_typed_values(session, r01, spec, message) -> None:
    with pytest.raises(SpecError, match=message):
        plan(spec, principal({r01}))


def test_filters_are_typed(session, r01) -> None:
    spec = QuerySpec(
        "posizioni", group=("ente",), measures=("count",), filters=(("carico", "ge", "1.000,00"),)
    )
    [row] = plan(spec, principal({r01})).rows(session)
    direct = session.execute(
        sa.text("""SELECT count(*) FROM positions p WHERE p.ente_id = :e
                   AND (SELECT coalesce(sum(amount_cents), 0)
                   FROM movements m WHERE m.position_id = p.id AND m.kind = 'carico') >= 100000"""),
        {"e": r01},
    ).scalar()
    assert row["conteggio"] == direct


def test_builder_page_table_chart_and_bad_parameters(personas) -> None:
    client = personas.client("regione")
    html = client.get("/analisi/interrogazioni", query_string=GROUPED).get_data(True)
    assert 'data-testid="builder-chart"' in html and 'data-testid="builder-rows"' in html
    assert (
        client.get(
            "/analisi/interrogazioni", query_string={"dataset": "posizioni", "raggruppa": "codice"}
        ).status_code
        == 400
    )
    assert client.get("/analisi/interrogazioni", query_string={"dataset": "x"}).status_code == 400


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_save_share_with_a_role(app, personas) -> None:
    owner = personas.client("regione")
    html = owner.get("/analisi/interrogazioni", query_string=GROUPED).get_data(True)
    response = owner.post(
        "/analisi/interrogazioni/salva?" + "dataset=posizioni&raggruppa=entrata&misure=count",
        data={"csrf_token": _csrf(html), "nome": "Per entrata", "condividi": "regione"},
    )
    assert response.status_code == 302
    saved_url = response.headers["Location"]
    assert "Per entrata" in owner.get(saved_url).get_data(True)
    colleague = personas.client("regione2")  # same role, other ente: sees the query, computes its own rows
    assert "Per entrata" in colleague.get("/analisi/interrogazioni").get_data(True)
    assert colleague.get(saved_url).status_code == 200
    assert 'data-testid="schedule-form"' not in colleague.get(saved_url).get_data(True)  # only the owner
    assert personas.client("backoffice").get(saved_url).status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ods", "odt", "pdf", "xml"])
def test_every_export_format_of_a_query(personas, fmt: str) -> None:
    from app.reports.exports import MIMETYPES

    response = personas.client("regione").get(f"/analisi/interrogazioni/export.{fmt}", query_string=GROUPED)
    assert response.status_code == 200 and response.mimetype == MIMETYPES[fmt]
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="interrogazione_posizioni_'
    )
