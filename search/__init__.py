"""Full-text search of the document archive: one interface, two backends (SQL full-text by default,
Elasticsearch when ELASTICSEARCH_URL is set). A standalone library: it imports nothing of the app.

Not implemented yet: it arrives with the archive issue. Taxpayer search lives in app/taxpayers/queries.py.
"""

__all__: list[str] = []
