"""Prescription (formats.md §4, art. 2963 c.c.). Weekdays: 2024-12-31 Tue, 2026-05-10 Sun, 2023-12-31 Sun,
2027-01-02 Sat, 2029-04-01 Sun (Easter; 04-02 Easter Monday), 2025-12-25 Thu, 2026-06-02 Tue,
2029-02-28 Wed, 2026-02-28 Sat."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import holidays
import pytest

from app.engine.deadlines import (
    PrescriptionKind,
    PrescriptionRegime,
    below_minimum,
    needs_intimazione,
    next_useful_day,
    prescription_date,
)

from .support import params_on

REGIMES = params_on(date(2026, 1, 1)).prescription_regimes
# Italian national holidays as the caller computes them (the engine takes them as an input)
ITALY = frozenset(holidays.Italy(years=range(2018, 2040)))
FIXED = frozenset({date(2024, 1, 1), date(2025, 12, 25), date(2025, 12, 26), date(2026, 6, 2)})


@pytest.mark.parametrize(
    ("regime", "due", "interruptions", "expected", "start"),
    [
        # due in 2021 → 31 Dec of 2021 + 3 = 2024-12-31 (Tuesday); the term runs from 2022-01-01
        pytest.param("tassa_auto", "2021-01-31", [], "2024-12-31", "2022-01-01", id="bollo-no-interruption"),
        # formats.md example: 2023-05-10 + 3 years = 2026-05-10, a Sunday → Monday 2026-05-11
        pytest.param(
            "tassa_auto", "2021-01-31", ["2023-05-10"], "2026-05-11", "2023-05-10", id="formats-example"
        ),
        # an interruption after the prescription date does not count: 2019 → 2022-12-31 (Saturday, kept)
        pytest.param("tassa_auto", "2019-01-31", ["2023-03-01"], "2022-12-31", "2020-01-01", id="too-late"),
        # two interruptions: 2023-05-10 → 2026-05-10(11); 2026-04-01 → 2029-04-01 Easter Sunday,
        # 2029-04-02 Easter Monday → 2029-04-03
        pytest.param(
            "tassa_auto",
            "2021-01-31",
            ["2026-04-01", "2023-05-10"],
            "2029-04-03",
            "2026-04-01",
            id="two-interruptions-easter",
        ),
        # an interruption before the term began never shortens it: 2021-06-01 + 3 = 2024-06-01 < 2024-12-31
        pytest.param(
            "tassa_auto", "2021-01-31", ["2021-06-01"], "2024-12-31", "2022-01-01", id="no-shortening"
        ),
        # 29 February: interruption 2020-02-29 + 3 years → 2023-02-28
        pytest.param(
            "tassa_auto", "2019-03-31", ["2020-02-29"], "2023-02-28", "2020-02-29", id="bollo-29-feb"
        ),
        # 5y from 2024-02-29 → 2029-02-28 (art. 2963 c. 4)
        pytest.param("5y", "2024-02-29", [], "2029-02-28", "2024-02-29", id="5y-29-feb"),
        # 10y from 2016-02-29 → 2026-02-28 (a Saturday: not shifted)
        pytest.param("10y", "2016-02-29", [], "2026-02-28", "2016-02-29", id="10y-29-feb"),
        # 5y from 2020-12-25 → 2025-12-25 Christmas, 26 Santo Stefano → 2025-12-27
        pytest.param("5y", "2020-12-25", [], "2025-12-27", "2020-12-25", id="christmas"),
        # 5y from 2021-06-02 → 2026-06-02 Festa della Repubblica → 2026-06-03
        pytest.param("5y", "2021-06-02", [], "2026-06-03", "2021-06-02", id="2-june"),
        # 5y with interruption 2023-03-10 → 2028-03-10
        pytest.param("5y", "2021-06-02", ["2023-03-10"], "2028-03-10", "2023-03-10", id="5y-interrupted"),
    ],
)
def test_prescription(regime: str, due: str, interruptions: list[str], expected: str, start: str) -> None:
    result = prescription_date(
        REGIMES[regime], date.fromisoformat(due), [date.fromisoformat(d) for d in interruptions], ITALY
    )
    assert result.date == date.fromisoformat(expected)
    assert result.start == date.fromisoformat(start)
    assert result.term == REGIMES[regime].label


def test_the_last_useful_day_after_the_shift_still_accepts_an_interruption() -> None:
    # due 2020 → 2023-12-31 Sunday, 2024-01-01 holiday → last useful day 2024-01-02
    regime = REGIMES["tassa_auto"]
    assert prescription_date(regime, date(2020, 5, 1), [], FIXED).date == date(2024, 1, 2)
    # notified on 2024-01-02: counts → 2027-01-02 (Saturday, kept)
    counted = prescription_date(regime, date(2020, 5, 1), [date(2024, 1, 2)], FIXED)
    assert counted.date == date(2027, 1, 2) and counted.interruptions == (date(2024, 1, 2),)
    # notified on 2024-01-03: too late
    late = prescription_date(regime, date(2020, 5, 1), [date(2024, 1, 3)], FIXED)
    assert late.date == date(2024, 1, 2) and late.interruptions == ()


def test_holidays_may_be_a_callable() -> None:
    regime = PrescriptionRegime("5y", PrescriptionKind.ANNIVERSARY, 5, "5 anni", "art. 2948 c.c.")
    result = prescription_date(regime, date(2021, 6, 2), [], lambda day: day in FIXED)
    assert result.date == date(2026, 6, 3)
    assert next_useful_day(date(2026, 5, 10), frozenset()) == date(2026, 5, 11)  # Sunday alone


@pytest.mark.parametrize(
    ("notified", "as_of", "needed"),
    [
        pytest.param("2024-03-15", "2025-03-15", False, id="anniversary-still-within"),
        pytest.param("2024-03-15", "2025-03-16", True, id="day-after"),
        pytest.param("2024-02-29", "2025-02-28", False, id="29-feb-anniversary"),
        pytest.param("2024-02-29", "2025-03-01", True, id="29-feb-after"),
    ],
)
def test_needs_intimazione(notified: str, as_of: str, needed: bool) -> None:
    months = params_on(date(2026, 1, 1)).intimazione_months
    assert months == 12
    assert needs_intimazione(date.fromisoformat(notified), date.fromisoformat(as_of), months) is needed


def test_below_minimum_of_dl_16_2012() -> None:
    threshold = params_on(date(2025, 1, 1)).minimum_threshold
    assert threshold == Decimal("30.00")
    assert below_minimum(Decimal("30.00"), threshold) is True
    assert below_minimum(Decimal("30.01"), threshold) is False
