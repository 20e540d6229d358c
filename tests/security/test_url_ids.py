"""Ids in URLs are bounded by the app's `int` converter (app/core/url_ids.py) to 1..2**31-1, the range of a
PostgreSQL `integer` primary key: a larger id answers 404 before the view runs, on every `<int:...>` route,
instead of reaching a query PostgreSQL would refuse (a 500). The largest id still reaches the view."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from app import create_app
from app.core.url_ids import MAX_ID, BoundedIdConverter, parse_id
from tests.conftest import new_api_token

HUGE = (2**31, 2**63, 10**20)


@pytest.fixture(scope="module")
def urls():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).url_map.bind("localhost")


def test_every_int_part_of_the_url_map_is_bounded(urls) -> None:
    converters = [c for rule in urls.map.iter_rules() for c in rule._converters.values()]
    ints = [c for c in converters if isinstance(c, IntegerConverter)]
    assert len(ints) > 100
    assert all(isinstance(c, BoundedIdConverter) and (c.min, c.max) == (1, MAX_ID) for c in ints)


@pytest.mark.parametrize(
    "path,endpoint",
    [
        ("/contribuenti/{}", "taxpayers.card"),
        ("/rateazioni/piani/{}", "plans.plan_detail"),
        ("/procedure/{}", "procedures.procedure_detail"),
        ("/api/v1/plans/{}", "api.api_plan"),
    ],
)
def test_the_converter_matches_up_to_max_id_only(urls, path: str, endpoint: str) -> None:
    assert urls.match(path.format(MAX_ID)) == (endpoint, {endpoint_arg(urls, endpoint): MAX_ID})
    assert urls.match(path.format(1))[0] == endpoint
    for value in (0, *HUGE):
        with pytest.raises(NotFound):
            urls.match(path.format(value))


def endpoint_arg(urls, endpoint: str) -> str:
    (rule,) = [r for r in urls.map.iter_rules() if r.endpoint == endpoint]
    (arg,) = rule.arguments
    return arg


@pytest.mark.parametrize(
    "path",
    [
        "/contribuenti/{}",
        "/contribuenti/{}/cronologia",
        "/rateazioni/piani/{}",
        "/rateazioni/contribuenti/{}/piani",
        "/procedure/{}",
        "/assistenza/{}",
        "/elaborazioni/{}",
    ],
)
def test_a_huge_id_is_a_404_not_a_500(personas, path: str) -> None:
    client = personas.client("admin")
    for value in HUGE:
        assert client.get(path.format(value)).status_code == 404, path.format(value)
    assert client.get(path.format(MAX_ID)).status_code == 404  # the view's: no such row


def test_a_huge_id_on_a_post_and_in_the_self_service_is_a_404(personas) -> None:
    assert personas.client("admin").post(f"/rateazioni/piani/{2**31}/annullamento").status_code == 404
    taxpayer = personas.client("contribuente")
    assert taxpayer.get(f"/self-service/documenti/{10**20}/scarica").status_code == 404
    assert taxpayer.get(f"/self-service/rateazione/richieste/{2**31}").status_code == 404


@pytest.fixture
def api_token(app) -> str:
    return new_api_token(app, "positions:read", "positions:write", name="sonda id")


@pytest.mark.parametrize("path", ["/api/v1/plans/{}", "/api/v1/procedures/{}", "/api/v1/positions/{}/quote"])
def test_the_api_answers_a_huge_id_with_a_json_404(app, api_token: str, path: str) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token}"}
    for value in HUGE:
        response = client.get(path.format(value), headers=headers)
        assert response.status_code == 404 and response.get_json()["error"] == "Risorsa non trovata"
    # the largest id reaches the view, which says what it did not find
    response = client.get(path.format(MAX_ID), headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] != "Risorsa non trovata"
    proroga = client.post(f"/api/v1/plans/{2**31}/proroga", headers=headers, json={"installments": 2})
    assert proroga.status_code == 404


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1", 1),
        (str(MAX_ID), MAX_ID),
        ("0042", 42),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("", None),
        ("-1", None),
        (" 1", None),
        ("1.0", None),
        ("٣", None),  # a Unicode digit int() would take
        ("9" * 5000, None),  # past int()'s limit on digits
        (None, None),
        (7, None),
    ],
)
def test_parse_id(text, expected) -> None:
    assert parse_id(text) == expected
