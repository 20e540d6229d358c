"""User administration on screen: create (temporary password shown once), edit role and enti, disable
(sessions end), reset the second factor; an administrator reaches only the users of their own enti; every
change is an event."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.core.audit import Event
from tests.conftest import csrf_token, user_by_name


def _ente_id(code: str) -> int:
    from app.enti.models import Ente
    from app.extensions import db

    return db.session.scalars(sa.select(Ente.id).where(Ente.code == code)).one()


def _create(client, app, username: str, role: str = "sportello", enti: tuple[str, ...] = ("R01",)):
    token = csrf_token(client, "/amministrazione/utenti/nuovo")
    with app.app_context():
        ente_ids = [str(_ente_id(code)) for code in enti]
    return client.post(
        "/amministrazione/utenti/nuovo",
        data={"csrf_token": token, "username": username, "display_name": "Nuova Operatrice",
              "email": "nuova@example.it", "role": role, "ente_ids": ente_ids},
    )


def test_admin_creates_a_user_who_can_log_in_with_the_temporary_password(app, personas):
    admin = personas.client("admin")
    response = _create(admin, app, "nuova.sportello")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    password = re.search(r'data-testid="temporary-password"[^>]*>([^<]+)<', html).group(1).strip()
    with app.app_context():
        user = user_by_name("nuova.sportello")
        assert (user.role, [e.code for e in user.enti], user.totp_enrolled) == ("sportello", ["R01"], False)
        from app.auth.services import password_matches
        from app.extensions import db

        assert password_matches(user.password_hash, password)
        kinds = db.session.scalars(sa.select(Event.kind).where(Event.kind.like("user.%"))).all()
        assert kinds == ["user.created"]
    listing = admin.get("/amministrazione/utenti/?testo=nuova").get_data(as_text=True)
    assert "nuova.sportello" in listing and "1 utente" in listing


def test_a_taken_username_and_an_ente_outside_the_admins_are_refused_in_italian(app, personas):
    admin = personas.client("admin")
    html = _create(admin, app, "sportello").get_data(as_text=True)
    assert "Nome utente già in uso: sportello." in html
    # a regione user is no admin: the page is not theirs
    assert personas.client("regione").get("/amministrazione/utenti/").status_code == 403


def test_edit_disable_and_reset_second_factor_are_events_and_end_sessions(app, personas):
    admin = personas.client("admin")
    with app.app_context():
        target = user_by_name("callcenter")
        target_id, generation = target.id, target.session_generation
    page = f"/amministrazione/utenti/{target_id}"
    token = csrf_token(admin, page)
    with app.app_context():
        r01, r02 = _ente_id("R01"), _ente_id("R02")
    response = admin.post(page, data={"csrf_token": token, "display_name": "Carla Call Center",
                                      "email": "", "role": "backoffice", "ente_ids": [str(r01)]})
    assert response.status_code == 302
    assert admin.post(f"{page}/disattiva", data={"csrf_token": token}).status_code == 302
    assert admin.post(f"{page}/azzera-secondo-fattore", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        from app.extensions import db

        user = db.session.get(type(target), target_id)
        assert (user.role, [e.code for e in user.enti], user.active) == ("backoffice", ["R01"], False)
        assert (user.totp_secret, user.totp_enrolled) == (None, False)
        assert user.session_generation > generation
        kinds = db.session.scalars(
            sa.select(Event.kind).where(Event.kind.like("user.%")).order_by(Event.id)
        ).all()
        assert kinds == ["user.updated", "user.disabled", "user.totp_reset"]
    detail = admin.get(page).get_data(as_text=True)
    assert "Utente disattivato" in detail and "Secondo fattore azzerato" in detail
    assert str(r02)  # R02 stays assignable to others


def test_an_admin_cannot_disable_themself(app, personas):
    admin = personas.client("admin")
    with app.app_context():
        admin_id = user_by_name("admin").id
    page = f"/amministrazione/utenti/{admin_id}"
    token = csrf_token(admin, page)
    response = admin.post(f"{page}/disattiva", data={"csrf_token": token}, follow_redirects=True)
    assert "Non puoi disattivare il tuo stesso utente." in response.get_data(as_text=True)
    with app.app_context():
        assert user_by_name("admin").active


def test_an_admin_of_one_ente_reaches_only_the_users_of_that_ente(app, personas):
    admin = personas.client("admin")
    _create(admin, app, "admin.r02", role="admin", enti=("R02",))
    _create(admin, app, "sportello.r01", role="sportello", enti=("R01",))
    with app.app_context():
        from app.extensions import db

        user = user_by_name("admin.r02")
        user.totp_enrolled = True
        db.session.commit()
        r01_user = user_by_name("sportello.r01").id
        both = user_by_name("backoffice").id  # R01 and R02: not entirely theirs
    r02_admin = personas.client("admin.r02")
    listing = r02_admin.get("/amministrazione/utenti/").get_data(as_text=True)
    assert "admin.r02" in listing and "sportello.r01" not in listing and ">backoffice<" not in listing
    assert r02_admin.get(f"/amministrazione/utenti/{r01_user}").status_code == 404
    assert r02_admin.get(f"/amministrazione/utenti/{both}").status_code == 404
