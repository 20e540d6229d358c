"""The embedded search backend: the database's own full text, the default when no Elasticsearch is configured.

- PostgreSQL: a stored `tsvector` column generated with the `italian` configuration (title weighted A, text B)
  behind a GIN index; `ts_rank` orders, `ts_headline` highlights.
- SQLite: an FTS5 table over the Snowball Italian stems of title and text (FTS5 has no Italian stemmer: see
  search/text.py), kept in step by triggers; `bm25` orders, the highlight is built in Python from the original
  text by marking the words whose stem is a query stem.

The library imports nothing of the app: the app's Alembic migration executes `schema_statements(dialect)`;
`ensure_ready()` checks the table (and creates it when missing, for tests and standalone use). The ente scope
is a condition of the SQL WHERE, so totals and highlights only ever see the given entes' documents. A
document's version only grows: a stale upsert (lower version than the stored one) is not written.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from search import text as it
from search.common import batches, check_page, protocol_terms
from search.protocol import Hit, SearchDoc, SearchResult

TABLE = "search_document"
PG_TSV_CHARS = 1_000_000  # PostgreSQL refuses a tsvector past 1 MB: only this much of a text is indexed
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_BATCH = 1000
# ts_headline drops what its parser takes for XML tags: "<" and ">" travel as two control characters instead
_ANGLES = "\x04\x05"
_UNANGLE = str.maketrans(_ANGLES, "<>")
_HEADLINE = 'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'


def _ident(table: str) -> str:
    if not _IDENT.fullmatch(table):
        raise ValueError(f"invalid table name: {table!r}")
    return table


def schema_statements(dialect_name: str, table: str = TABLE) -> list[str]:
    """The DDL of the search table (and its full-text index) for that dialect, one statement per item."""
    t = _ident(table)
    if dialect_name == "postgresql":
        return [
            f"""CREATE TABLE {t} (
    id BIGINT PRIMARY KEY,
    ente TEXT NOT NULL,
    taxpayers TEXT[] NOT NULL DEFAULT '{{}}',
    doc_type TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    received DATE,
    protocol TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    tsv TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('italian'::regconfig, title), 'A')
        || setweight(to_tsvector('italian'::regconfig, left(text, {PG_TSV_CHARS})), 'B')
    ) STORED
)""",
            f"CREATE INDEX ix_{t}_tsv ON {t} USING GIN (tsv)",
            f"CREATE INDEX ix_{t}_ente ON {t} (ente)",
            f"CREATE INDEX ix_{t}_protocol ON {t} (protocol)",
            f"CREATE INDEX ix_{t}_taxpayers ON {t} USING GIN (taxpayers)",
        ]
    if dialect_name == "sqlite":
        fts = f"{t}_fts"
        cols = "title_stems, text_stems"
        old = (f"INSERT INTO {fts}({fts}, rowid, {cols}) "
               "VALUES ('delete', old.id, old.title_stems, old.text_stems);")  # nosec B608: checked table name
        new = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, new.title_stems, new.text_stems);"  # nosec B608: checked table name
        return [
            f"""CREATE TABLE {t} (
    id INTEGER PRIMARY KEY,
    ente TEXT NOT NULL,
    taxpayers TEXT NOT NULL DEFAULT '[]',
    doc_type TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    received DATE,
    protocol TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    title_stems TEXT NOT NULL DEFAULT '',
    text_stems TEXT NOT NULL DEFAULT ''
)""",
            f"CREATE INDEX ix_{t}_ente ON {t} (ente)",
            f"CREATE INDEX ix_{t}_protocol ON {t} (protocol)",
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{t}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 0')",
            f"CREATE TRIGGER {t}_ai AFTER INSERT ON {t} BEGIN {new} END",
            f"CREATE TRIGGER {t}_ad AFTER DELETE ON {t} BEGIN {old} END",
            f"CREATE TRIGGER {t}_au AFTER UPDATE ON {t} BEGIN {old} {new} END",
        ]
    raise ValueError(f"no embedded search for the {dialect_name} dialect")


def drop_statements(dialect_name: str, table: str = TABLE) -> list[str]:
    """The downgrade of `schema_statements` (indexes and triggers go with their table)."""
    t = _ident(table)
    if dialect_name == "sqlite":
        return [f"DROP TABLE IF EXISTS {t}_fts", f"DROP TABLE IF EXISTS {t}"]
    return [f"DROP TABLE IF EXISTS {t}"]


def owned_tables(dialect_name: str, table: str = TABLE) -> frozenset[str]:
    """Every table the DDL creates (FTS5 adds shadow tables): for an Alembic autogenerate filter."""
    t = _ident(table)
    if dialect_name == "sqlite":
        fts = f"{t}_fts"
        return frozenset({t, fts, *(f"{fts}_{s}" for s in ("data", "idx", "docsize", "config"))})
    return frozenset({t})


def _dml_table(table: str, dialect_name: str) -> sa.Table:
    """The columns the backend writes (not part of any app metadata)."""
    pg = dialect_name == "postgresql"
    columns = [
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("ente", sa.Text),
        sa.Column("taxpayers", postgresql.ARRAY(sa.Text) if pg else sa.Text),
        sa.Column("doc_type", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("received", sa.Date),
        sa.Column("protocol", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("version", sa.Integer),
    ]
    if not pg:
        columns += [sa.Column("title_stems", sa.Text), sa.Column("text_stems", sa.Text)]
    return sa.Table(table, sa.MetaData(), *columns)


class SqlBackend:
    """`SearchBackend` on the app's database (PostgreSQL or SQLite)."""

    def __init__(self, engine: sa.Engine | sa.Connection, table: str = TABLE) -> None:
        self.bind = engine
        self.table = _ident(table)
        self.dialect = engine.dialect.name
        if self.dialect not in ("postgresql", "sqlite"):
            raise ValueError(f"no embedded search for the {self.dialect} dialect")
        self.name = self.dialect
        self._t = _dml_table(self.table, self.dialect)

    @contextlib.contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """A transaction of its own on an Engine; a savepoint inside the caller's on a Connection."""
        if isinstance(self.bind, sa.Engine):
            with self.bind.begin() as conn:
                yield conn
        else:
            with self.bind.begin_nested():
                yield self.bind

    def ensure_ready(self) -> None:
        with self._begin() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(self.table):
                for statement in schema_statements(self.dialect, self.table):
                    conn.exec_driver_sql(statement)
                return
            if self.dialect == "sqlite":
                ready = inspector.has_table(f"{self.table}_fts")
            else:
                ready = "tsv" in {c["name"] for c in inspector.get_columns(self.table)}
            if not ready:
                raise RuntimeError(f"the table {self.table} exists without its full-text index")

    # --- writes -------------------------------------------------------------------------------------------

    def _row(self, doc: SearchDoc) -> dict[str, Any]:
        title, text = it.clean(doc.title), it.clean(doc.text)
        taxpayers = list(doc.taxpayers)
        row: dict[str, Any] = {
            "id": int(doc.id), "ente": doc.ente, "doc_type": doc.doc_type, "channel": doc.channel,
            "received": doc.received, "protocol": doc.protocol, "title": title, "text": text,
            "version": int(doc.version),
            "taxpayers": taxpayers if self.dialect == "postgresql" else json.dumps(taxpayers),
        }
        if self.dialect == "sqlite":
            row["title_stems"] = it.stem_text(title)
            row["text_stems"] = it.stem_text(text)
        return row

    def _upsert(self, conn: sa.Connection, docs: Iterable[SearchDoc]) -> int:
        t = self._t
        insert = postgresql.insert(t) if self.dialect == "postgresql" else sqlite.insert(t)
        statement = insert.on_conflict_do_update(
            index_elements=[t.c.id],
            set_={c.name: insert.excluded[c.name] for c in t.columns if c.name != "id"},
            where=t.c.version <= insert.excluded.version,
        ).returning(t.c.id)
        written = 0
        for batch in batches(docs, _BATCH):
            written += len(conn.execute(statement, [self._row(doc) for doc in batch]).all())
        return written

    def index(self, docs: Iterable[SearchDoc]) -> int:
        with self._begin() as conn:
            return self._upsert(conn, docs)

    def delete(self, ids: Iterable[int]) -> None:
        wanted = sorted({int(i) for i in ids})
        statement = sa.delete(self._t).where(self._t.c.id.in_(sa.bindparam("ids", expanding=True)))
        with self._begin() as conn:
            for start in range(0, len(wanted), _BATCH):
                conn.execute(statement, {"ids": wanted[start:start + _BATCH]})

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Everything replaced in one transaction: readers see the old rows until the commit."""
        with self._begin() as conn:
            conn.execute(sa.delete(self._t))
            return self._upsert(conn, docs)

    # --- reads --------------------------------------------------------------------------------------------

    def versions(self, entes: Collection[str] | None = None) -> dict[int, int]:
        statement = sa.select(self._t.c.id, self._t.c.version)
        if entes is not None:
            if isinstance(entes, str):
                raise TypeError("entes must be a collection of ente codes, not a string")
            if not entes:
                return {}
            statement = statement.where(self._t.c.ente.in_(sorted(set(entes))))
        with self._begin() as conn:
            return {int(i): int(v) for i, v in conn.execute(statement)}

    def search(self, query: str, *, entes: Collection[str], taxpayer: str | None = None,
               doc_type: str | None = None, limit: int = 20, offset: int = 0) -> SearchResult:
        scope = check_page(entes, limit, offset)
        if not scope or not query.strip():
            return SearchResult(total=0)
        params: dict[str, Any] = {
            "query": query, "entes": scope, "protocols": protocol_terms(query), "limit": limit,
            "offset": offset, "taxpayer": taxpayer, "doc_type": doc_type}
        with self._begin() as conn:
            if self.dialect == "postgresql":
                return self._search_postgresql(conn, params)
            return self._search_sqlite(conn, params)

    def _filters(self, params: dict[str, Any]) -> str:
        where = []
        if params["taxpayer"] and self.dialect == "postgresql":
            where.append("d.taxpayers @> ARRAY[CAST(:taxpayer AS TEXT)]")
        elif params["taxpayer"]:
            where.append("EXISTS (SELECT 1 FROM json_each(d.taxpayers) WHERE json_each.value = :taxpayer)")
        if params["doc_type"]:
            where.append("d.doc_type = :doc_type")
        return "".join(f" AND {w}" for w in where)

    def _search_postgresql(self, conn: sa.Connection, params: dict[str, Any]) -> SearchResult:
        t = self.table
        matched = f"""FROM {t} d, q
            WHERE (d.tsv @@ q.q OR d.protocol IN :protocols)
              AND d.ente = ANY(:entes){self._filters(params)}"""  # nosec B608: checked table name
        statement = sa.text(f"""
            WITH q AS (SELECT plainto_tsquery('italian', :query) AS q),
            page AS (
                SELECT d.id,
                       ts_rank(d.tsv, q.q) + CASE WHEN d.protocol IN :protocols THEN 1 ELSE 0 END AS score,
                       count(*) OVER () AS total
                {matched}
                ORDER BY score DESC, d.id DESC LIMIT :limit OFFSET :offset)
            SELECT page.id, page.score, page.total, d.protocol, d.taxpayers,
                   ts_headline('italian', translate(left(d.text, {PG_TSV_CHARS}), '<>', :angles), q.q,
                               :headline) AS highlight
            FROM page JOIN {t} d ON d.id = page.id, q
            ORDER BY page.score DESC, page.id DESC""").bindparams(sa.bindparam("protocols", expanding=True))  # nosec B608: checked table name
        rows = conn.execute(statement, {**params, "headline": _HEADLINE, "angles": _ANGLES}).all()
        if rows:
            total = int(rows[0].total)
        else:  # a page past the end: the total still counts every match
            count = sa.text(f"WITH q AS (SELECT plainto_tsquery('italian', :query) AS q) SELECT count(*) "
                            f"{matched}").bindparams(sa.bindparam("protocols", expanding=True))
            total = conn.execute(count, params).scalar_one()
        hits = [Hit(document=int(r.id), score=float(r.score),
                    highlight=it.from_marked(r.highlight.translate(_UNANGLE)),
                    protocol=r.protocol, taxpayers=tuple(r.taxpayers)) for r in rows]
        return SearchResult(total=total, hits=hits)

    def _search_sqlite(self, conn: sa.Connection, params: dict[str, Any]) -> SearchResult:
        t, stems = self.table, it.query_stems(params["query"])
        branches = []
        if stems:
            params["match"] = " ".join(f'"{s}"' for s in stems)
            branches.append(f"SELECT rowid, -bm25({t}_fts, 2.0, 1.0) FROM {t}_fts WHERE {t}_fts MATCH :match")  # nosec B608: checked table name
        branches.append(f"SELECT id, 1000.0 FROM {t} WHERE protocol IN :protocols")  # nosec B608: checked table name
        statement = sa.text(f"""
            WITH m(id, score) AS ({" UNION ALL ".join(branches)}),
            s AS (SELECT id, max(score) AS score FROM m GROUP BY id)
            SELECT d.id, s.score, count(*) OVER () AS total, d.protocol, d.taxpayers, d.text
            FROM s JOIN {t} d ON d.id = s.id
            WHERE d.ente IN :entes{self._filters(params)}
            ORDER BY s.score DESC, d.id DESC LIMIT :limit OFFSET :offset""").bindparams(  # nosec B608: checked table name
            sa.bindparam("protocols", expanding=True), sa.bindparam("entes", expanding=True))
        rows = conn.execute(statement, params).all()
        if rows:
            total = int(rows[0].total)
        else:
            count = sa.text(f"""
                WITH m(id, score) AS ({" UNION ALL ".join(branches)})
                SELECT count(DISTINCT d.id) FROM m JOIN {t} d ON d.id = m.id
                WHERE d.ente IN :entes{self._filters(params)}""").bindparams(  # nosec B608: checked table name
                sa.bindparam("protocols", expanding=True), sa.bindparam("entes", expanding=True))
            total = conn.execute(count, params).scalar_one()
        wanted = set(stems)
        hits = [Hit(document=int(r.id), score=float(r.score), highlight=it.highlight(r.text, wanted),
                    protocol=r.protocol, taxpayers=tuple(json.loads(r.taxpayers))) for r in rows]
        return SearchResult(total=total, hits=hits)
