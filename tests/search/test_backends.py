"""One suite for every search backend (issue 11 point 5): Elasticsearch through the official client against
osmem-server (and against ELASTICSEARCH_URL's cluster when set), PostgreSQL's `italian` tsvector, SQLite FTS5
with the Snowball Italian stemmer. Each test starts from an empty index/table of its own."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from search import SearchBackend, SearchDoc, backend_from_settings
from search.elastic import ElasticBackend, PlainMediaTypeNode
from search.embedded import SqlBackend, drop_statements, owned_tables, schema_statements
from tests.conftest import _create_database, _drop_database

CF_ROSSI = "RSSMRA80A01H501U"
CF_VERDI = "VRDGPP70A01F205X"

BACKENDS = ["es", "postgres", "sqlite"] + (["es-cluster"] if os.environ.get("ELASTICSEARCH_URL") else [])


@pytest.fixture(scope="session")
def search_osmem_url() -> Iterator[str]:
    from osmem_server import OsmemServer

    server = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    yield server.url
    server.close()


@pytest.fixture(scope="session")
def search_pg_engine(pg_server: str) -> Iterator[sa.Engine]:
    url = _create_database(pg_server, "esattoria_search")
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()
    _drop_database(url)


def _elastic(url: str, node_class: type | None) -> Iterator[ElasticBackend]:
    backend = ElasticBackend(url, index=f"test-search-{uuid.uuid4().hex[:12]}", node_class=node_class)
    backend.ensure_ready()
    yield backend
    backend.client.indices.delete(index=f"{backend.alias}-v*", ignore_unavailable=True)
    backend.client.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[SearchBackend]:
    if request.param == "es":
        yield from _elastic(request.getfixturevalue("search_osmem_url"), PlainMediaTypeNode)
    elif request.param == "es-cluster":
        yield from _elastic(os.environ["ELASTICSEARCH_URL"], None)
    elif request.param == "postgres":
        engine: sa.Engine = request.getfixturevalue("search_pg_engine")
        table = f"search_t{uuid.uuid4().hex[:12]}"
        sql = SqlBackend(engine, table=table)
        sql.ensure_ready()
        yield sql
        with engine.begin() as conn:
            for statement in drop_statements("postgresql", table):
                conn.exec_driver_sql(statement)
    else:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'search.db'}")
        sql = SqlBackend(engine)
        sql.ensure_ready()
        yield sql
        engine.dispose()


def doc(id: int, text: str, *, ente: str = "R01", version: int = 1, **fields) -> SearchDoc:
    return SearchDoc(id=id, ente=ente, text=text, protocol=fields.pop("protocol", f"{ente}-2026-{id:07d}"),
                     version=version, **fields)


CORPUS = [
    doc(1, "Atto di pignoramento presso terzi notificato al contribuente.", title="Pignoramento",
        taxpayers=(CF_ROSSI,), doc_type="atto", channel="pec", received=dt.date(2026, 3, 2)),
    doc(2, "Avviso relativo alla tassa automobilistica regionale dell'anno 2024.", title="Avviso",
        taxpayers=(CF_VERDI,), doc_type="avviso", channel="posta"),
    doc(3, "Istanza di rateazione dopo il pignoramento dello stipendio.", title="Istanza di rateazione",
        taxpayers=(CF_ROSSI, CF_VERDI), doc_type="istanza", channel="sportello"),
    doc(4, "Ricorso contro il pignoramento e la tassa automobilistica.", ente="R02", title="Ricorso",
        taxpayers=(CF_ROSSI,), doc_type="ricorso"),
]


def ids(result) -> list[int]:
    return sorted(hit.document for hit in result.hits)


def test_italian_stemming_an_inflection_finds_the_word(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    plural = backend.search("pignoramenti", entes=["R01"])
    assert ids(plural) == [1, 3] and plural.total == 2
    assert ids(backend.search("automobilistiche", entes=["R01"])) == [2]
    assert ids(backend.search("automobilistiche regionali", entes=["R01"])) == [2]


def test_every_word_of_the_query_must_be_found(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    assert ids(backend.search("pignoramento stipendio", entes=["R01"])) == [3]
    assert backend.search("pignoramento inesistentissimo", entes=["R01"]).total == 0
    assert ids(backend.search("istanza pignoramento", entes=["R01"])) == [3]  # title + text


def test_filters_by_taxpayer_and_document_type(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    assert ids(backend.search("pignoramento", entes=["R01"], taxpayer=CF_ROSSI)) == [1, 3]
    assert ids(backend.search("pignoramento", entes=["R01"], taxpayer=CF_VERDI)) == [3]
    assert ids(backend.search("pignoramento", entes=["R01"], doc_type="istanza")) == [3]
    assert backend.search("pignoramento", entes=["R01"], doc_type="avviso").total == 0
    only = backend.search("pignoramento", entes=["R01"], taxpayer=CF_VERDI, doc_type="atto")
    assert only.total == 0 and only.hits == []


def test_hits_carry_highlights_protocol_and_taxpayers(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    [hit] = backend.search("pignoramenti stipendio", entes=["R01"]).hits
    assert hit.document == 3 and hit.protocol == "R01-2026-0000003"
    assert hit.taxpayers == (CF_ROSSI, CF_VERDI)
    assert "<em>pignoramento</em>" in hit.highlight and "<em>stipendio</em>" in hit.highlight
    assert "rateazione" in hit.highlight and "<em>rateazione</em>" not in hit.highlight
    assert hit.score > 0


def test_html_in_the_text_is_escaped_around_the_marks(backend: SearchBackend) -> None:
    backend.index([doc(7, 'Allegato <script>alert("x")</script> & ricorso contro il pignoramento')])
    [hit] = backend.search("pignoramento", entes=["R01"]).hits
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; ricorso" in hit.highlight
    assert "<em>pignoramento</em>" in hit.highlight
    assert "<" not in re.sub(r"</?em>", "", hit.highlight) and ">" not in re.sub(r"</?em>", "", hit.highlight)


def test_another_entes_documents_never_appear_not_even_in_the_total(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    r01 = backend.search("pignoramento", entes=["R01"], limit=1)
    assert r01.total == 2 and len(r01.hits) == 1 and r01.hits[0].document in (1, 3)
    assert ids(backend.search("ricorso", entes=["R01"])) == []
    assert backend.search("ricorso", entes=["R01"]).total == 0
    r02 = backend.search("pignoramento", entes=["R02"], taxpayer=CF_ROSSI)
    assert ids(r02) == [4] and r02.total == 1
    assert backend.search("R02-2026-0000004", entes=["R01"]).total == 0  # not even by protocol
    assert backend.search("pignoramento", entes=[]).total == 0
    assert backend.search("pignoramento", entes=["R03"]).total == 0
    assert ids(backend.search("pignoramento", entes=("R01", "R02"))) == [1, 3, 4]
    with pytest.raises(TypeError):
        backend.search("pignoramento", entes="R01")  # a string is a collection of letters


def test_a_protocol_number_finds_its_document(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    assert ids(backend.search("R01-2026-0000002", entes=["R01"])) == [2]
    assert ids(backend.search(" r01-2026-0000002 ", entes=["R01"])) == [2]


def test_a_blank_query_finds_nothing(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    assert backend.search("   ", entes=["R01"]).total == 0
    assert backend.search("il della", entes=["R01"]).total == 0  # stop words only


def test_upsert_keeps_one_document_with_the_new_version(backend: SearchBackend) -> None:
    assert backend.index([doc(5, "Prima versione: delega al ritiro")]) == 1
    assert backend.index([doc(5, "Seconda versione: visura catastale", version=2)]) == 1
    assert backend.versions() == {5: 2}
    assert ids(backend.search("visura", entes=["R01"])) == [5]
    assert backend.search("delega", entes=["R01"]).total == 0
    # a stale job (an older version) does not overwrite the newer one
    assert backend.index([doc(5, "Prima versione: delega al ritiro")]) == 0
    assert backend.versions() == {5: 2} and backend.search("delega", entes=["R01"]).total == 0
    # the same id twice in one call: the higher version wins
    backend.index([doc(6, "ricevuta di ritorno", version=3), doc(6, "cartolina vecchia", version=2)])
    assert backend.versions() == {5: 2, 6: 3} and ids(backend.search("ricevute", entes=["R01"])) == [6]


def test_a_large_call_streams_in_batches_and_keeps_the_highest_version(backend: SearchBackend) -> None:
    """A rebuild of the archive is never held in memory whole: versions still win across batch boundaries."""
    filler = [doc(i, f"Comunicazione numero {i}") for i in range(10, 1210)]
    written = backend.index([doc(1, "versione nuova", version=2), doc(2, "versione vecchia"), *filler,
                             doc(1, "versione vecchia"), doc(2, "versione nuova", version=3)])
    assert written == 1203  # the stale copy of 1 is not written
    assert {k: v for k, v in backend.versions().items() if k < 10} == {1: 2, 2: 3}
    assert ids(backend.search("nuova", entes=["R01"])) == [1, 2]
    assert backend.search("comunicazioni", entes=["R01"], limit=1).total == 1200


def test_a_codice_fiscale_or_a_notice_number_in_the_text_finds_the_letter(backend: SearchBackend) -> None:
    backend.index([doc(11, f"Il contribuente {CF_VERDI} chiede la rateazione dell'avviso 301000000000012345"),
                   *CORPUS])
    assert ids(backend.search(CF_VERDI, entes=["R01"])) == [11]
    assert ids(backend.search(CF_VERDI.lower(), entes=["R01"])) == [11]
    assert ids(backend.search("301000000000012345", entes=["R01"])) == [11]


def test_delete_removes_documents_and_ignores_unknown_ids(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    backend.delete([1, 999])
    assert ids(backend.search("pignoramento", entes=["R01"])) == [3]
    assert backend.versions() == {2: 1, 3: 1, 4: 1}
    backend.delete([])


def test_versions_lists_what_is_indexed_per_ente(backend: SearchBackend) -> None:
    backend.index([*CORPUS[:3], doc(4, "altro", ente="R02", version=7)])
    assert backend.versions() == {1: 1, 2: 1, 3: 1, 4: 7}
    assert backend.versions(["R02"]) == {4: 7}
    assert backend.versions(["R01", "R09"]) == {1: 1, 2: 1, 3: 1}
    assert backend.versions([]) == {}


def test_rebuild_replaces_everything_and_search_still_works(backend: SearchBackend) -> None:
    backend.index(CORPUS)
    assert backend.rebuild([*CORPUS[1:], doc(8, "Delega per il pignoramento", version=4)]) == 4
    assert backend.versions() == {2: 1, 3: 1, 4: 1, 8: 4}
    assert ids(backend.search("pignoramenti", entes=["R01"])) == [3, 8]
    if isinstance(backend, ElasticBackend):
        indices = backend.client.indices
        assert list(indices.get_alias(name=backend.alias).body) == [f"{backend.alias}-v2"]
        assert not indices.exists(index=f"{backend.alias}-v1")
        backend.rebuild(CORPUS[:1])
        assert list(indices.get_alias(name=backend.alias).body) == [f"{backend.alias}-v3"]
        assert ids(backend.search("pignoramento", entes=["R01"])) == [1]
    backend.index([doc(9, "Pignoramento dopo la ricostruzione")])
    assert 9 in ids(backend.search("pignoramento", entes=["R01"]))


def test_pages_split_the_hits_and_keep_the_total(backend: SearchBackend) -> None:
    backend.index([doc(i, f"Sollecito di pagamento numero {i}") for i in range(1, 26)])
    pages = [backend.search("solleciti", entes=["R01"], limit=10, offset=offset) for offset in (0, 10, 20)]
    assert [p.total for p in pages] == [25, 25, 25]
    assert [len(p.hits) for p in pages] == [10, 10, 5]
    seen = [hit.document for p in pages for hit in p.hits]
    assert sorted(seen) == list(range(1, 26))
    past = backend.search("solleciti", entes=["R01"], limit=10, offset=30)
    assert past.total == 25 and past.hits == []
    with pytest.raises(ValueError):
        backend.search("solleciti", entes=["R01"], limit=0)


def test_ensure_ready_is_idempotent(backend: SearchBackend) -> None:
    backend.index(CORPUS[:1])
    backend.ensure_ready()
    assert backend.versions() == {1: 1}


# --- the embedded backend's own contract with the app ---------------------------------------------------


def test_schema_statements_build_the_table_the_backend_uses(search_pg_engine: sa.Engine, tmp_path) -> None:
    """What the app's migration executes is what ensure_ready would create; owned_tables names all of it."""
    sqlite = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    for engine in (search_pg_engine, sqlite):
        dialect = engine.dialect.name
        with engine.begin() as conn:
            for statement in schema_statements(dialect, "search_migrated"):
                conn.exec_driver_sql(statement)
            assert owned_tables(dialect, "search_migrated") <= set(sa.inspect(conn).get_table_names())
        backend = SqlBackend(engine, table="search_migrated")
        backend.ensure_ready()  # finds it, creates nothing
        backend.index(CORPUS)
        assert ids(backend.search("pignoramenti", entes=["R01"])) == [1, 3]
        with engine.begin() as conn:
            for statement in drop_statements(dialect, "search_migrated"):
                conn.exec_driver_sql(statement)
            assert not owned_tables(dialect, "search_migrated") & set(sa.inspect(conn).get_table_names())
    sqlite.dispose()


