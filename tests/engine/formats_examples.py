"""The worked examples of formats.md §4, shared by the engine's unit tests and its HTTP tests."""

from __future__ import annotations

from typing import Any

FORMATS_REQUEST: dict[str, Any] = {
    "as_of": "2025-06-30",
    "components": {"capitale": "1000.00", "sanzioni": "300.00", "interessi": "0", "spese": "5.88"},
    "interest": {
        "from": "2023-07-01",
        "base": ["capitale"],
        "rate_table": "legale",
        "surcharge_points": "0",
        "day_count": "ACT/365",
    },
}
FORMATS_SEGMENTS = [
    {
        "from": "2023-07-02",
        "to": "2023-12-31",
        "days": 183,
        "rate": "5.00",
        "base": "1000.00",
        "amount": "25.07",
    },
    {
        "from": "2024-01-01",
        "to": "2024-12-31",
        "days": 366,
        "rate": "2.50",
        "base": "1000.00",
        "amount": "25.07",
    },
    {
        "from": "2025-01-01",
        "to": "2025-06-30",
        "days": 181,
        "rate": "2.00",
        "base": "1000.00",
        "amount": "9.92",
    },
]
