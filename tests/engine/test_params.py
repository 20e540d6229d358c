"""The national defaults (app/enti/defaults.py) and their translation into engine values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.engine.errors import InvalidParameter
from app.engine.params import engine_params_from_rows, params_from_rows, rate_tables_from_rows

from .support import defaults, params_on

D = Decimal


def test_every_parameter_row_is_well_formed_and_loads_on_its_first_day() -> None:
    rows = defaults().PARAMETERS
    for row in rows:
        assert set(row) == {"code", "valid_from", "valid_to", "value", "source", "note"}, row["code"]
        assert row["source"] and row["note"], row["code"]
        engine_params_from_rows(rows, date.fromisoformat(row["valid_from"]))


def test_the_defaults_in_force_in_2026() -> None:
    params = params_on(date(2026, 3, 1))
    assert params.oneri is not None
    assert (
        params.oneri.reduced_percent,
        params.oneri.reduced_cap,
        params.oneri.reduced_days,
        params.oneri.full_percent,
        params.oneri.full_cap,
    ) == (D("3"), D("300.00"), 60, D("6"), D("600.00"))
    assert params.allocation_order == ("spese", "interessi", "sanzioni", "capitale")
    assert params.mora_surcharge_max_points == D("2")
    assert params.ipoteca_min == D("20000.00")
    assert params.minimum_threshold == D("30.00")
    assert params.intimazione_months == 12
    assert "D.Lgs. 33/2025 art. 146" in params.sources["intimazione_mesi"]
    assert "art. 50" in params_on(date(2025, 12, 31)).sources["intimazione_mesi"]
    assert set(params.installment_regimes) == {"l160", "dpr602_art19"}
    assert set(params.prescription_regimes) == {"tassa_auto", "5y", "10y"}
    assert params.decadenza_rules["l160"].unpaid_installments == 2
    assert params.decadenza_rules["l160"].window_months == 6
    assert params.decadenza_rules["l160"].sollecito_required is True
    assert params.decadenza_rules["dpr602_art19"].unpaid_installments == 8
    assert params.unverified == set(params.sources)  # the seeded rows are all "da verificare"
    verified = [{**row, "verified": row["code"] != "spese_procedure"} for row in defaults().PARAMETERS]
    assert engine_params_from_rows(verified, date(2026, 3, 1)).unverified == {"spese_procedure"}


def test_the_last_row_in_force_wins() -> None:
    # the lead lists national rows first and an ente's own after: the ente's oneri rule wins
    ente_row = {**next(r for r in defaults().PARAMETERS if r["code"] == "oneri_l160"), "ente_id": 1}
    ente_row["value"] = {**ente_row["value"], "full_cap": "500.00"}
    params = engine_params_from_rows([*defaults().PARAMETERS, ente_row], date(2025, 1, 1))
    assert params.oneri is not None and params.oneri.full_cap == D("500.00")


def test_rows_read_back_from_a_database() -> None:
    # dates as date objects, rates as str(Decimal.normalize()) — "1E+1" for 10 — and a flat list of periods
    flat = [
        {
            "code": "legale",
            "valid_from": date(1990, 12, 16),
            "valid_to": date(1996, 12, 31),
            "rate": "1E+1",
            "source": "L. 353/1990",
            "confirmed": True,
        },
        {"code": "legale", "valid_from": date(1997, 1, 1), "valid_to": None, "rate": D("5"), "source": "x"},
    ]
    table = rate_tables_from_rows(flat)["legale"]
    assert table.rate_on(date(1995, 1, 1)) == D("10")
    assert table.rate_on(date(1998, 1, 1)) == D("5")
    params, tables = params_from_rows(
        [
            {
                "code": "ipoteca_min",
                "valid_from": date(2011, 7, 13),
                "valid_to": None,
                "value": {"amount": "2E+4"},
                "source": "art. 77",
                "confirmed": True,
            }
        ],
        defaults().RATE_TABLES,
        date(2020, 1, 1),
    )
    assert params.ipoteca_min == D("20000.00")
    assert params.oneri is None and params.installment_regimes == {}
    assert set(tables) == {"legale", "mora_dpr602_art30", "dilazione_dpr602_art21"}


@pytest.mark.parametrize(
    "value",
    [
        {"amount": 30.0},  # a float
        {"amount": "30.001"},  # below the cent
        {},  # missing key
    ],
)
def test_malformed_rows_raise_invalid_parameter(value: dict[str, object]) -> None:
    row = {
        "code": "soglia_minima_tributi_regionali",
        "valid_from": "2012-07-01",
        "valid_to": None,
        "value": value,
        "source": "DL 16/2012",
        "confirmed": True,
    }
    with pytest.raises(InvalidParameter) as error:
        engine_params_from_rows([row], date(2020, 1, 1))
    assert "Parametro 'soglia_minima_tributi_regionali' non valido" in error.value.message_it


def test_rows_outside_their_validity_are_ignored() -> None:
    assert engine_params_from_rows(defaults().PARAMETERS, date(1930, 1, 1)).prescription_regimes == {}
