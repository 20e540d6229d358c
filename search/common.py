"""What both backends agree on: the page limits, the ente scope argument, the protocol match, one version
per document."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from itertools import islice

from search.protocol import SearchDoc

MAX_LIMIT = 100


def check_page(entes: Collection[str], limit: int, offset: int) -> list[str]:
    """The entes as a sorted list; a bare string (a collection of letters) or a bad page is a caller's bug."""
    if isinstance(entes, str):
        raise TypeError("entes must be a collection of ente codes, not a string")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ValueError(f"limit must be 1..{MAX_LIMIT} and offset >= 0 (limit={limit}, offset={offset})")
    return sorted(set(entes))


def protocol_terms(query: str) -> list[str]:
    """A query that is a protocol number matches it exactly (as typed, or with the ente code upper-cased)."""
    raw = query.strip()
    return sorted({raw, raw.upper()})


def batches(docs: Iterable[SearchDoc], size: int) -> Iterator[list[SearchDoc]]:
    """The documents in batches of at most `size`, one per id within a batch (a rebuild streams the whole
    archive: never all in memory). Across batches the backends' version check keeps the highest version."""
    stream = iter(docs)
    while batch := list(islice(stream, size)):
        yield latest(batch)


def latest(docs: Iterable[SearchDoc]) -> list[SearchDoc]:
    """One document per id (the highest version; the later one on a tie)."""
    chosen: dict[int, SearchDoc] = {}
    for doc in docs:
        if not doc.ente:
            raise ValueError(f"document {doc.id}: the ente is required")
        if doc.id not in chosen or doc.version >= chosen[doc.id].version:
            chosen[doc.id] = doc
    return list(chosen.values())
