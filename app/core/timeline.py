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

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
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


# --- timeline sources: rows of a slice's own tables shown on the timeline as events -------------------------
#
# A slice whose own rows ARE the record of what happened to a position (who, when, which rule) registers a
# source instead of writing an `events` row for each: e.g. the escalation's proposals and skips (written by a
# daily set-based job, hundreds of thousands a day). The card's timeline (app/taxpayers/queries.py), its
# pagination and export, and the position monitor's chronology (app/monitor/sections.py) read the events and
# every source as one UNION ALL, newest first::
#
#     def escalation_rows(positions: PositionFilter) -> sa.Select:
#         return sa.select(
#             sa.literal("escalation_skip").label("source"), EscalationSkip.id.label("row_id"),
#             sa.literal("escalation.skipped").label("kind"), ...  # the columns of TIMELINE_COLUMNS
#         ).where(positions(EscalationSkip.position_id))
#
#     register_timeline_source("escalation_skip", escalation_rows)
#
# `positions(column)` is the condition "the row's position is one the reader may see" (the caller built it
# from positions already read through the scoping helper), so a source needs no scoping of its own.

# The labelled columns every source selects, in this order.
TIMELINE_COLUMNS = ("source", "row_id", "kind", "occurred_dt", "position_id", "actor_label", "summary")

PositionFilter = Callable[[Any], sa.ColumnElement[bool]]
TimelineSource = Callable[[PositionFilter], sa.Select]

_SOURCES: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Declare a source (see above). Declaring a name twice is a mistake."""
    if name in _SOURCES or name == "event":
        raise ValueError(f"timeline source {name!r} registered twice")
    _SOURCES[name] = source


def timeline_sources() -> list[tuple[str, TimelineSource]]:
    return sorted(_SOURCES.items())


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a timeline: an `events` row (source "event") or a row of a registered source."""

    source: str
    row_id: int
    kind: str
    occurred_dt: dt.datetime
    position_id: int | None
    actor_label: str
    summary: str

    @property
    def kind_label(self) -> str:
        from app.core.audit import EVENT_KINDS

        return EVENT_KINDS.get(self.kind, self.kind)

    @property
    def actor_name(self) -> str:
        return self.actor_label


def timeline_union(events: sa.Select, positions: PositionFilter) -> sa.Subquery:
    """The events `events` selects (its WHERE clause over app.core.audit.Event) and the rows of every source
    for the positions `positions` keeps, as one subquery with TIMELINE_COLUMNS."""
    from app.core.audit import Event

    parts = [
        events.with_only_columns(
            sa.literal_column("'event'").label("source"),
            Event.id.label("row_id"),
            Event.kind.label("kind"),
            Event.occurred_dt.label("occurred_dt"),
            Event.position_id.label("position_id"),
            Event.actor_label.label("actor_label"),
            Event.summary.label("summary"),
        ).order_by(None)
    ]
    parts += [source(positions) for _, source in timeline_sources()]
    return sa.union_all(*parts).subquery("timeline")


def timeline_select(
    events: sa.Select,
    positions: PositionFilter,
    *,
    group: str | None = None,
    as_of: dt.datetime | None = None,
    newest_first: bool = True,
) -> sa.Select:
    """`timeline_union` filtered by group and date, ordered (newest first by default)."""
    union = timeline_union(events, positions)
    stmt = sa.select(*(union.c[name] for name in TIMELINE_COLUMNS))
    if group in TIMELINE_GROUPS:
        stmt = stmt.where(group_expression(union.c.kind) == group)
    if as_of is not None:
        stmt = stmt.where(union.c.occurred_dt <= as_of)
    if newest_first:
        return stmt.order_by(union.c.occurred_dt.desc(), union.c.source, union.c.row_id.desc())
    return stmt.order_by(union.c.occurred_dt, union.c.source, union.c.row_id)


def timeline_entries(rows: Any) -> list[TimelineEntry]:
    return [TimelineEntry(*row) for row in rows]
