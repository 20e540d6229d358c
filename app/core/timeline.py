"""Groups of the timeline: which kind of event is a payment, an act, a contact, a document, a message.

One registry, read by the card's filter (in SQL: `group_expression`) and by its export. A slice declares its
event kinds' group where it declares the kinds, by prefix; the longest matching prefix wins, and a kind no
prefix matches belongs to `DEFAULT_GROUP`::

    register_event_group("message.", "messaggi")
    register_event_group("contact.logged", "contatti")   # while "contact.changed" stays "anagrafica"

| group        | label shown on the filter |
|--------------|---------------------------|
| pagamenti    | Pagamenti                 |
| atti         | Atti                      |
| contatti     | Contatti                  |
| documenti    | Documenti                 |
| messaggi     | Messaggi                  |
| posizioni    | Posizioni                 |
| anagrafica   | Anagrafica e altro        |
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

TIMELINE_GROUPS: dict[str, str] = {
    "pagamenti": "Pagamenti",
    "atti": "Atti",
    "contatti": "Contatti",
    "documenti": "Documenti",
    "messaggi": "Messaggi",
    "posizioni": "Posizioni",
    "anagrafica": "Anagrafica e altro",
}
DEFAULT_GROUP = "anagrafica"

_PREFIXES: dict[str, str] = {}


def register_event_group(prefix: str, group: str) -> None:
    """Events whose kind starts with `prefix` belong to `group` (one of TIMELINE_GROUPS)."""
    if group not in TIMELINE_GROUPS:
        raise ValueError(f"unknown timeline group {group!r}")
    if not prefix:
        raise ValueError("an event kind prefix cannot be empty")
    if _PREFIXES.get(prefix, group) != group:
        raise ValueError(f"event kind prefix {prefix!r} already belongs to {_PREFIXES[prefix]!r}")
    _PREFIXES[prefix] = group


def _longest_first() -> list[tuple[str, str]]:
    return sorted(_PREFIXES.items(), key=lambda item: (-len(item[0]), item[0]))


def group_of(kind: str) -> str:
    for prefix, group in _longest_first():
        if kind.startswith(prefix):
            return group
    return DEFAULT_GROUP


def group_expression(kind_column: Any) -> sa.ColumnElement[str]:
    """`group_of` in SQL, over an event kind column (a CASE on the registered prefixes, longest first)."""
    whens = [(kind_column.startswith(prefix, autoescape=True), group) for prefix, group in _longest_first()]
    if not whens:
        return sa.literal(DEFAULT_GROUP)
    return sa.case(*whens, else_=sa.literal(DEFAULT_GROUP))


def kinds_in_group_condition(kind_column: Any, group: str) -> sa.ColumnElement[bool]:
    return group_expression(kind_column) == group


# The groups of the kinds app.core.audit declares; new slices register theirs next to their own kinds.
for _prefix, _group in (
    ("payment.", "pagamenti"),
    ("act.", "atti"),
    ("contact.logged", "contatti"),
    ("contact.recorded", "contatti"),  # the crm's contact log
    ("appointment.", "contatti"),
    ("document.", "documenti"),
    ("message.", "messaggi"),
    ("position.", "posizioni"),
):
    register_event_group(_prefix, _group)
