"""Full-text search of the document archive: one interface (`search.protocol.SearchBackend`), two backends:
the database's own full text (PostgreSQL `italian` tsvector + GIN, SQLite FTS5 through a Snowball Italian
stemmer) by default, Elasticsearch (official client) when ELASTICSEARCH_URL is set. A standalone library: it
imports nothing of the app. Taxpayer search lives in app/taxpayers/queries.py.
"""

from search.protocol import Hit, SearchBackend, SearchDoc, SearchResult

__all__ = ["Hit", "SearchBackend", "SearchDoc", "SearchResult"]
