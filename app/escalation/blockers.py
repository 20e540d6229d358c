"""What stops escalation, as an extension point: `register_blocker(code, label, predicate)`.

A predicate is set-based SQL: a boolean expression over the alias `p` of the positions the daily job
considers (columns `p.id`, `p.ente_id`, `p.entrata_id`, `p.taxpayer_id`, `p.state`, `p.due_date`,
`p.notified_date`) and the bind parameter `:on` (the run date). It must be a code constant (never user
input): it is inlined into the job's INSERT ... SELECT. A position for which any predicate holds skips the
step, and the skip (with the blocker and the rule) is recorded once, shown on its card. A closed position
(`CLOSED_STATES`) is no candidate at all: it left the ladder.
Prefer an uncorrelated `p.<column> IN (SELECT ...)` to a correlated EXISTS: PostgreSQL hashes it once per
statement instead of running a subquery per position. Another slice registers its own at import time, e.g. the
procedures slice (app/procedures/escalation_blockers.py)::

    register_blocker("procedura_concorsuale", "In procedura concorsuale",
                     "p.taxpayer_id IN (SELECT i.taxpayer_id FROM insolvency_proceedings i "
                     "WHERE i.opened_on <= :on AND (i.closed_on IS NULL OR i.closed_on > :on))")
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Blocker:
    code: str
    label: str
    predicate: str


_BLOCKERS: dict[str, Blocker] = {}
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def register_blocker(code: str, label: str, predicate: str) -> None:
    """Declare a blocker (see the module's docstring). Declaring a code twice is a mistake."""
    if not _CODE.match(code):
        raise ValueError(f"blocker code {code!r}: lower case letters, digits and _ only")
    if code in _BLOCKERS:
        raise ValueError(f"blocker {code!r} declared twice")
    if ";" in predicate:
        raise ValueError("a blocker predicate is one SQL expression")
    _BLOCKERS[code] = Blocker(code, label, predicate)


def blockers() -> list[Blocker]:
    return list(_BLOCKERS.values())


def label_of(code: str) -> str:
    return labels().get(code, code)


# A closed position leaves the ladder: no step is proposed and no skip is recorded (a skip is worth a line on
# the card only while the ladder waits: a plan, a suspension, a deceased taxpayer, an insolvency proceeding).
# The labels stay for the skips recorded before (they were blockers until issue 14's events change).
CLOSED_STATES: dict[str, str] = {
    "pagata": "Pagata",
    "sgravata": "Sgravata",
    "prescritta": "Prescritta",
    "inesigibile": "Inesigibile",
}


def labels() -> dict[str, str]:
    """Every blocker's label by code (with the closed states', for the skips recorded before)."""
    return {**CLOSED_STATES, **{b.code: b.label for b in _BLOCKERS.values()}}


# Built-ins: the states that hold the ladder (app/engine/states.py) and a deceased taxpayer.
for _state, _label in (("in_rateazione", "In rateazione"), ("sospesa", "Sospesa")):
    register_blocker(_state, _label, f"p.state = '{_state}'")
register_blocker(
    "deceduto",
    "Contribuente deceduto",
    "p.taxpayer_id IN (SELECT t.id FROM taxpayers t WHERE t.deceased_date IS NOT NULL)",
)
