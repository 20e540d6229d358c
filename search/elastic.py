"""The Elasticsearch backend (official `elasticsearch` client, 9.x), used when ELASTICSEARCH_URL is set.

The documents live in a versioned index `<index>-v<N>` behind the alias `<index>`: a rebuild fills
`<index>-v<N+1>`, swaps the alias in one `update_aliases` call and deletes the old index, so readers never see
a half-built index (writes made while a rebuild runs go to the old index: the archive's consistency check
repairs them). Text and title use the built-in `italian` analyzer; ente, taxpayers, type and protocol are
keywords. Writes use external versioning (`external_gte`): a stale upsert never overwrites a newer version.

`PlainMediaTypeNode` (RECIPES.md §7) is for servers of the OpenSearch REST API (osmem-server in the tests),
which answer 406 to the client's `application/vnd.elasticsearch+json; compatible-with=9` media type; a real
Elasticsearch keeps the default node.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from elastic_transport import Urllib3HttpNode
from elasticsearch import BadRequestError, Elasticsearch, helpers

from search import text as it
from search.common import batches, check_page, protocol_terms
from search.protocol import Hit, SearchDoc, SearchResult

INDEX = "esattoria-documents"
_COMPAT = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson); compatible-with=\d+")

# The built-in `italian` analyzer (elision, stop words, the `light_italian` stemmer). Note: the light stemmer
# leaves words of up to 5 letters alone ("tasse" does not find "tassa") where the embedded backends' Snowball
# stemmer joins them; a custom analyzer with the Snowball stemmer is not served by osmem-server (its elision
# filter is ignored and matching breaks), so the suite could not check it.
ANALYZER = "italian"
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "ente": {"type": "keyword"},
        "taxpayers": {"type": "keyword"},
        "doc_type": {"type": "keyword"},
        "channel": {"type": "keyword"},
        "received": {"type": "date", "format": "strict_date"},
        "protocol": {"type": "keyword"},
        "title": {"type": "text", "analyzer": ANALYZER},
        "text": {"type": "text", "analyzer": ANALYZER},
        "version": {"type": "long"},
    },
}
HIGHLIGHT: dict[str, Any] = {
    "encoder": "html",
    "pre_tags": ["<em>"],
    "post_tags": ["</em>"],
    "fields": {"text": {"number_of_fragments": 2, "fragment_size": 160, "no_match_size": 160}},
}


class PlainMediaTypeNode(Urllib3HttpNode):
    """Sends `application/json` where the client writes its vendor media type (OpenSearch-API servers)."""

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # type: ignore[no-untyped-def]
        if headers:
            headers = headers.copy()
            for key in list(headers.keys()):
                if key.lower() in ("accept", "content-type"):
                    headers[key] = _COMPAT.sub(r"application/\1", headers[key])
        return super().perform_request(method, target, body=body, headers=headers,
                                       request_timeout=request_timeout)


class SearchIndexError(RuntimeError):
    """Elasticsearch refused some of the documents of a bulk request."""


class ElasticBackend:
    """`SearchBackend` on Elasticsearch (or an OpenSearch-API server with `compat_plain_json=True`)."""

    name = "elasticsearch"

    def __init__(self, client_or_url: Elasticsearch | str, *, index: str = INDEX,
                 node_class: type[Urllib3HttpNode] | None = None, compat_plain_json: bool = False,
                 refresh: bool | str = "wait_for", shards: int = 1) -> None:
        if isinstance(client_or_url, str):
            chosen = node_class or (PlainMediaTypeNode if compat_plain_json else None)
            options: dict[str, Any] = {"node_class": chosen} if chosen else {}
            client_or_url = Elasticsearch(client_or_url, **options)
        if index != index.lower() or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", index):
            raise ValueError(f"invalid index name: {index!r}")
        self.client = client_or_url
        self.alias = index
        self.refresh = refresh
        self.shards = shards
        self._ready = False

    # --- indices ------------------------------------------------------------------------------------------

    def _aliased(self) -> list[str]:
        """The concrete indices behind the alias (one, unless someone else changed it)."""
        if not self.client.indices.exists_alias(name=self.alias):
            return []
        return sorted(self.client.indices.get_alias(name=self.alias).body)

    def _versioned(self) -> dict[str, int]:
        """Every `<index>-v<N>` that exists, aliased or not (a rebuild that failed half-way leaves one)."""
        found = self.client.indices.get_alias(index=f"{self.alias}-v*", allow_no_indices=True).body
        pattern = re.compile(re.escape(self.alias) + r"-v(\d+)")
        return {name: int(m.group(1)) for name in found if (m := pattern.fullmatch(name))}

    def _create(self, name: str, *, aliased: bool) -> None:
        self.client.indices.create(
            index=name, mappings=MAPPINGS, settings={"number_of_shards": self.shards},
            aliases={self.alias: {}} if aliased else None)

    def ensure_ready(self) -> None:
        self._ready = True
        if self._aliased():
            return
        if self.client.indices.exists(index=self.alias):
            raise RuntimeError(f"{self.alias} is an index, not the alias of a versioned index")
        name = f"{self.alias}-v{max(self._versioned().values(), default=0) + 1}"
        try:
            self._create(name, aliased=True)
        except BadRequestError as exc:  # another process created it first
            if exc.error != "resource_already_exists_exception" or not self._aliased():
                raise

    # --- writes -------------------------------------------------------------------------------------------

    @staticmethod
    def _source(doc: SearchDoc) -> dict[str, Any]:
        return {
            "id": int(doc.id), "ente": doc.ente, "taxpayers": list(doc.taxpayers), "doc_type": doc.doc_type,
            "channel": doc.channel, "received": doc.received.isoformat() if doc.received else None,
            "protocol": doc.protocol, "title": it.clean(doc.title), "text": it.clean(doc.text),
            "version": int(doc.version),
        }

    def _actions(self, docs: Iterable[SearchDoc], index: str) -> Iterator[dict[str, Any]]:
        for doc in (doc for batch in batches(docs, 500) for doc in batch):
            yield {"_op_type": "index", "_index": index, "_id": str(doc.id), "version": int(doc.version),
                   "version_type": "external_gte", "_source": self._source(doc)}

    def _bulk(self, actions: Iterable[dict[str, Any]], *, refresh: bool | str, ignore: int) -> int:
        written, errors = helpers.bulk(self.client, actions, refresh=refresh, raise_on_error=False,
                                       chunk_size=500, stats_only=False)
        refused = [e for e in errors if next(iter(e.values())).get("status") != ignore]
        if refused:
            raise SearchIndexError(f"{len(refused)} documents refused, e.g. {refused[0]}")
        return int(written)

    def index(self, docs: Iterable[SearchDoc]) -> int:
        """Upserts; a document older than the indexed one (409 conflict) is skipped, not counted."""
        if not self._ready:  # a write to a missing alias would auto-create a plain index under its name
            self.ensure_ready()
        return self._bulk(self._actions(docs, self.alias), refresh=self.refresh, ignore=409)

    def delete(self, ids: Iterable[int]) -> None:
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": str(int(i))} for i in ids)
        self._bulk(actions, refresh=self.refresh, ignore=404)

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        existing = self._versioned()
        new = f"{self.alias}-v{max(existing.values(), default=0) + 1}"
        self._create(new, aliased=False)
        try:
            written = self._bulk(self._actions(docs, new), refresh=False, ignore=409)
            self.client.indices.refresh(index=new)
        except Exception:
            self.client.indices.delete(index=new)
            raise
        swap = [{"remove": {"index": name, "alias": self.alias}} for name in self._aliased()]
        self.client.indices.update_aliases(actions=[*swap, {"add": {"index": new, "alias": self.alias}}])
        for name in existing:
            self.client.indices.delete(index=name, ignore_unavailable=True)
        return written

    # --- reads --------------------------------------------------------------------------------------------

    def versions(self, entes: Collection[str] | None = None) -> dict[int, int]:
        query: dict[str, Any] = {"match_all": {}}
        if entes is not None:
            if isinstance(entes, str):
                raise TypeError("entes must be a collection of ente codes, not a string")
            if not entes:
                return {}
            query = {"bool": {"filter": [{"terms": {"ente": sorted(set(entes))}}]}}
        hits = helpers.scan(self.client, index=self.alias, query={"query": query}, _source=["version"],
                            size=1000)
        return {int(h["_id"]): int(h["_source"]["version"]) for h in hits}

    def search(self, query: str, *, entes: Collection[str], taxpayer: str | None = None,
               doc_type: str | None = None, limit: int = 20, offset: int = 0) -> SearchResult:
        scope = check_page(entes, limit, offset)
        if not scope or not query.strip():
            return SearchResult(total=0)
        filters: list[dict[str, Any]] = [{"terms": {"ente": scope}}]
        if taxpayer:
            filters.append({"term": {"taxpayers": taxpayer}})
        if doc_type:
            filters.append({"term": {"doc_type": doc_type}})
        matches = {"bool": {"should": [
            {"multi_match": {"query": query, "type": "cross_fields", "operator": "and",
                             "fields": ["title^2", "text"]}},
            {"terms": {"protocol": protocol_terms(query), "boost": 10}},
        ], "minimum_should_match": 1}}
        found = self.client.search(
            index=self.alias, query={"bool": {"must": [matches], "filter": filters}},
            from_=offset, size=limit,
            track_total_hits=True, track_scores=True, sort=[{"_score": "desc"}, {"id": "desc"}],
            source_includes=["protocol", "taxpayers"], highlight=HIGHLIGHT,
        ).body["hits"]
        hits = [
            Hit(document=int(h["_id"]), score=float(h.get("_score") or h["sort"][0]),
                highlight=it.normalize_html(it.join_fragments(h.get("highlight", {}).get("text", []))),
                protocol=h["_source"].get("protocol", ""), taxpayers=tuple(h["_source"].get("taxpayers", [])))
            for h in found["hits"]
        ]
        return SearchResult(total=int(found["total"]["value"]), hits=hits)
