"""The knowledge base's full text through `search/`: its own collection (the embedded backend's table
`search_article`, or the Elasticsearch index ELASTICSEARCH_KB_INDEX), never mixed with the archive's
documents. An article for every ente is indexed under the ente code `*`, which every search includes."""

from __future__ import annotations

from collections.abc import Collection

from flask import current_app

import search
from app.crm.knowledge.models import Article
from search.protocol import SearchBackend, SearchDoc, SearchResult

TABLE = "search_article"
ALL_ENTI = "*"


def backend() -> SearchBackend:
    """Elasticsearch with ELASTICSEARCH_URL (index ELASTICSEARCH_KB_INDEX), otherwise the database's own full
    text on the session's connection, so the index changes commit (or roll back) with the article."""
    from app.extensions import db

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("ELASTICSEARCH_URL")
    if not url:
        return search.backend_from_settings(None, db.session.connection(), table=TABLE)
    found = app.extensions.get("knowledge_search")
    if found is None:
        index = app.config.get("ELASTICSEARCH_KB_INDEX") or "esattoria-articles"
        found = search.backend_from_settings(url, db.engine, index=index)
        found.ensure_ready()
        app.extensions["knowledge_search"] = found
    return found


def search_doc(article: Article, ente_code: str | None) -> SearchDoc:
    extra = " ".join(
        filter(
            None,
            [article.tags.replace(",", " "), article.entrate.replace(",", " "), article.office_name or ""],
        )
    )
    return SearchDoc(
        id=article.id,
        ente=ente_code or ALL_ENTI,
        text=f"{article.body}\n{extra}",
        title=article.title,
        doc_type=article.kind,
        received=article.valid_from,
        version=article.version,
    )


def find(
    query: str, ente_codes: Collection[str], *, kind: str | None = None, limit: int = 20, offset: int = 0
) -> SearchResult:
    return backend().search(query, entes=[*ente_codes, ALL_ENTI], doc_type=kind, limit=limit, offset=offset)
