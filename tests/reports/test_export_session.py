"""An export whose rows come from a server-side cursor is complete even though the database session that read
them closes as soon as the view returns (Flask tears the request's session down before a streamed body is
read: a body that read the database lazily broke after its first `yield_per` batch on PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.reports.exports import Column, ExportSpec, export_response

SPEC = ExportSpec("Numeri", [Column("n", "N", "int")], "numeri")


def test_rows_of_a_server_side_cursor_are_all_exported_after_the_session_closes(app, database_url) -> None:
    engine = sa.create_engine(database_url)
    try:
        with app.test_request_context("/"):
            session = Session(engine)
            stmt = sa.select(sa.func.generate_series(1, 5000).label("n"))
            rows = session.execute(stmt.execution_options(yield_per=100)).mappings()
            response = export_response(rows, SPEC, "csv")
            session.close()  # what the teardown of the request does before the body is sent
        lines = b"".join(response.response).decode("utf-8-sig").split("\r\n")
        assert lines[1] == "1" and lines[5000] == "5000"
    finally:
        engine.dispose()
