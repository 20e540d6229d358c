"""Sgravio, sospensione and revoca, discarico, annullamento on stored positions, through the state machine and
the ledger; acts fix their figures; the card's amount stays the engine quote API's for the same inputs."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.core.audit import Event
from app.dynamics.common import MeasureRequest
from app.dynamics.discarico import annul, write_off
from app.dynamics.rules import DynamicsRefused
from app.dynamics.sgravio import abate, reverse_abatement
from app.dynamics.sospensione import revoke, suspend
from app.positions.amounts import today_rome
from app.positions.models import Movement
from app.positions.queries import balances
from tests.dynamics.conftest import (
    ACTOR,
    due_cents,
    engine_api_total,
    ledger_payload,
    new_position,
    stop_interest_on_suspension,
)

TODAY = dt.date(2026, 12, 3)
ORDER = MeasureRequest(
    reason="provvedimento di prova",
    ordered_by="regione",
    act_number="12/2026",
    act_date=dt.date(2026, 11, 30),
)


def _events(session, position, kind: str) -> list[Event]:
    return list(session.scalars(sa.select(Event).where(Event.position_id == position.id, Event.kind == kind)))


def test_a_partial_sgravio_changes_the_quote_by_exactly_the_abated_amounts(session, client) -> None:
    position = new_position(session)
    day = dt.date(2026, 11, 30)
    before = due_cents(session, position, day)
    assert before > 130_588  # interest has accrued since 2024
    measure = abate(
        session,
        ACTOR,
        position,
        {"capitale": 25_000, "sanzioni": 10_000},
        MeasureRequest(reason="indebito parziale", value_date=day),
        today=TODAY,
    )
    assert due_cents(session, position, day) == before - 35_000
    assert measure.amount_cents == 35_000 and position.state == "scaduta"
    # interest runs on afterwards on the capital left, as the engine API computes it from the fixed figures
    assert due_cents(session, position, TODAY) == engine_api_total(
        client, ledger_payload(session, position, TODAY)
    )
    sgravi = session.scalars(
        sa.select(Movement).where(Movement.position_id == position.id, Movement.kind == "sgravio")
    ).all()
    assert sorted((m.component, m.amount_cents) for m in sgravi) == [
        ("capitale", -25_000),
        ("sanzioni", -10_000),
    ]
    [event] = _events(session, position, "position.abated")
    assert "Sgravio di 350,00 €" in event.summary


def test_an_act_fixes_interest_in_the_ledger_and_the_card_equals_the_engine_api(
    session, client, store
) -> None:
    from app.atti.services import act_type_by_code, ensure_defaults, issue_act

    ensure_defaults(session)
    position = new_position(session, state="caricata", notified=None)
    act_day = today_rome()  # an act reads the ledger as booked by the end of its day: issued today
    issued = issue_act(
        session, position, act_type_by_code(session, "ingiunzione"), act_day, ACTOR, file_store=str(store)
    )
    fixed = session.scalars(
        sa.select(Movement).where(Movement.position_id == position.id, Movement.kind == "interessi")
    ).one()
    assert fixed.value_date == act_day and fixed.amount_cents > 0
    assert "Ingiunzione" in fixed.source and "1284" in fixed.source  # the act and the rate's legal source
    # the act's figure is what the ledger now holds at its date; later the amount keeps accruing from there
    assert due_cents(session, position, act_day) == issued.act.amount_due_cents
    on = act_day + dt.timedelta(days=90)
    later = due_cents(session, position, on)
    assert later > issued.act.amount_due_cents
    assert later == engine_api_total(client, ledger_payload(session, position, on))
    assert ledger_payload(session, position, on)["interest"]["from"] == act_day.isoformat()
    assert _events(session, position, "position.amounts_fixed")
    # the batch quote (home page, lists) reads the same
    from app.positions.batch_quotes import batch_quotes
    from app.positions.services import system_principal

    totals = dict(batch_quotes(session, system_principal(session), on, workers=0))
    assert totals[position.id] == f"{later // 100}.{later % 100:02d}"


def test_a_suspension_stops_interest_where_the_rule_says_and_the_revoca_restarts_it(session, client) -> None:
    stop_interest_on_suspension(session, ["autotutela"])
    position = new_position(session)
    suspended_on, revoked_on = dt.date(2026, 3, 31), dt.date(2026, 9, 30)
    at_suspension = due_cents(session, position, suspended_on)
    measure = suspend(
        session,
        ACTOR,
        position,
        "autotutela",
        MeasureRequest(reason="istanza di autotutela", value_date=suspended_on),
        today=TODAY,
    )
    assert measure.stops_interest and position.state == "sospesa"
    assert due_cents(session, position, TODAY) == at_suspension  # nothing accrues while suspended
    assert due_cents(session, position, TODAY) == engine_api_total(
        client, ledger_payload(session, position, TODAY)
    )
    revoke(
        session,
        ACTOR,
        position,
        MeasureRequest(reason="istanza respinta", value_date=revoked_on),
        today=TODAY,
    )
    assert position.state == "scaduta" and measure.ended_on == revoked_on
    after = due_cents(session, position, TODAY)
    assert after > at_suspension  # accrues again, from the revoca only
    assert after == engine_api_total(client, ledger_payload(session, position, TODAY))
    assert ledger_payload(session, position, TODAY)["interest"]["from"] == revoked_on.isoformat()
    from app.positions.batch_quotes import batch_quotes
    from app.positions.services import system_principal

    totals = dict(batch_quotes(session, system_principal(session), TODAY, workers=0))
    assert totals[position.id] == f"{after // 100}.{after % 100:02d}"


def test_a_suspension_the_rule_does_not_name_lets_interest_run(session) -> None:
    stop_interest_on_suspension(session, ["autotutela"])
    position = new_position(session)
    at_suspension = due_cents(session, position, dt.date(2026, 3, 31))
    measure = suspend(
        session,
        ACTOR,
        position,
        "ricorso",
        MeasureRequest(reason="ricorso in CGT", value_date=dt.date(2026, 3, 31)),
        today=TODAY,
    )
    assert not measure.stops_interest
    assert due_cents(session, position, TODAY) > at_suspension
    [event] = _events(session, position, "position.suspended")
    assert event.payload["reason"] == "ricorso" and not event.payload["stops_interest"]


@pytest.mark.parametrize(
    ("setup", "call", "expected"),
    [
        (
            "scaduta",
            lambda s, p: abate(s, ACTOR, p, {"capitale": 100_001}, ORDER, today=TODAY),
            "superiore al dovuto della componente Capitale (1.000,00 €)",
        ),
        ("pagata", lambda s, p: abate(s, ACTOR, p, {"capitale": 100}, ORDER, today=TODAY), "art. 2033 c.c."),
        ("scaduta", lambda s, p: abate(s, ACTOR, p, {}, ORDER, today=TODAY), "importo positivo"),
        ("scaduta", lambda s, p: revoke(s, ACTOR, p, ORDER, today=TODAY), "L. 241/1990, art. 21-quater"),
        (
            "scaduta",
            lambda s, p: write_off(s, ACTOR, p, ORDER, today=TODAY),
            "D.Lgs. 112/1999, art. 19, c. 2",
        ),
        ("sospesa", lambda s, p: suspend(s, ACTOR, p, "ricorso", ORDER, today=TODAY), "già sospesa"),
        (
            "prescritta",
            lambda s, p: abate(s, ACTOR, p, {"capitale": 100}, ORDER, today=TODAY),
            "Passaggio di stato non consentito",
        ),
        (
            "scaduta",
            lambda s, p: suspend(
                s,
                ACTOR,
                p,
                "ricorso",
                MeasureRequest(reason="x", value_date=dt.date(2027, 1, 1)),
                today=TODAY,
            ),
            "successiva a oggi",
        ),
    ],
    ids=[
        "sgravio-oltre-il-residuo",
        "sgravio-posizione-pagata",
        "sgravio-senza-importi",
        "revoca-non-sospesa",
        "discarico-senza-tentativi",
        "sospensione-doppia",
        "sgravio-prescritta",
        "data-futura",
    ],
)
def test_refusals_name_the_rule_and_its_source_and_change_nothing(session, setup, call, expected) -> None:
    position = new_position(session, state=setup)
    movements = session.scalar(
        sa.select(sa.func.count()).select_from(Movement).where(Movement.position_id == position.id)
    )
    with session.begin_nested() as nested:
        with pytest.raises(DynamicsRefused) as refused:
            call(session, position)
        nested.rollback()
    message = refused.value.message
    assert expected in message
    assert message.rstrip(".").endswith(")") and "(" in message  # "... (legal source)."
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(Movement).where(Movement.position_id == position.id)
        )
        == movements
    )


def test_a_total_sgravio_closes_the_position_and_flags_the_acts_issued(session, store) -> None:
    from app.atti.services import act_type_by_code, ensure_defaults, issue_act
    from app.dynamics.models import SupersededAct

    ensure_defaults(session)
    position = new_position(session, state="caricata", notified=None)
    act = issue_act(
        session,
        position,
        act_type_by_code(session, "ingiunzione"),
        today_rome(),
        ACTOR,
        file_store=str(store),
    ).act
    measure = abate(session, ACTOR, position, None, ORDER, today=TODAY)
    assert position.state == "sgravata"
    assert balances(session, [position.id])[position.id].due_cents == 0
    assert due_cents(session, position, TODAY) == 0
    assert session.scalars(
        sa.select(SupersededAct.act_id).where(SupersededAct.measure_id == measure.id)
    ).all() == [act.id]
    with pytest.raises(DynamicsRefused, match="21-nonies"):
        reverse_abatement(session, ACTOR, measure, "errore", today=TODAY)
    from app.dynamics.queries import superseding_measures
    from app.positions.services import system_principal

    assert superseding_measures(session, system_principal(session), act.id) == [measure]


def test_the_storno_of_a_partial_sgravio_restores_the_amounts(session) -> None:
    position = new_position(session)
    day = dt.date(2026, 11, 30)
    measure = abate(
        session,
        ACTOR,
        position,
        {"sanzioni": 30_000},
        MeasureRequest(reason="x", value_date=day),
        today=TODAY,
    )
    abated = due_cents(session, position, day)
    reverse_abatement(session, ACTOR, measure, "provvedimento annullato", today=TODAY)
    assert due_cents(session, position, day) == abated + 30_000
    assert measure.ended_on == TODAY
    with pytest.raises(DynamicsRefused):
        reverse_abatement(session, ACTOR, measure, "di nuovo", today=TODAY)


def test_discarico_lists_the_attempts_and_annullamento_reverses_the_ledger(session, store) -> None:
    from app.atti.services import act_type_by_code, ensure_defaults, issue_act

    ensure_defaults(session)
    position = new_position(session, state="caricata", notified=None)
    issue_act(
        session,
        position,
        act_type_by_code(session, "ingiunzione"),
        today_rome(),
        ACTOR,
        file_store=str(store),
    )
    position.state = "scaduta"
    measure = write_off(session, ACTOR, position, ORDER, notes="ricerca presso banche: negativa", today=TODAY)
    assert position.state == "inesigibile" and measure.amount_cents > 0
    assert [a["kind"] for a in measure.attempts] == ["atto", "nota"]
    assert "Ingiunzione" in measure.attempts[0]["text"]
    assert _events(session, position, "position.written_off")

    other = new_position(session)
    annul(session, ACTOR, other, ORDER, today=TODAY)
    assert other.state == "sgravata"
    assert balances(session, [other.id])[other.id].due_cents == 0
    assert due_cents(session, other, TODAY) == 0
    assert _events(session, other, "position.annulled")


def test_annullamento_is_refused_on_a_position_with_payments(session) -> None:
    position = new_position(session)
    session.add(
        Movement(
            position_id=position.id,
            component="spese",
            kind="pagamento",
            amount_cents=-588,
            value_date=dt.date(2026, 1, 10),
            source="pagamento di prova",
        )
    )
    session.flush()
    with pytest.raises(DynamicsRefused, match="art. 2033 c.c."):
        annul(session, ACTOR, position, ORDER, today=TODAY)
