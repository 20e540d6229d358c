"""/api/v1/openapi.json documents every route of /api/v1 (compared with the app's URL map, both ways), with
request and response schemas that the real requests and responses of formats.md §4 satisfy."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from app.demo.seed import MARIO_ROSSI_CF
from tests.conftest import new_api_token
from tests.engine.formats_examples import FORMATS_REQUEST

METHODS = {"get", "post", "put", "patch", "delete"}


def spec_of(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """The schema with every `#/components/...` reference inlined."""
    if isinstance(node, list):
        return [resolve(spec, n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(spec, target)
    return {k: resolve(spec, v) for k, v in node.items()}


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    return OAS30Validator(resolve(spec, schema), format_checker=oas30_format_checker)


def response_schema(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    return spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def request_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    return spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_every_api_route_is_in_the_document_and_nothing_else(app, client) -> None:
    spec = spec_of(client)
    prefix = spec["servers"][0]["url"]
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(prefix)), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix + "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    }
    assert routes - documented == set(), "routes missing from openapi.json"
    assert documented - routes == set(), "openapi.json documents routes that do not exist"
    for path, method in documented:
        operation = spec["paths"][path][method]
        assert operation.get("summary"), (path, method)
        assert any(status.startswith("2") for status in operation["responses"]), (path, method)
        if method == "post":
            assert operation["requestBody"]["content"], path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert "{" + parameter["name"] + "}" in path, (path, parameter["name"])


def test_the_document_is_a_valid_set_of_schemas(client) -> None:
    spec = spec_of(client)
    for schema in spec["components"]["schemas"].values():
        OAS30Validator.check_schema(resolve(spec, schema))


def test_engine_requests_and_responses_match_their_schemas(client) -> None:
    spec = spec_of(client)
    validator(spec, request_schema(spec, "/engine/quote")).validate(FORMATS_REQUEST)
    quote = client.post("/api/v1/engine/quote", json=FORMATS_REQUEST)
    validator(spec, response_schema(spec, "/engine/quote", "post", 200)).validate(quote.get_json())

    plan = {"amount": "2500.00", "installments": 12, "first_due": "2027-01-31", "regime": "l160"}
    validator(spec, request_schema(spec, "/engine/installment-plan")).validate(plan)
    response = client.post("/api/v1/engine/installment-plan", json=plan)
    plan_schema = response_schema(spec, "/engine/installment-plan", "post", 200)
    validator(spec, plan_schema).validate(response.get_json())
    outside = client.post("/api/v1/engine/installment-plan", json={**plan, "installments": 13})
    assert outside.status_code == 422
    error_schema = response_schema(spec, "/engine/installment-plan", "post", 422)
    validator(spec, error_schema).validate(outside.get_json())

    deadlines = {"regime": "tassa_auto", "due_date": "2021-01-31", "interruptions": ["2023-05-10"]}
    validator(spec, request_schema(spec, "/engine/deadlines")).validate(deadlines)
    response = client.post("/api/v1/engine/deadlines", json=deadlines)
    validator(spec, response_schema(spec, "/engine/deadlines", "post", 200)).validate(response.get_json())

    bad = client.post("/api/v1/engine/quote", json={"as_of": "ieri", "components": {}})
    assert bad.status_code in (400, 422)
    validator(spec, response_schema(spec, "/engine/quote", "post", bad.status_code)).validate(bad.get_json())


@pytest.fixture
def token(app) -> str:
    return new_api_token(app, "positions:read", name="documento")


def test_a_stored_position_quote_matches_its_schema(app, client, token) -> None:
    from app.extensions import db
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        position_id = db.session.scalars(
            sa.select(Position.id).join(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).first()
    spec = spec_of(client)
    auth = {"Authorization": f"Bearer {token}"}
    response = client.get(f"/api/v1/positions/{position_id}/quote?as_of=2026-06-30", headers=auth)
    assert response.status_code == 200
    validator(spec, response_schema(spec, "/positions/{position_id}/quote", "get", 200)).validate(
        response.get_json()
    )
    listed = client.get(f"/api/v1/positions?codice_fiscale={MARIO_ROSSI_CF}", headers=auth)
    validator(spec, response_schema(spec, "/positions", "get", 200)).validate(listed.get_json())
    missing = client.get("/api/v1/positions/999999999/quote", headers=auth)
    assert missing.status_code == 404
    validator(spec, response_schema(spec, "/positions/{position_id}/quote", "get", 404)).validate(
        missing.get_json()
    )