def test_a_connection_writes_inside_the_callers_transaction(search_pg_engine: sa.Engine) -> None:
    """Given a Connection (the app's test isolation), the backend uses savepoints and never commits."""
    table = f"search_t{uuid.uuid4().hex[:12]}"
    SqlBackend(search_pg_engine, table=table).ensure_ready()
    try:
        with search_pg_engine.connect() as conn:
            outer = conn.begin()
            inside = SqlBackend(conn, table=table)
            inside.index(CORPUS)
            assert inside.search("pignoramento", entes=["R01"]).total == 2
            outer.rollback()
        assert SqlBackend(search_pg_engine, table=table).versions() == {}
    finally:
        with search_pg_engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {table}")


def test_backend_from_settings_picks_elasticsearch_only_with_a_url(search_osmem_url: str, tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(backend_from_settings(None, engine), SqlBackend)
    assert isinstance(backend_from_settings("", engine), SqlBackend)
    es = backend_from_settings(search_osmem_url, engine, index="test-settings", compat=True)
    assert isinstance(es, ElasticBackend) and es.alias == "test-settings"
    es.ensure_ready()
    es.client.indices.delete(index="test-settings-v*")
    engine.dispose()


def test_elastic_first_write_creates_the_versioned_index_behind_the_alias(search_osmem_url: str) -> None:
    """Writing to a missing alias would make Elasticsearch auto-create a plain index under the alias' name."""
    alias = f"test-search-{uuid.uuid4().hex[:12]}"
    backend = ElasticBackend(search_osmem_url, index=alias, compat_plain_json=True)
    try:
        assert backend.index(CORPUS[:1]) == 1
        assert list(backend.client.indices.get_alias(name=alias).body) == [f"{alias}-v1"]
        assert ids(backend.search("pignoramento", entes=["R01"])) == [1]
    finally:
        backend.client.indices.delete(index=f"{alias}*", ignore_unavailable=True)


def test_elastic_refuses_a_plain_index_named_like_the_alias(search_osmem_url: str) -> None:
    alias = f"test-search-{uuid.uuid4().hex[:12]}"
    backend = ElasticBackend(search_osmem_url, index=alias, compat_plain_json=True)
    backend.client.indices.create(index=alias)
    try:
        with pytest.raises(RuntimeError, match="not the alias"):
            backend.ensure_ready()
    finally:
        backend.client.indices.delete(index=alias)
