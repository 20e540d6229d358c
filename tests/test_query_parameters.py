"""Every GET route of the URL map, with a NUL byte and a huge integer in each query parameter it reads, never
answers 500 (PostgreSQL refuses NUL in text with a DataError, a bigint OFFSET overflows): a bad parameter is
a 400 with an Italian message.

The parameters of a route are found, not listed by hand: a first request records every query-string key the
route reads (through a recording ``request.args``); then each of them gets each hostile value in turn.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import ImmutableMultiDict

from tests.conftest import new_api_token

HOSTILE = ("\x00", "a\x00b", "99999999999999999999999", "-99999999999999999999999")
#: Parameters every route gets anyway, in case one is read only on a path the first request did not take.
ALWAYS = (
    *("ente", "stato", "entrata", "capitolo", "componente", "canale", "fonte", "pagina", "anno", "tipo"),
    *("mese", "per", "dal", "al", "q"),
)
SKIP_ENDPOINTS = {
    "static",
    # the login flow's `next` belongs to the authentication tests (open redirects, issue 10 point 1)
    "auth.login",
    "auth.totp",
    "auth.totp_enrol",
}


class RecordingArgs(ImmutableMultiDict):
    """request.args that remembers which keys the route asked for."""

    seen: set[str] = set()

    def __contains__(self, key: object) -> bool:
        RecordingArgs.seen.add(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        RecordingArgs.seen.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # noqa: A002 - werkzeug's name
        RecordingArgs.seen.add(key)
        return super().get(key, default, type)

    def getlist(self, key: str, type: Any = None) -> list[Any]:  # noqa: A002
        RecordingArgs.seen.add(key)
        return super().getlist(key, type)


@pytest.fixture
def ids(app) -> dict[str, int]:
    """A real id for each kind of path argument, where the seeded data has one (else 1: a 404 is fine)."""
    from app.demo.seed import MARIO_ROSSI_CF
    from app.extensions import db
    from app.payments.models import Payment
    from app.payments.services import import_flow
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer
    from tests.payments.support import ACTOR, fdr, open_positions, row

    with app.app_context():
        taxpayer = db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).one()
        position = db.session.scalars(
            sa.select(Position.id).where(Position.taxpayer_id == taxpayer).order_by(Position.id)
        ).first()
        (open_position,) = open_positions(db.session)
        flow = fdr([row(open_position.iuv, "IUR-SONDA", open_position.due)])
        summary = import_flow(db.session, flow, ACTOR)
        db.session.commit()
        payment = db.session.scalars(sa.select(Payment.id).where(Payment.iur == "IUR-SONDA")).one()
    return {
        "taxpayer_id": taxpayer,
        "position_id": position,
        "flow_id": summary.flow_id,
        "payment_id": payment,
    }


@pytest.fixture
def api_token(app) -> str:
    return new_api_token(app, "positions:read", "jobs:read", name="sonda parametri")


def _value(rule, arg: str, ids: dict[str, int]) -> object:
    """A valid value for a URL argument: one of an `any(...)` converter's items, an export format, an id."""
    items = getattr(rule._converters.get(arg), "items", None)
    if items:
        return sorted(items)[0]
    return "csv" if arg in ("fmt", "kind") else ids.get(arg, 1)


def get_routes(app, ids: dict[str, int]) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
            continue
        values = {arg: _value(rule, arg, ids) for arg in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            routes.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return sorted(routes)


SHARDS = 8  # the routes are probed in shards, so `pytest -n` spreads them over its workers


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_get_route_survives_hostile_query_parameters(
    app, personas, ids, api_token, monkeypatch, shard: int
) -> None:
    monkeypatch.setattr(app.request_class, "parameter_storage_class", RecordingArgs)
    staff = personas.client("admin")
    taxpayer = personas.client("contribuente")
    api = {"Authorization": f"Bearer {api_token}"}
    every_route = get_routes(app, ids)
    assert len(every_route) > 40
    routes = every_route[shard::SHARDS]
    failures = []
    probed = 0
    for endpoint, path in routes:
        client = taxpayer if endpoint.startswith(("selfservice.", "crm_self_service.")) else staff
        headers = api if path.startswith("/api/") else {}
        RecordingArgs.seen = set()
        first = client.get(path, headers=headers)
        first.get_data()
        first.close()
        assert first.status_code != 500, path
        for name in sorted(RecordingArgs.seen | set(ALWAYS)):
            for value in HOSTILE:
                response = client.get(path, query_string={name: value}, headers=headers)
                body = response.get_data()  # bytes: a route may answer a PDF (the position dossier)
                response.close()
                probed += 1
                if response.status_code >= 500:
                    failures.append((path, name, repr(value), response.status_code))
                elif response.status_code == 400 and not path.startswith("/api/"):
                    assert b"Errore interno" not in body
    assert failures == []
    assert probed > 1000 // SHARDS


@pytest.mark.parametrize(
    "path",
    [
        "/posizioni/?pagina=99999999999999999999999",
        "/posizioni/?ente=%00",
        "/pagamenti/?fonte=%00",
        "/pagamenti/?pagina=99999999999999999999999",
        "/pagamenti/anomalie?tipo=%00",
        "/pagamenti/rimborsi?stato=%00",
        "/pagamenti/rendicontazione?ente=%00",
        "/pagamenti/rendicontazione?entrata=%00",
        "/pagamenti/rendicontazione?capitolo=%00",
        "/pagamenti/rendicontazione?componente=%00",
        "/pagamenti/rendicontazione?canale=%00",
        "/pagamenti/rendicontazione?anno=99999999999999999999999",
        "/pagamenti/rendicontazione/dettaglio?pagina=99999999999999999999999",
        "/pagamenti/rendicontazione/dettaglio.csv?capitolo=%00",
        "/pagamenti/revisione?pagina=99999999999999999999999",
        "/contribuenti/?q=%00",
        "/contribuenti/esporta.csv?q=%00",
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_in_italian(personas, path) -> None:
    response = personas.client("admin").get(path)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Parametro «" in body and "non valido" in body
