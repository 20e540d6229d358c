"""The procedures' state machines and pure rules (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.enti.defaults import PARAMETERS
from app.procedures.machine import MACHINES, ProcedureRefused, at_least, check, wage_bands, wage_limit

BANDS = wage_bands(next(r for r in PARAMETERS if r["code"] == "pignoramento_quote_stipendio")["value"])


@pytest.mark.parametrize(
    "wage,limit,fraction",
    [
        ("2000.00", "200.00", "1/10"),
        ("2500.00", "250.00", "1/10"),
        ("2500.01", "357.14", "1/7"),  # 2500.01 / 7 = 357.1442...: down to the cent
        ("5000.00", "714.28", "1/7"),
        ("5000.01", "1000.00", "1/5"),
        ("6000.00", "1200.00", "1/5"),
    ],
)
def test_wage_fraction_by_band_of_art_72_ter(wage: str, limit: str, fraction: str) -> None:
    got, band = wage_limit(Decimal(wage), BANDS)
    assert (got, band.label) == (Decimal(limit), fraction)


def test_ipoteca_threshold_is_inclusive() -> None:
    assert at_least(Decimal("20000.00"), Decimal("20000.00"))
    assert not at_least(Decimal("19999.99"), Decimal("20000.00"))


def test_a_strumentale_vehicle_refuses_the_fermo_naming_the_rule() -> None:
    with pytest.raises(ProcedureRefused) as refused:
        check("fermo", "esente", "iscrizione")
    assert "strumentale" in refused.value.message
    assert "art. 187" in refused.value.message and "art. 86" in refused.value.message


def test_an_operation_out_of_its_state_is_refused_in_italian_with_the_allowed_ones() -> None:
    with pytest.raises(ProcedureRefused) as refused:
        check("pignoramento", "atto_emesso", "pagamento_terzo")
    assert "non è consentita" in refused.value.message
    assert "Notifica al terzo" in refused.value.message
    assert check("fermo", "iscritto", "richiesta_cancellazione") == "cancellazione_richiesta"


def test_every_machine_is_consistent() -> None:
    for kind, machine in MACHINES.items():
        assert machine.initial in machine.states, kind
        for from_state, _, to_state in machine.transitions:
            assert from_state in machine.states and to_state in machine.states, (kind, from_state, to_state)
        assert machine.closed <= set(machine.states), kind
