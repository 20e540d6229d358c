"""The export of a taxpayer search: only roles with the export permission, and only the taxpayers of the
user's enti (the same scoping helper as the list on screen)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


def _only_in(session, ente_code: str):
    """A taxpayer with positions in `ente_code` and in no other ente."""
    from app.enti.models import Ente
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    other = (
        sa.select(Position.taxpayer_id).join(Ente, Ente.id == Position.ente_id).where(Ente.code != ente_code)
    )
    return session.scalars(
        sa.select(Taxpayer)
        .join(Position, Position.taxpayer_id == Taxpayer.id)
        .join(Ente, Ente.id == Position.ente_id)
        .where(Ente.code == ente_code, Taxpayer.id.not_in(other))
        .order_by(Taxpayer.id)
    ).first()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("backoffice", 200),
        ("sportello", 200),
        ("regione", 200),
        ("callcenter", 403),
        ("contribuente", 403),
    ],
)
def test_only_roles_with_the_export_permission_export_a_search(app, personas, persona, status) -> None:
    from app.extensions import db

    with app.app_context():
        name = _only_in(db.session, "R01").search_name[:3]
    response = personas.client(persona).get(f"/contribuenti/esporta.csv?q={name}")
    assert response.status_code == status
    response.close()  # a streamed export keeps its request context until closed
    anonymous = personas.client(None).get(f"/contribuenti/esporta.csv?q={name}")
    assert anonymous.status_code in (302, 401) and "csv" not in anonymous.mimetype


def test_a_search_export_holds_only_the_taxpayers_of_the_users_enti(app, personas) -> None:
    from app.extensions import db

    with app.app_context():
        r01, r02 = _only_in(db.session, "R01"), _only_in(db.session, "R02")
        assert r01 is not None and r02 is not None
        r01_cf, r01_name = r01.codice_fiscale, r01.search_name[:3]
        r02_cf, r02_name = r02.codice_fiscale, r02.search_name[:3]

    def export(persona: str, q: str) -> str:
        response = personas.client(persona).get("/contribuenti/esporta.csv", query_string={"q": q})
        assert response.status_code == 200 and response.mimetype == "text/csv"
        text = response.get_data().decode("utf-8-sig")
        response.close()
        return text

    assert r01_cf in export("regione", r01_name) and r01_cf not in export("regione2", r01_name)
    assert r02_cf in export("regione2", r02_name) and r02_cf not in export("regione", r02_name)
    assert r01_cf in export("regione", r01_cf) and r01_cf not in export("regione2", r01_cf)  # by code too
    assert r01_cf in export("backoffice", r01_name) and r02_cf in export("backoffice", r02_name)
