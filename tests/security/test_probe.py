"""The id-guessing probe as tests: every id-bearing URL of the app's URL map, every persona, the ids of the
OTHER ente's data (or, for the taxpayer account, of another taxpayer), every method the rule accepts. Each
answer must be a refusal (403/404; a redirect to the login for anonymous users, 401 on the API without a
token) and the database must be exactly as it was (POSTs carry a valid CSRF token, so CSRF is not what
refuses them).

The URLs come from `app.url_map`, not a hand list: a new route with an id is probed the day it is added, and
one whose id argument is not in ID_KINDS fails `test_every_id_argument_has_a_kind` until it is mapped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule

from app import create_app
from tests.conftest import csrf_token
from tests.security.conftest import World, database_fingerprint

# URL argument -> the kind of row its id names (a key of EnteData.ids)
ID_KINDS = {
    "taxpayer_id": "taxpayer_id",
    "position_id": "position_id",
    "job_id": "job_id",
    "flow_id": "flow_id",
    "payment_id": "payment_id",
    "review_id": "review_id",
    "anomaly_id": "anomaly_id",
    "refund_id": "refund_id",
    "riversamento_id": "riversamento_id",
    "token_id": "token_id",
    "layout_id": "layout_id",
    "row_id": "parameter_row_id",  # a rate or parameter row (the parameters page)
    "document_id": "document_id",  # the archive
    "link_id": "document_link_id",
    "user_id": "user_id",  # user administration
    "sportello_id": "sportello_id",  # the contact log's calendar
    "appointment_id": "appointment_id",
    "message_id": "message_id",  # messages to taxpayers
    "template_id": "message_template_id",
    "rule_id": "message_rule_id",
    "request_id": "plan_request_id",  # a taxpayer's rateazione request (self-service, /rateazioni/richieste)
    "ticket_id": "ticket_id",  # the help desk
    "article_id": "article_id",  # the knowledge base
    "act_id": "act_id",  # acts (app/atti)
    "campaign_id": "campaign_id",
    "act_template_id": "act_template_id",
    "batch_id": "print_batch_id",  # a print batch for the postal provider (app/atti/delivery)
    "outcome_id": "act_outcome_id",  # a notification outcome (app/atti/delivery)
    "procedure_id": "procedure_id",  # a fermo, ipoteca, pignoramento or insinuazione (app/procedures)
    "saved_query_id": "saved_query_id",  # a saved ad-hoc query (app/analytics) of the ente's back office
    "plan_id": "plan_id",  # a stored rateazione (app/plans)
    "monitor_position_id": "position_id",  # the position monitor and its dossier (app/monitor)
    "escalation_rule_id": "escalation_rule_id",  # an escalation rule (app/escalation)
    "escalation_step_id": "escalation_step_id",  # a step of an escalation rule (its proposals' review)
}
# kinds of rows that belong to no ente (configuration shared by all): only the role check applies
GLOBAL_KINDS = {"layout_id", "parameter_row_id"}
# the other, non-id arguments of id-bearing URLs
OTHER_ARGUMENTS = {"fmt": "csv", "kind": "csv"}
# rules with a path converter that serve no data of anyone (the static files)
NOT_DATA = {"static"}


def _id_rules() -> list[Rule]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in NOT_DATA
        and any(isinstance(c, IntegerConverter | PathConverter) for c in rule._converters.values())
    ]
    return sorted(rules, key=lambda r: r.rule)


ID_RULES = _id_rules()


@dataclass(frozen=True)
class Persona:
    name: str
    username: str | None  # None: anonymous
    other: str  # whose data it must not reach: "R01", "R02" or "other-taxpayer"
    token_of: str | None = None  # an API token of this ente instead of a login


PERSONAS = (
    Persona("anonimo", None, "R02"),
    Persona("regione-R01", "regione", "R02"),
    Persona("regione-R02", "regione2", "R01"),
    Persona("backoffice-R01", "backoffice_r01", "R02"),
    Persona("backoffice-R02", "backoffice_r02", "R01"),
    Persona("admin-R01", "admin_r01", "R02"),
    Persona("contribuente", "contribuente", "other-taxpayer"),
    Persona("token-R01", None, "R02", token_of="R01"),
    Persona("token-R02", None, "R01", token_of="R02"),
)


def _cases() -> list:
    cases = []
    for rule in ID_RULES:
        is_api = rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for persona in PERSONAS:
                if persona.token_of and not is_api:
                    continue  # a token opens the API only
                kinds = {ID_KINDS.get(arg) for arg in rule.arguments}
                if persona.name == "admin-R01" and kinds & GLOBAL_KINDS:
                    continue  # an administrator may edit shared configuration
                case_id = f"{persona.name}-{method}-{rule.rule}"
                cases.append(pytest.param(rule, method, persona, id=case_id))
    return cases


def _url(world: World, rule: Rule, persona: Persona) -> str:
    ids = world.other_taxpayer_ids if persona.other == "other-taxpayer" else world.enti[persona.other].ids
    values = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        if arg in ID_KINDS:
            values[arg] = ids.get(ID_KINDS[arg], 1)  # shared configuration: the first row
        elif isinstance(converter, AnyConverter):
            values[arg] = sorted(converter.items)[0]
        else:
            values[arg] = OTHER_ARGUMENTS[arg]
    _, path = rule.build(values, append_unknown=False)
    return path


def _client(world: World, persona: Persona):
    if persona.token_of:
        client = world.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {world.enti[persona.token_of].token}"
        return client
    return world.personas().client(persona.username)


def _form(world: World, client, persona: Persona) -> dict[str, str]:
    """A plausible form for any of the POSTs (so a form error is not what refuses the request)."""
    ids = world.other_taxpayer_ids if persona.other == "other-taxpayer" else world.enti[persona.other].ids
    data = {
        "note": "sonda",
        "reason": "sonda di sicurezza",
        "reference": "SONDA-1",
        "amount": "1,00",
        "value_date": dt.date.today().isoformat(),
        "posizione": str(ids["position_id"]),
        "altra_quota": "1,00",
        f"quota_{ids['position_id']}": "1,00",
        "name": "sonda",
    }
    if persona.username is not None:
        page = "/self-service/" if persona.username == "contribuente" else "/"
        data["csrf_token"] = csrf_token(client, page)
    elif not persona.token_of:
        data["csrf_token"] = csrf_token(client, "/login")
    return data


def test_every_id_argument_has_a_kind() -> None:
    assert ID_RULES, "no id-bearing rule found"
    unknown = {
        f"{rule.rule}: {arg}"
        for rule in ID_RULES
        for arg in rule.arguments
        if arg not in ID_KINDS
        and arg not in OTHER_ARGUMENTS
        and not isinstance(rule._converters.get(arg), AnyConverter)
    }
    assert not unknown, f"map these URL arguments in ID_KINDS (or OTHER_ARGUMENTS): {sorted(unknown)}"


@pytest.mark.parametrize("rule,method,persona", _cases())
def test_other_ente_ids_are_refused_and_change_nothing(
    world: World, rule: Rule, method: str, persona: Persona
) -> None:
    client = _client(world, persona)
    url = _url(world, rule, persona)
    before = database_fingerprint(world.app)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=method, data=_form(world, client, persona))
    status = response.status_code
    after = database_fingerprint(world.app)
    changed = sorted(table for table in before if before[table] != after[table])
    assert not changed, f"{method} {url} (status {status}) changed {changed}"
    if rule.rule.startswith("/api/") and not persona.token_of:
        assert status == 401, (url, status)
    elif persona.username is None and not persona.token_of:
        assert status in (302, 303) and "/login" in response.headers["Location"], (url, status)
    else:
        assert status in (403, 404), (url, status, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize(
    "username,ente",
    [("backoffice_r01", "R01"), ("backoffice_r02", "R02")],
)
def test_own_ente_ids_open_the_same_pages(world: World, username: str, ente: str) -> None:
    """The control: the probe's ids and URLs do reach the pages for someone of the right ente, so the
    refusals above are the scoping's, not a wrong URL's."""
    client = world.personas().client(username)
    ids = world.enti[ente].ids
    for path in (
        f"/contribuenti/{ids['taxpayer_id']}",
        f"/posizioni/{ids['position_id']}",
        f"/pagamenti/flussi/{ids['flow_id']}",
        f"/pagamenti/{ids['payment_id']}",
        f"/elaborazioni/{ids['job_id']}",
        f"/pagamenti/riversamento/{ids['riversamento_id']}.csv",
        f"/crm/sportelli/{ids['sportello_id']}",
        f"/crm/contribuenti/{ids['taxpayer_id']}/contatti",
        f"/atti/{ids['act_id']}",
        f"/atti/campagne/{ids['campaign_id']}",
    ):
        assert client.get(path).status_code == 200, path


def test_an_administrator_sees_and_issues_tokens_of_their_enti_only(world: World) -> None:
    from app.enti.queries import get_ente_by_code
    from app.extensions import db

    client = world.personas().client("admin_r01")
    html = client.get("/amministrazione/token-api").get_data(as_text=True)
    assert "Sonda R01" in html and "Sonda R02" not in html
    with world.app.app_context():
        r02 = get_ente_by_code(db.session, "R02").id
    before = database_fingerprint(world.app)
    response = client.post(
        "/amministrazione/token-api",
        data={
            "name": "Sonda altrui",
            "ente_id": r02,
            "scopes": ["positions:read"],
            "csrf_token": csrf_token(client, "/amministrazione/token-api"),
        },
    )
    assert "issued-token" not in response.get_data(as_text=True)
    assert database_fingerprint(world.app) == before
