"""The audit trail and the card access log, read-only: who read which card and when, within the reader's enti
(a Regione user sees its own ente's only), filtered, paginated and exported."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from app.demo.seed import MARIO_ROSSI_CF


def _taxpayer_id(app, cf: str) -> int:
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        return db.session.scalars(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf)).one()


def _r02_only_cf(app) -> str:
    """A taxpayer with positions of R02 only."""
    from app.enti.models import Ente
    from app.extensions import db
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        r01 = sa.select(Position.taxpayer_id).join(Ente).where(Ente.code == "R01")
        stmt = (
            sa.select(Taxpayer.codice_fiscale)
            .join(Position, Position.taxpayer_id == Taxpayer.id)
            .join(Ente, Ente.id == Position.ente_id)
            .where(Ente.code == "R02", Taxpayer.id.not_in(r01))
            .limit(1)
        )
        return db.session.scalars(stmt).one()


def test_a_card_read_appears_in_the_access_log_with_who_and_which_taxpayer(app, personas):
    taxpayer_id = _taxpayer_id(app, MARIO_ROSSI_CF)
    assert personas.client("sportello").get(f"/contribuenti/{taxpayer_id}").status_code == 200
    regione = personas.client("regione")
    html = regione.get(f"/registro/accessi?cf={MARIO_ROSSI_CF}&utente=sportello").get_data(as_text=True)
    assert "1 accesso" in html and "Scheda contribuente" in html and MARIO_ROSSI_CF in html
    export = regione.get(f"/registro/accessi/export.csv?cf={MARIO_ROSSI_CF}&utente=sportello")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True)), delimiter=";"))
    assert len(rows) == 2 and rows[1][1] == "sportello" and rows[1][3] == MARIO_ROSSI_CF


def test_a_regione_user_never_sees_reads_of_another_entes_taxpayers(app, personas):
    cf = _r02_only_cf(app)
    taxpayer_id = _taxpayer_id(app, cf)
    assert personas.client("sportello").get(f"/contribuenti/{taxpayer_id}").status_code == 200
    seen_by_r02 = personas.client("regione2").get(f"/registro/accessi?cf={cf}").get_data(as_text=True)
    seen_by_r01 = personas.client("regione").get(f"/registro/accessi?cf={cf}").get_data(as_text=True)
    assert "1 accesso" in seen_by_r02
    assert "0 accessi" in seen_by_r01 and 'data-testid="accesses"' not in seen_by_r01


def test_the_event_register_filters_by_kind_and_pages_keep_the_filters(app, personas):
    admin = personas.client("admin")
    html = admin.get("/registro/eventi?tipo=position.loaded").get_data(as_text=True)
    assert "Posizione caricata" in html
    total = int(html.split('data-testid="events-total">')[1].split(" ")[0].replace(".", ""))
    assert total > 50  # the seed loads more positions than a page holds
    assert 'href="/registro/eventi?pagina=2&amp;tipo=position.loaded"' in html
    second = admin.get("/registro/eventi?pagina=2&tipo=position.loaded").get_data(as_text=True)
    assert 'aria-current="page"><span class="visually-hidden">Pagina </span>2<' in second
    table = second.split('data-testid="events"')[1]
    assert "<td>Posizione caricata</td>" in table and "<td>Anagrafica aggiornata</td>" not in table


def test_the_registers_are_for_admin_and_regione_only(personas):
    for persona in ("sportello", "callcenter", "backoffice", "contribuente"):
        assert personas.client(persona).get("/registro/eventi").status_code == 403
        assert personas.client(persona).get("/registro/accessi").status_code == 403
    assert personas.client(None).get("/registro/eventi").status_code in (302, 401)


def test_a_bad_date_is_shown_on_the_form_and_a_bad_kind_is_a_400(personas):
    regione = personas.client("regione")
    assert regione.get("/registro/eventi?dal=2026-13-45").status_code == 200
    response = regione.get("/registro/eventi?tipo=nonesiste")
    assert response.status_code == 400 and "Tipo di evento" in response.get_data(as_text=True)
