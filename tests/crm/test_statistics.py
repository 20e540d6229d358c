"""Statistics of the contacts (issue 12, point 1): by channel, topic, outcome, operator and period, filtered
through a QueryForm, scoped per ente, drawn with the vendored Chart.js (data in a JSON element, no inline
script) and exported through the one export mechanism."""

from __future__ import annotations

import json
import re

import pytest


def _chart(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="stats-chart-data">(.*?)</script>', html, re.S)
    assert match, "no chart data"
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    ("dimension", "label"),
    [
        ("canale", "Telefono"),
        ("argomento", "Rateazione"),
        ("esito", "Da richiamare"),
        ("operatore", "Carla Call Center"),
    ],
)
def test_statistics_group_the_demo_contacts(personas, dimension, label) -> None:
    html = (
        personas.client("backoffice")
        .get("/crm/statistiche", query_string={"dimensione": dimension})
        .get_data(True)
    )
    chart = _chart(html)
    assert label in chart["labels"]
    assert sum(chart["contacts"]) == 4  # the demo contacts of R01 and R02
    assert 'src="/static/vendor/chart/chart.umd.min.js"' in html and "crm-stats.js" in html


def test_statistics_by_month_and_filters(personas) -> None:
    client = personas.client("backoffice")
    chart = _chart(client.get("/crm/statistiche", query_string={"dimensione": "periodo"}).get_data(True))
    assert chart["labels"] and all(re.match(r"[a-z]+ \d{4}$", label) for label in chart["labels"])
    chart = _chart(client.get("/crm/statistiche", query_string={"canale": "telefono"}).get_data(True))
    assert chart["labels"] == ["Telefono"] and chart["contacts"] == [2]
    html = client.get("/crm/statistiche", query_string={"dal": "2099-01-01"}).get_data(True)
    assert "Nessun contatto con questi filtri." in html


def test_statistics_are_scoped_per_ente(personas) -> None:
    chart = _chart(personas.client("regione").get("/crm/statistiche").get_data(True))
    assert sum(chart["contacts"]) == 3  # Mario Rossi's (R01); Verdi's contact is R02's


def test_a_bad_filter_is_a_400_in_italian(personas) -> None:
    response = personas.client("backoffice").get("/crm/statistiche", query_string={"canale": "piccione"})
    assert response.status_code == 400


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ods", "pdf", "xml"])
def test_statistics_export(personas, fmt) -> None:
    response = personas.client("backoffice").get(
        f"/crm/statistiche.{fmt}", query_string={"dimensione": "esito"}
    )
    assert response.status_code == 200
    body = response.get_data()
    assert body
    if fmt == "csv":
        text = body.decode("utf-8-sig")
        assert "Esito" in text and "Da richiamare;1;6" in text


def test_the_call_center_has_no_export(personas) -> None:
    client = personas.client("callcenter")
    assert client.get("/crm/statistiche.csv").status_code == 403
    assert "statistiche.csv" not in client.get("/crm/statistiche").get_data(True)
