"""The card's "Verifiche anagrafiche" section, "Verifica ora", the CLI, the daily refresh job and the
campaigns' pre-check hook."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF
from app.registries.models import RegistryCheck
from tests.conftest import csrf_token
from tests.registries.stubs import Person


def _mario_id(app: Any) -> int:
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        return db.session.scalars(
            sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        ).one()


def _checks(app: Any, taxpayer_id: int) -> list[tuple[str, str]]:
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(
            sa.select(RegistryCheck.registry, RegistryCheck.outcome)
            .where(RegistryCheck.taxpayer_id == taxpayer_id)
            .order_by(RegistryCheck.registry)
        )
        return [tuple(r) for r in rows]


def test_the_card_loads_the_section_and_never_checked_registries_say_so(app, personas) -> None:
    taxpayer_id = _mario_id(app)
    client = personas.client("callcenter")
    card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert f"/contribuenti/{taxpayer_id}/verifiche-anagrafiche" in card
    section = client.get(f"/contribuenti/{taxpayer_id}/verifiche-anagrafiche")
    html = section.get_data(as_text=True)
    assert section.status_code == 200 and "Verifiche anagrafiche" in html
    assert html.count("Mai verificato.") == 2 and "Servizi PDND non configurati" in html
    assert "Verifica ora" not in html
    refused = client.post(
        f"/contribuenti/{taxpayer_id}/verifiche-anagrafiche", data={"csrf_token": csrf_token(client, "/")}
    )
    assert refused.status_code == 403  # callcenter has no registries.check


def test_the_demo_has_one_person_checked(app, personas) -> None:
    from app.extensions import db

    with app.app_context():
        taxpayer_id = db.session.scalars(sa.select(RegistryCheck.taxpayer_id).limit(1)).one()
    html = (
        personas.client("backoffice")
        .get(f"/contribuenti/{taxpayer_id}/verifiche-anagrafiche")
        .get_data(as_text=True)
    )
    assert (
        "Residenza confermata:" in html
        and "Non presente nel registro" in html
        and "Mai verificato." not in html
    )


def test_verifica_ora_records_the_checks_and_shows_them(app, personas, configured, stubs) -> None:
    taxpayer_id = _mario_id(app)
    stubs.people[MARIO_ROSSI_CF] = Person(pec="mario.rossi@pec.it")
    client = personas.client("backoffice")
    path = f"/contribuenti/{taxpayer_id}/verifiche-anagrafiche"
    assert "Verifica ora" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_token(client, "/")}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Verifica eseguita." in html
    assert "mario.rossi@pec.it" in html and "ANPR C001 servizioNotifica" in html and "Dati aggiornati" in html
    assert _checks(app, taxpayer_id) == [("anpr", "aggiornato"), ("inad", "aggiornato")]
    card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert "Verifica anagrafica" in card  # the timeline's event


def test_verifica_ora_on_a_failing_registry_shows_the_italian_reason_and_writes_nothing(
    app, personas, configured, stubs
) -> None:
    taxpayer_id = _mario_id(app)
    stubs.people[MARIO_ROSSI_CF] = Person(street="NUOVA", pec="mario.rossi@pec.it")
    stubs.fail["anpr"] = 500
    client = personas.client("sportello")
    path = f"/contribuenti/{taxpayer_id}/verifiche-anagrafiche"
    response = client.post(path, data={"csrf_token": csrf_token(client, "/")}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "ANPR C001: errore del servizio (HTTP 500)" in html and "Verifica eseguita." not in html
    assert _checks(app, taxpayer_id) == []


def test_the_command_line_checks_a_codice_fiscale(app, configured, stubs) -> None:
    stubs.people[MARIO_ROSSI_CF] = Person(deceased="2026-10-02")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["anagrafe", "verifica", "--cf", MARIO_ROSSI_CF.lower(), "--registro", "anpr"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["registro"], row["esito"], row["da_cache"]) == ("anpr", "deceduto", False)
    again = runner.invoke(args=["anagrafe", "verifica", "--cf", MARIO_ROSSI_CF, "--registro", "anpr"])
    assert json.loads(again.output)[0]["da_cache"] is True
    stubs.fail["anpr"] = 500
    failed = runner.invoke(args=["anagrafe", "verifica", "--cf", MARIO_ROSSI_CF, "--forza"])
    assert failed.exit_code == 1 and "ANPR C001: errore del servizio" in failed.output
    unknown = runner.invoke(args=["anagrafe", "verifica", "--cf", "XXXXXX00X00X000X"])
    assert unknown.exit_code == 1 and "Contribuente non trovato" in unknown.output


def test_the_daily_job_refreshes_the_taxpayers_about_to_be_notified(app, session, configured, stubs) -> None:
    from app.atti.campaigns import Criteria, create_campaign
    from app.atti.models import CampaignItem
    from app.core.access import Principal
    from app.core.audit import Actor
    from app.enti.models import Ente
    from app.positions.amounts import today_rome
    from app.positions.models import Position
    from app.registries.tasks import PERIODIC_JOBS, refresh_stale_checks

    assert "app.registries.tasks.refresh_stale_checks" in [name for name, *_ in PERIODIC_JOBS]
    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    app.config["REGISTRIES_ENABLED"] = False  # the campaign is drafted without checks: the job does them
    campaign = create_campaign(
        session,
        Principal(role="admin", ente_ids=frozenset({ente.id})),
        Actor.system(),
        ente=ente,
        act_code="sollecito",
        name="Prova",
        criteria=Criteria(),
        issue_date=today_rome(),
    )
    app.config["REGISTRIES_ENABLED"] = True
    assert not stubs.calls
    pending = set(
        session.scalars(
            sa.select(Position.taxpayer_id)
            .join(CampaignItem, CampaignItem.position_id == Position.id)
            .where(CampaignItem.campaign_id == campaign.id, CampaignItem.status == "da_emettere")
        )
    )
    assert pending
    first = refresh_stale_checks()
    assert first["attivo"] and not first["errori"] and first["verificati"] >= len(pending)
    assert pending <= set(session.scalars(sa.select(RegistryCheck.taxpayer_id)))
    assert refresh_stale_checks()["verificati"] == 0  # all fresh now


def test_the_job_does_nothing_when_the_checks_are_off(app, stubs) -> None:
    from app.registries.tasks import refresh_stale_checks

    with app.app_context():
        assert refresh_stale_checks() == {
            "attivo": False,
            "verificati": 0,
            "in_cache": 0,
            "errori": {},
        }
    assert not stubs.calls


def test_a_campaign_excludes_a_taxpayer_anpr_reports_deceased(session, configured, stubs) -> None:
    from app.atti.campaigns import Criteria, select_positions
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.positions.amounts import today_rome
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    ente = session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
    principal = Principal(role="admin", ente_ids=frozenset({ente.id}))
    stubs.people[MARIO_ROSSI_CF] = Person(deceased="2026-10-02")
    selection = select_positions(session, principal, ente.id, "sollecito", Criteria(), today_rome())
    mario = session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()
    assert mario.deceased_date == dt.date(2026, 10, 2)
    his = set(session.scalars(sa.select(Position.id).where(Position.taxpayer_id == mario.id)))
    reasons = {i["reason"] for i in selection.items if i["position_id"] in his}
    assert his and "contribuente deceduto" in reasons and None not in reasons
    assert stubs.count("anpr") >= 1
