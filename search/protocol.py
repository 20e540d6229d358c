"""The one interface of the archive's full-text search; two backends implement it (style.md B.6).

`search/` is a standalone library: it imports nothing of the app. The ente scope is a required argument of
every query, applied inside the backend's query (never filtered afterwards), so totals, highlights and facets
never reveal another ente's documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SearchDoc:
    id: int  # the archive's document id
    ente: str  # ente code, e.g. "R01"
    text: str  # extracted text
    title: str = ""  # subject
    protocol: str = ""  # "<ente>-<year>-<7 digits>"
    taxpayers: tuple[str, ...] = ()  # codici fiscali of linked taxpayers
    doc_type: str = ""
    channel: str = ""
    received: dt.date | None = None
    version: int = 1  # bumped by the archive at every change; the consistency check compares it


@dataclass(frozen=True, slots=True)
class Hit:
    document: int
    score: float
    highlight: str  # "... <em>word</em> ..." (HTML-escaped text around <em> marks)
    protocol: str = ""
    taxpayers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    hits: list[Hit] = field(default_factory=list)


@runtime_checkable
class SearchBackend(Protocol):
    name: str

    def ensure_ready(self) -> None:
        """Create the index/alias (or check the table) when missing; idempotent."""

    def index(self, docs: Iterable[SearchDoc]) -> int:
        """Upsert in bulk; returns how many were written."""

    def delete(self, ids: Iterable[int]) -> None: ...

    def search(self, query: str, *, entes: Collection[str], taxpayer: str | None = None,
               doc_type: str | None = None, limit: int = 20, offset: int = 0) -> SearchResult: ...

    def versions(self, entes: Collection[str] | None = None) -> dict[int, int]:
        """{document id: version} of what is indexed, for the consistency check."""

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Reindex from scratch (Elasticsearch: a new versioned index, then the alias swapped)."""
