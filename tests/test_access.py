"""Access matrix (endpoint x persona -> status) and per-ente isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF, SECOND_ENTE_CF

STAFF = ["admin", "backoffice", "sportello", "callcenter", "regione", "regione2"]
PERSONAS = [None, *STAFF, "contribuente"]


def taxpayer_id(cf: str) -> int:
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    return db.session.scalars(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf)).one()


def expect(default: int, **by_persona: int) -> dict[str | None, int]:
    table: dict[str | None, int] = {p: default for p in PERSONAS}
    table[None] = 302
    table.update({("anonymous" if k == "anonymous" else k): v for k, v in by_persona.items()})
    if "anonymous" in table:
        table[None] = table.pop("anonymous")
    return table


MATRIX = [
    ("/", expect(200, contribuente=302)),
    ("/contribuenti/?q=" + MARIO_ROSSI_CF, expect(200, contribuente=403)),
    ("/contribuenti/{mario}", expect(200, regione2=404, contribuente=403)),
    ("/contribuenti/{verdi}", expect(200, regione=404, contribuente=403)),
    ("/contribuenti/{mario}/posizioni.csv", expect(200, callcenter=403, regione2=404, contribuente=403)),
    ("/posizioni/", expect(200, contribuente=403)),
    ("/posizioni/esporta.csv", expect(200, callcenter=403, contribuente=403)),
    ("/amministrazione/parametri", expect(403, admin=200)),
    ("/amministrazione/token-api", expect(403, admin=200)),
    ("/la-mia-posizione", expect(403, contribuente=301)),
    ("/self-service/", expect(403, contribuente=200)),
    ("/api/v1/positions?codice_fiscale=" + MARIO_ROSSI_CF, expect(401, anonymous=401)),
]


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p or "anonymous")
@pytest.mark.parametrize(("path", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
def test_access_matrix(app, personas, path: str, expected: dict, persona: str | None) -> None:
    with app.app_context():
        url = path.format(mario=taxpayer_id(MARIO_ROSSI_CF), verdi=taxpayer_id(SECOND_ENTE_CF))
    response = personas.client(persona).get(url)
    assert response.status_code == expected[persona], (persona, url)
    if response.status_code == 302 and persona is None:
        assert "/login" in response.headers["Location"]


def test_regione_of_one_ente_cannot_find_a_taxpayer_of_the_other_by_search(app, personas) -> None:
    page = personas.client("regione2").get(f"/contribuenti/?q={MARIO_ROSSI_CF}").get_data(as_text=True)
    assert "Nessun contribuente trovato" in page and "Rossi Mario" not in page
    own = personas.client("regione2").get(f"/contribuenti/?q={SECOND_ENTE_CF}").get_data(as_text=True)
    assert "Verdi Giuseppe" in own


def test_by_name_and_by_reference_search_are_scoped_too(app, personas) -> None:
    assert "Rossi Mario" not in personas.client("regione2").get("/contribuenti/?q=rossi mario").get_data(True)
    assert "Rossi Mario" in personas.client("regione").get("/contribuenti/?q=rossi mario").get_data(True)
    with app.app_context():
        from app.extensions import db
        from app.positions.models import Position

        external = db.session.scalars(
            sa.select(Position.external_id).where(Position.taxpayer_id == taxpayer_id(MARIO_ROSSI_CF))
        ).first()
    assert "Rossi Mario" not in personas.client("regione2").get(f"/contribuenti/?q={external}").get_data(True)
    assert "Rossi Mario" in personas.client("regione").get(f"/contribuenti/?q={external}").get_data(True)


def test_a_shared_taxpayer_shows_only_the_positions_of_the_users_ente(app, personas) -> None:
    from app.extensions import db
    from app.positions.models import Position
    from app.taxpayers.models import TaxpayerEnte

    with app.app_context():
        shared = db.session.scalars(
            sa.select(TaxpayerEnte.taxpayer_id)
            .group_by(TaxpayerEnte.taxpayer_id)
            .having(sa.func.count() == 2)
        ).first()
        assert shared is not None
        by_ente = dict(
            list(
                db.session.execute(
                    sa.select(Position.ente_id, sa.func.count())
                    .where(Position.taxpayer_id == shared)
                    .group_by(Position.ente_id)
                ).tuples()
            )
        )
    page_r1 = personas.client("regione").get(f"/contribuenti/{shared}").get_data(as_text=True)
    page_r2 = personas.client("regione2").get(f"/contribuenti/{shared}").get_data(as_text=True)
    assert "R01-" in page_r1 and "R02-" not in page_r1
    assert "R02-" in page_r2 and "R01-" not in page_r2
    assert len(by_ente) == 2


def test_position_detail_of_another_ente_is_404(app, personas) -> None:
    from app.extensions import db
    from app.positions.models import Position

    with app.app_context():
        position_id = db.session.scalars(
            sa.select(Position.id).where(Position.taxpayer_id == taxpayer_id(MARIO_ROSSI_CF))
        ).first()
    assert personas.client("regione2").get(f"/posizioni/{position_id}").status_code == 404
    assert personas.client("regione").get(f"/posizioni/{position_id}").status_code == 200


def test_every_card_read_is_logged(app, personas) -> None:
    from app.core.audit import AccessLog
    from app.extensions import db

    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
        before = db.session.scalar(
            sa.select(sa.func.count()).select_from(AccessLog).where(AccessLog.taxpayer_id == mario)
        )
    assert personas.client("sportello").get(f"/contribuenti/{mario}").status_code == 200
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AccessLog).where(AccessLog.taxpayer_id == mario).order_by(AccessLog.id.desc())
        ).all()
        assert len(rows) == before + 1
        assert rows[0].action == "card" and rows[0].user_id is not None
