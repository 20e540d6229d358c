from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.engine.charges import CostTable, OneriRule, notification_cost, oneri_l160, procedure_cost
from app.engine.errors import UnknownCode

from .support import params_on

D = Decimal
RULE = OneriRule(
    reduced_percent=D("3"),
    reduced_cap=D("300.00"),
    reduced_days=60,
    full_percent=D("6"),
    full_cap=D("600.00"),
    base_components=("capitale", "sanzioni", "interessi", "spese"),
    source="L. 160/2019 c. 803",
)
ESECUTIVO = date(2024, 3, 15)
DAY_60 = date(2024, 5, 14)  # 16 days left in March + 30 in April + 14 in May = 60
DAY_61 = date(2024, 5, 15)


@pytest.mark.parametrize(
    ("base", "as_of", "amount", "capped"),
    [
        # day 60 included: 1365.93 x 3% = 40.9779 → 40.98
        pytest.param("1365.93", DAY_60, "40.98", False, id="day-60-reduced"),
        # day 61: 1365.93 x 6% = 81.9558 → 81.96
        pytest.param("1365.93", DAY_61, "81.96", False, id="day-61-full"),
        # before esecutività counts as within the 60 days: 3%
        pytest.param("1365.93", date(2024, 3, 1), "40.98", False, id="before-esecutivo"),
        # 10000.00 x 3% = 300.00: exactly the cap, not above
        pytest.param("10000.00", DAY_60, "300.00", False, id="reduced-at-cap"),
        # 10000.17 x 3% = 300.0051 → 300.01 → capped to 300.00
        pytest.param("10000.17", DAY_60, "300.00", True, id="reduced-over-cap"),
        # 20000.00 x 3% = 600.00 → capped 300.00
        pytest.param("20000.00", DAY_60, "300.00", True, id="reduced-capped"),
        # 10000.00 x 6% = 600.00: the full cap, not above
        pytest.param("10000.00", DAY_61, "600.00", False, id="full-at-cap"),
        # 20000.00 x 6% = 1200.00 → capped 600.00
        pytest.param("20000.00", DAY_61, "600.00", True, id="full-capped"),
        # 1.50 x 3% = 0.045 → half-up 0.05 (half-even would give 0.04)
        pytest.param("1.50", DAY_60, "0.05", False, id="half-up"),
    ],
)
def test_oneri_l160(base: str, as_of: date, amount: str, capped: bool) -> None:
    oneri = oneri_l160(D(base), ESECUTIVO, as_of, RULE)
    assert oneri.amount == D(amount)
    assert oneri.capped is capped


def test_oneri_reports_the_days_and_the_percent_used() -> None:
    assert oneri_l160(D("100.00"), ESECUTIVO, DAY_60, RULE).days_since_esecutivo == 60
    assert oneri_l160(D("100.00"), ESECUTIVO, DAY_61, RULE).percent == D("6")


def test_notification_costs_of_dm_14_4_2023_from_the_defaults() -> None:
    table = params_on(date(2025, 1, 1)).notification_costs
    assert table is not None
    expected = {
        "sollecito": "1.33",
        "raccomandata_ar": "7.83",
        "raccomandata_semplice": "6.51",
        "pec": "2.00",
        "notifica_art60_l890": "11.55",
    }
    assert {kind: notification_cost(kind, table) for kind in expected} == {
        k: D(v) for k, v in expected.items()
    }


def test_unknown_cost_kind_lists_the_known_ones() -> None:
    table = CostTable("spese_procedure", {"ipoteca": D("30.00")}, "DM 21/11/2000")
    assert procedure_cost("ipoteca", table) == D("30.00")
    with pytest.raises(UnknownCode) as error:
        procedure_cost("fax", table)
    assert error.value.known == ("ipoteca",)
    assert "'fax' sconosciuto" in error.value.message_it
