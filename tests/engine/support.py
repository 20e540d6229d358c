"""Shared test data for the engine tests: the national defaults, loaded from the file (not through the
`app.enti` package, whose __init__ imports the ORM models), and the engine values built from them."""

from __future__ import annotations

import importlib.util
from datetime import date
from functools import cache
from pathlib import Path
from types import ModuleType

from app.engine.params import EngineParams, params_from_rows
from app.engine.rates import RateTable

DEFAULTS_PATH = Path(__file__).resolve().parents[2] / "app" / "enti" / "defaults.py"


@cache
def defaults() -> ModuleType:
    spec = importlib.util.spec_from_file_location("esattoria_enti_defaults", DEFAULTS_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def engine_setup(on: date) -> tuple[EngineParams, dict[str, RateTable]]:
    module = defaults()
    return params_from_rows(module.PARAMETERS, module.RATE_TABLES, on)


def params_on(on: date) -> EngineParams:
    return engine_setup(on)[0]


def rate_tables() -> dict[str, RateTable]:
    return engine_setup(date(2026, 1, 1))[1]
