"""The `esattoria` command (formats.md §5)."""

from __future__ import annotations

import json

from app.demo.seed import MARIO_ROSSI_CF


def test_posizioni_prints_the_taxpayers_positions_as_json(app) -> None:
    result = app.test_cli_runner().invoke(args=["posizioni", "--cf", MARIO_ROSSI_CF])
    assert result.exit_code == 0, result.output
    positions = json.loads(result.output)
    assert positions and {p["ente"] for p in positions} == {"R01"}
    first = positions[0]
    assert set(first) >= {
        "id_posizione",
        "ente",
        "entrata",
        "state",
        "components",
        "total_due",
        "notice_numbers",
    }
    assert {c["kind"] for c in first["components"]} <= {"capitale", "sanzioni", "interessi", "spese", "oneri"}
    for c in first["components"]:
        assert set(c) == {"kind", "original", "paid", "due"}
        assert c["due"].count(".") == 1 and len(c["due"].split(".")[1]) == 2


def test_posizioni_refuses_a_malformed_codice_fiscale(app) -> None:
    result = app.test_cli_runner().invoke(args=["posizioni", "--cf", "RSSMRA80A01H501X"])
    assert result.exit_code == 1
    assert "Codice fiscale non valido" in result.output


def test_posizioni_of_an_unknown_taxpayer_is_an_empty_list(app) -> None:
    from stdnum.it import codicefiscale

    unknown = "BNCGPP75C15F205" + codicefiscale.calc_check_digit("BNCGPP75C15F205")
    result = app.test_cli_runner().invoke(args=["posizioni", "--cf", unknown])
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_demo_seed_is_idempotent(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--taxpayers", "5"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[0])
    assert summary == {"taxpayers": 0, "positions": 0, "movements": 0, "users": 0}
