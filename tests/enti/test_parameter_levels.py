"""`parameter_rows` reads the national rows plus the asked ente's and entrata's own, never another ente's:
with no entrata asked, `entrata_id == None` would have rendered IS NULL and matched every ente's own rows."""

from __future__ import annotations

import datetime as dt

from app.enti.models import Parameter
from app.enti.queries import get_ente_by_code, parameter_rows


def test_an_ente_reads_its_own_rows_and_the_national_ones_never_another_entes(session) -> None:
    r01, r02 = get_ente_by_code(session, "R01"), get_ente_by_code(session, "R02")
    for ente, value in ((r01, "uno"), (r02, "due")):
        session.add(
            Parameter(
                code="prova_livelli",
                ente_id=ente.id,
                valid_from=dt.date(2026, 1, 1),
                value=value,
                source="Delibera di prova",
            )
        )
    session.flush()
    mine = [r for r in parameter_rows(session, ente_id=r01.id) if r["code"] == "prova_livelli"]
    assert [r["value"] for r in mine] == ["uno"]
    national = parameter_rows(session)
    assert national and all(r["ente_id"] is None and r["entrata_id"] is None for r in national)
