"""Checks on ANPR C001 and INAD against the spec-validating stubs: the residence as a new address version with
its source, the death, the domicilio digitale; the cache within the refresh period; registry errors give an
Italian message and write nothing; the pre-notification check behind its setting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.audit import Actor, Event
from app.core.db import utcnow
from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF
from app.registries.models import RegistryCheck
from app.registries.pdnd import RegistryError
from app.registries.services import RegistryConfig, check_taxpayer, prenotification_check
from app.taxpayers.models import Taxpayer, TaxpayerAddress, TaxpayerContact
from tests.registries.stubs import Person

ACTOR = Actor(user_id=None, label="prova")


def _taxpayer(session: Any, cf: str = MARIO_ROSSI_CF) -> Taxpayer:
    return session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == cf)).one()


def _config(stubs: Any, **overrides: Any) -> RegistryConfig:
    return RegistryConfig.from_config(stubs.config(**overrides))


def _counts(session: Any, taxpayer: Taxpayer) -> tuple[int, ...]:
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(model).where(model.taxpayer_id == taxpayer.id))
        for model in (TaxpayerAddress, TaxpayerContact, RegistryCheck, Event)
    )


def _residence(session: Any, taxpayer: Taxpayer) -> TaxpayerAddress:
    return session.scalars(
        sa.select(TaxpayerAddress).where(
            TaxpayerAddress.taxpayer_id == taxpayer.id,
            TaxpayerAddress.kind == "residenza",
            TaxpayerAddress.valid_to_dt.is_(None),
        )
    ).one()


def test_a_new_residence_and_the_domicilio_digitale_are_recorded_with_their_source(session, stubs) -> None:
    taxpayer = _taxpayer(session)
    before = _residence(session, taxpayer)
    stubs.people[MARIO_ROSSI_CF] = Person(
        street="DEI MILLE", numero="7", cap="40121", pec="mario.rossi@pec.it"
    )
    outcomes = check_taxpayer(session, ACTOR, taxpayer, _config(stubs))
    assert {o.registry: o.check.outcome for o in outcomes} == {"anpr": "aggiornato", "inad": "aggiornato"}
    assert not any(o.cached for o in outcomes)
    now = _residence(session, taxpayer)
    assert now.id != before.id and before.valid_to_dt is not None  # valid time: the old version is closed
    assert (now.street, now.cap, now.comune, now.provincia) == ("VIA DEI MILLE 7", "40121", "BOLOGNA", "BO")
    assert now.source.startswith("ANPR C001 servizioNotifica") and "residenza dal 15/11/2021" in now.source
    dd = session.scalars(
        sa.select(TaxpayerContact).where(
            TaxpayerContact.taxpayer_id == taxpayer.id,
            TaxpayerContact.kind == "domicilio_digitale",
            TaxpayerContact.valid_to_dt.is_(None),
        )
    ).one()
    assert (dd.value, dd.source) == ("mario.rossi@pec.it", "INAD")
    kinds = session.scalars(
        sa.select(Event.kind).where(Event.taxpayer_id == taxpayer.id, Event.occurred_dt >= before.valid_to_dt)
    ).all()
    assert {"address.changed", "domicilio_digitale.changed", "registry.checked"} <= set(kinds)
    anpr_call = next(body for kind, body in stubs.calls if kind == "anpr")
    assert anpr_call["criteriRicerca"] == {"codiceFiscale": MARIO_ROSSI_CF}
    assert anpr_call["datiRichiesta"]["casoUso"] == "C001"


def test_the_death_is_recorded_with_its_source_and_an_event(session, stubs) -> None:
    taxpayer = _taxpayer(session)
    stubs.people[MARIO_ROSSI_CF] = Person(deceased="2026-10-02")
    (outcome,) = check_taxpayer(session, ACTOR, taxpayer, _config(stubs), registries=["anpr"])
    assert outcome.check.outcome == "deceduto" and outcome.check.summary.startswith("Deceduto il 02/10/2026;")
    assert taxpayer.deceased_date == dt.date(2026, 10, 2)
    event = session.scalars(
        sa.select(Event).where(Event.taxpayer_id == taxpayer.id, Event.kind == "registry.deceased")
    ).one()
    assert event.payload["source"].startswith("ANPR C001") and event.payload["deceased_date"] == "2026-10-02"
    assert outcome.check.detail["data_decesso"] == "2026-10-02"


def test_the_same_data_confirm_and_a_fresh_check_is_reused_within_the_refresh_period(session, stubs) -> None:
    taxpayer = _taxpayer(session)
    stubs.people[MARIO_ROSSI_CF] = Person(pec="mario.rossi@pec.it")
    config = _config(stubs)
    start = utcnow()
    check_taxpayer(session, ACTOR, taxpayer, config, now=start)
    calls = len(stubs.calls)
    again = check_taxpayer(session, ACTOR, taxpayer, config, now=start + dt.timedelta(days=29))
    assert all(o.cached for o in again) and len(stubs.calls) == calls  # no request at all
    later = check_taxpayer(session, ACTOR, taxpayer, config, now=start + dt.timedelta(days=31))
    assert not any(o.cached for o in later) and len(stubs.calls) > calls
    assert {o.check.outcome for o in later} == {"confermato"}  # same residence, same PEC: nothing new
    forced = check_taxpayer(session, ACTOR, taxpayer, config, now=start + dt.timedelta(days=32), force=True)
    assert not any(o.cached for o in forced)


def test_a_person_unknown_to_the_registries_is_not_found(session, stubs) -> None:
    taxpayer = _taxpayer(session)
    outcomes = check_taxpayer(session, ACTOR, taxpayer, _config(stubs))
    assert {o.check.outcome for o in outcomes} == {"non_trovato"}
    assert "Codice fiscale non presente in ANPR." in [o.check.summary for o in outcomes]


def _domicilio(session: Any, taxpayer: Taxpayer) -> TaxpayerContact | None:
    return session.scalars(
        sa.select(TaxpayerContact).where(
            TaxpayerContact.taxpayer_id == taxpayer.id,
            TaxpayerContact.kind == "domicilio_digitale",
            TaxpayerContact.valid_to_dt.is_(None),
        )
    ).first()


def test_a_ceased_inad_address_is_not_recorded_and_closes_the_one_inad_gave(session, stubs) -> None:
    from app.taxpayers.services import set_domicilio_digitale

    taxpayer = _taxpayer(session)
    set_domicilio_digitale(
        session, ACTOR, taxpayer, "vecchia@pec.it", source="INAD", now=utcnow() - dt.timedelta(days=400)
    )
    stubs.people[MARIO_ROSSI_CF] = Person(pec="vecchia@pec.it", pec_ended="2025-01-01T00:00:00Z")
    (outcome,) = check_taxpayer(session, ACTOR, taxpayer, _config(stubs), registries=["inad"])
    assert outcome.check.outcome == "aggiornato" and "non più presente in INAD" in outcome.check.summary
    assert _domicilio(session, taxpayer) is None


def test_a_domicilio_declared_by_the_taxpayer_stays_when_inad_has_none(session, stubs) -> None:
    from app.taxpayers.services import set_domicilio_digitale

    taxpayer = _taxpayer(session)
    set_domicilio_digitale(session, ACTOR, taxpayer, "dichiarato@pec.it", source="contribuente")
    (outcome,) = check_taxpayer(session, ACTOR, taxpayer, _config(stubs), registries=["inad"])
    assert outcome.check.outcome == "non_trovato"
    assert _domicilio(session, taxpayer).value == "dichiarato@pec.it"


@pytest.mark.parametrize(
    ("registry", "status", "message"),
    [
        ("anpr", 500, "ANPR C001: errore del servizio (HTTP 500): EN999 Errore."),
        ("anpr", 400, "ANPR C001: richiesta rifiutata (HTTP 400): EN999 Errore."),
        ("inad", 503, "INAD: servizio non disponibile (HTTP 503): Servizio non disponibile."),
        ("inad", 403, "INAD: richiesta rifiutata (HTTP 403): Servizio non disponibile."),
        ("token", 401, "PDND ha rifiutato il voucher (HTTP 401: credenziali del client PDND rifiutate)"),
    ],
)
def test_a_registry_error_is_an_italian_message_and_nothing_is_written(
    session, stubs, registry: str, status: int, message: str
) -> None:
    taxpayer = _taxpayer(session)
    stubs.people[MARIO_ROSSI_CF] = Person(street="NUOVA", deceased="2026-10-02", pec="mario.rossi@pec.it")
    stubs.fail[registry] = status
    before = _counts(session, taxpayer)
    with pytest.raises(RegistryError) as failed:
        check_taxpayer(session, ACTOR, taxpayer, _config(stubs))
    assert failed.value.message.startswith(message)
    session.flush()
    assert _counts(session, taxpayer) == before and taxpayer.deceased_date is None


def test_a_registry_not_answering_in_time_writes_nothing(session, stubs) -> None:
    taxpayer = _taxpayer(session)
    stubs.people[MARIO_ROSSI_CF] = Person(street="NUOVA", pec="mario.rossi@pec.it")
    stubs.slow.add("inad")
    before = _counts(session, taxpayer)
    with pytest.raises(RegistryError, match="INAD non ha risposto in tempo"):
        check_taxpayer(session, ACTOR, taxpayer, _config(stubs, REGISTRY_TIMEOUT_SECONDS=1))
    assert _counts(session, taxpayer) == before


def test_with_only_anpr_configured_only_anpr_is_asked(session, stubs) -> None:
    stubs.people[MARIO_ROSSI_CF] = Person(pec="mario.rossi@pec.it")
    outcomes = check_taxpayer(session, ACTOR, _taxpayer(session), _config(stubs, INAD_URL=None))
    assert [o.registry for o in outcomes] == ["anpr"] and stubs.count("inad") == 0


def test_without_credentials_a_check_says_what_to_configure(session, stubs) -> None:
    config = _config(stubs, PDND_CLIENT_ID=None)
    with pytest.raises(RegistryError, match="impostare le credenziali PDND"):
        check_taxpayer(session, ACTOR, _taxpayer(session), config)
    assert not stubs.calls


def test_the_prenotification_check_is_off_by_setting_and_on_it_goes_on_after_an_error(session, stubs) -> None:
    mario, verdi = _taxpayer(session), _taxpayer(session, SECOND_ENTE_CF)
    off = prenotification_check(
        session, [mario.id, verdi.id], config=_config(stubs, REGISTRIES_ENABLED=False)
    )
    assert not off.active and not stubs.calls
    stubs.people[MARIO_ROSSI_CF] = Person(deceased="2026-10-02")
    stubs.people[SECOND_ENTE_CF] = Person(pec="verdi@pec.it")
    stubs.fail["inad"] = 500  # every INAD call fails: each taxpayer's check fails whole, the batch goes on
    report = prenotification_check(session, [mario.id, verdi.id], config=_config(stubs))
    assert report.active and set(report.errors) == {mario.id, verdi.id} and report.checked == 0
    assert mario.deceased_date is None
    stubs.fail.clear()
    report = prenotification_check(session, [mario.id, verdi.id], config=_config(stubs))
    assert report.checked == 4 and not report.errors
    assert mario.deceased_date == dt.date(2026, 10, 2)
    again = prenotification_check(session, [mario.id, verdi.id], config=_config(stubs))
    assert again.cached == 4 and again.checked == 0
