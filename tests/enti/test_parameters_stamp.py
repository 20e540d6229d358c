"""enti.queries.parameters_stamp (the key of the engine-input caches, read on every card): a version of any
parameter table changes it, a version of another table does not; each table's max is read on its own so that
PostgreSQL uses ix_row_versions_table_id instead of walking the primary key over every later version."""

from __future__ import annotations

import pytest

from app.core.history import RowVersion
from app.enti.queries import parameters_stamp


def _version(session, table: str) -> None:
    session.add(RowVersion(table_name=table, row_id=1, operation="update", before={}, changed=["x"]))
    session.flush()


@pytest.mark.parametrize("table", ["parameters", "rate_periods", "rate_tables"])
def test_a_parameter_version_changes_the_stamp(session, table: str) -> None:
    before = parameters_stamp(session)
    _version(session, "taxpayers")  # later versions of other tables do not count
    assert parameters_stamp(session) == before
    _version(session, table)
    after = parameters_stamp(session)
    assert after != before and after[:4] == before[:4]
    _version(session, "taxpayers")
    assert parameters_stamp(session) == after
