"""Full-text search of the document archive: one interface (`search.protocol.SearchBackend`), two backends:
the database's own full text (PostgreSQL `italian` tsvector + GIN, SQLite FTS5 through a Snowball Italian
stemmer) by default, Elasticsearch (official client) when ELASTICSEARCH_URL is set. A standalone library: it
imports nothing of the app. Taxpayer search lives in app/taxpayers/queries.py.
"""

from __future__ import annotations

import sqlalchemy as sa

from search.protocol import Hit, SearchBackend, SearchDoc, SearchResult

DEFAULT_INDEX = "esattoria-documents"

__all__ = ["DEFAULT_INDEX", "Hit", "SearchBackend", "SearchDoc", "SearchResult", "backend_from_settings"]


def backend_from_settings(elasticsearch_url: str | None, engine: sa.Engine | sa.Connection, *,
                          index: str = DEFAULT_INDEX, compat: bool = False,
                          table: str | None = None) -> SearchBackend:
    """Elasticsearch when a URL is configured (`compat`: an OpenSearch-API server, plain JSON media type),
    otherwise the database's own full text on `engine` (`table`: another collection's own table, e.g. the
    knowledge base's `search_article`, beside the documents')."""
    if elasticsearch_url:
        from search.elastic import ElasticBackend

        return ElasticBackend(elasticsearch_url, index=index, compat_plain_json=compat)
    from search.embedded import SqlBackend

    return SqlBackend(engine, table=table) if table else SqlBackend(engine)
