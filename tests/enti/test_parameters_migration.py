"""The migration that turns the seeded research notes into legal citations, on a database seeded before it."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from tests.conftest import _create_database, _drop_database, build_app

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "migrations")
REVISION = "7c3d9a51f2b8"
OLD_LEGALE_2022 = "DM MEF 13/12/2021, GU n. 297 del 15/12/2021; buildnews.it, ntpluslavoro (domain.md §1)"
OLD_TASSA_AUTO = (
    "DL 953/1982 art. 5 c. 51 come sostituito dall'art. 3 DL 2/1986: prescrizione con il decorso del "
    "terzo anno successivo a quello del pagamento; dopo un atto interruttivo tre anni dalla notifica "
    "(art. 2945 c.c.); asaps.it, bellunopress.it (domain.md §5); valid_from convenzionale"
)
EDITED = "D.P.R. 602/1973 art. 77 c. 1-bis (testo vigente)"


def _rows(conn: Any) -> dict[str, tuple]:
    rate = conn.execute(sa.text("SELECT * FROM rate_periods")).mappings().one()
    params = conn.execute(sa.text("SELECT * FROM parameters ORDER BY code")).mappings().all()
    return {"legale": dict(rate), **{p["code"]: dict(p) for p in params}}


def test_seeded_sources_become_citations_and_back(pg_server: str, redis_settings: dict) -> None:
    import flask_migrate

    url = _create_database(pg_server, "esattoria_params_migration")
    app = build_app(url, **redis_settings)
    engine = sa.create_engine(url)
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=MIGRATIONS, revision=f"{REVISION}-1")
        with engine.begin() as conn:
            table_id = conn.execute(
                sa.text(
                    "INSERT INTO rate_tables (code, name, kind) "
                    "VALUES ('legale', 'Tasso legale', 'legale') RETURNING id"
                )
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO rate_periods (rate_table_id, valid_from, valid_to, rate, source, confirmed) "
                    "VALUES (:t, '2022-01-01', '2022-12-31', 1.25, :s, true)"
                ),
                {"t": table_id, "s": OLD_LEGALE_2022},
            )
            for code, valid_from, source in (
                ("prescription_tassa_auto", "1983-01-01", OLD_TASSA_AUTO),
                ("ipoteca_min", "2011-07-13", EDITED),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO parameters (code, valid_from, value, source, confirmed) "
                        "VALUES (:c, :f, '{}', :s, true)"
                    ),
                    {"c": code, "f": valid_from, "s": source},
                )
        with app.app_context():
            flask_migrate.upgrade(directory=MIGRATIONS, revision=REVISION)
        with engine.connect() as conn:
            rows = _rows(conn)
        assert (rows["legale"]["source"], rows["legale"]["note"]) == (
            "D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)",
            OLD_LEGALE_2022,
        )
        assert rows["prescription_tassa_auto"]["source"].startswith("D.L. 953/1982 art. 5 c. 51")
        assert rows["prescription_tassa_auto"]["note"] == OLD_TASSA_AUTO
        assert (rows["ipoteca_min"]["source"], rows["ipoteca_min"]["note"]) == (
            EDITED,
            None,
        )  # an admin's text
        assert {r["verified"] for r in rows.values()} == {False}
        with app.app_context():
            flask_migrate.downgrade(directory=MIGRATIONS, revision=f"{REVISION}-1")
        with engine.connect() as conn:
            rows = _rows(conn)
        assert [rows[k]["source"] for k in ("legale", "prescription_tassa_auto", "ipoteca_min")] == [
            OLD_LEGALE_2022,
            OLD_TASSA_AUTO,
            EDITED,
        ]
        assert "note" not in rows["legale"] and rows["legale"]["confirmed"] is True
    finally:
        engine.dispose()
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
        _drop_database(url)
