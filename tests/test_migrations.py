"""Migrations: one head, and the migrated schema equals the models (no autogenerate diff)."""

from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")


def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(_config())
    assert len(script.get_heads()) == 1


def test_migration_files_are_dated() -> None:
    names = [n for n in os.listdir(os.path.join(MIGRATIONS, "versions")) if n.endswith(".py")]
    assert names and all(n[:8].isdigit() and n[8] == "_" for n in names), names


def test_upgraded_schema_has_no_diff_with_the_models(app, database_url) -> None:
    """`app` has run `upgrade` on the test database; autogenerate must find nothing left to do."""
    import sqlalchemy as sa

    from app.extensions import db

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _ours})
            diff = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert diff == []


def _ours(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """The search library's tables (search.embedded, created by the archive's migration) are not models."""
    from search.embedded import owned_tables

    owned = owned_tables("postgresql") | owned_tables("postgresql", "search_article")  # + knowledge base
    return not (type_ == "table" and reflected and compare_to is None and name in owned)


def _config() -> Config:
    cfg = Config(os.path.join(MIGRATIONS, "alembic.ini"))
    cfg.set_main_option("script_location", MIGRATIONS)
    return cfg
