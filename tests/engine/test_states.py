from __future__ import annotations

import pytest

from app.engine.errors import TransitionNotAllowed, UnknownState
from app.engine.states import OPERATIONS, STATES, TRANSITIONS, allowed_targets, check_transition, is_terminal


def test_the_eleven_states_have_italian_labels() -> None:
    assert list(STATES) == [
        "caricata",
        "notificata",
        "scaduta",
        "in_rateazione",
        "sospesa",
        "in_procedura",
        "pagata",
        "parzialmente_pagata",
        "sgravata",
        "inesigibile",
        "prescritta",
    ]
    assert STATES["in_rateazione"] == "In rateazione"
    assert all(t.operation in OPERATIONS for t in TRANSITIONS)


@pytest.mark.parametrize(
    ("source", "target", "operation"),
    [
        ("caricata", "notificata", "notifica"),
        ("notificata", "scaduta", "scadenza_termine"),
        ("notificata", "in_rateazione", "rateazione"),
        ("scaduta", "in_procedura", "avvio_procedura"),
        ("in_rateazione", "scaduta", "decadenza"),
        ("in_rateazione", "pagata", "pagamento"),
        ("in_procedura", "inesigibile", "dichiarazione_inesigibilita"),
        ("sospesa", "scaduta", "revoca_sospensione"),
        ("sospesa", "caricata", "revoca_sospensione"),  # suspended before the notice
        ("parzialmente_pagata", "pagata", "pagamento"),
        ("pagata", "parzialmente_pagata", "storno_pagamento"),
        ("scaduta", "prescritta", "prescrizione"),
        ("notificata", "sgravata", "sgravio"),
    ],
)
def test_allowed_transitions(source: str, target: str, operation: str) -> None:
    assert check_transition(source, target).operation == operation


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("caricata", "in_procedura"),
        ("notificata", "caricata"),
        ("in_rateazione", "in_procedura"),
        ("sgravata", "pagata"),
        ("prescritta", "scaduta"),
        ("pagata", "pagata"),
    ],
)
def test_refused_transitions(source: str, target: str) -> None:
    with pytest.raises(TransitionNotAllowed) as error:
        check_transition(source, target)
    assert error.value.allowed == allowed_targets(source)
    assert error.value.message_it.startswith(
        f"Passaggio di stato non consentito da '{STATES[source]}' a '{STATES[target]}'"
    )


def test_the_refusal_lists_the_allowed_targets_or_says_final() -> None:
    with pytest.raises(TransitionNotAllowed) as error:
        check_transition("in_rateazione", "in_procedura")
    assert error.value.message_it == (
        "Passaggio di stato non consentito da 'In rateazione' a 'In procedura': da questo stato si può "
        "passare solo a: 'Notificata', 'Scaduta', 'Sospesa', 'Pagata', 'Parzialmente pagata', 'Sgravata'"
    )
    with pytest.raises(TransitionNotAllowed) as final:
        check_transition("sgravata", "pagata")
    assert final.value.message_it.endswith("è uno stato finale, non ammette passaggi")


def test_terminal_states_and_reachability() -> None:
    assert {s for s in STATES if is_terminal(s)} == {"sgravata", "prescritta"}
    reached, frontier = {"caricata"}, ["caricata"]
    while frontier:
        for target in allowed_targets(frontier.pop()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(STATES)


def test_unknown_states_are_refused() -> None:
    with pytest.raises(UnknownState) as error:
        check_transition("chiusa", "pagata")
    assert "Stato 'chiusa' sconosciuto" in error.value.message_it
