"""The acts' screens (admin and other roles): lists, act page and PDF, campaign new → preview → approve,
templates: new version from the editor, compile error shown with the line, live preview.

No `session` fixture here: its request context would be shared by every client's request (and with it the
logged-in user); the database is read in app contexts of its own."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from app.atti.models import ActTemplate, ActType, Campaign
from app.atti.services import act_type_by_code, issue_act
from app.core.audit import Actor
from app.demo.seed import MARIO_ROSSI_CF
from app.extensions import db
from app.positions.amounts import today_rome
from tests.atti.conftest import open_position
from tests.conftest import csrf_token


def _issue(app, store) -> tuple[int, str]:
    with app.app_context():
        position = open_position(db.session, MARIO_ROSSI_CF)
        act = issue_act(
            db.session,
            position,
            act_type_by_code(db.session, "ingiunzione"),
            today_rome(),
            Actor.system("test"),
            file_store=str(store),
        ).act
        db.session.commit()
        return act.id, act.protocol


def _read(app, fn: Any) -> Any:
    with app.app_context():
        return fn(db.session)


def test_the_acts_list_and_an_acts_page_with_its_pdf(app, store, personas) -> None:
    act_id, protocol = _issue(app, store)
    for username in ("admin", "backoffice", "regione", "callcenter"):
        client = personas.client(username)
        page = client.get("/atti/")
        assert page.status_code == 200 and protocol in page.get_data(as_text=True), username
        detail = client.get(f"/atti/{act_id}")
        assert detail.status_code == 200 and MARIO_ROSSI_CF in detail.get_data(as_text=True)
        pdf = client.get(f"/atti/{act_id}/pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert personas.client("contribuente").get("/atti/").status_code == 403
    assert personas.client("regione2").get(f"/atti/{act_id}").status_code == 404  # another ente's act


def test_campaign_screens_new_preview_sample_approve(app, store, personas) -> None:
    client = personas.client("admin")
    assert client.get("/atti/campagne").status_code == 200
    form = client.get("/atti/campagne/nuova")
    assert form.status_code == 200
    ente = re.search(r'<option value="(\d+)"[^>]*>R01 –', form.get_data(as_text=True)).group(1)
    response = client.post(
        "/atti/campagne/nuova",
        data={
            "csrf_token": csrf_token(client, "/atti/campagne/nuova"),
            "name": "Solleciti di prova",
            "ente_id": ente,
            "act_type": "sollecito",
            "issue_date": today_rome().isoformat(),
            "entrata_id": "0",
            "states": ["notificata", "scaduta", "caricata", "parzialmente_pagata"],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    campaign_id = _read(app, lambda s: s.scalar(sa.select(sa.func.max(Campaign.id))))
    detail = client.get(response.headers["Location"])
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "Solleciti di prova" in text and 'data-testid="approve"' in text
    sample = client.get(f"/atti/campagne/{campaign_id}/esempio/1.pdf")
    assert sample.status_code == 200 and sample.data.startswith(b"%PDF")
    approve = client.post(
        f"/atti/campagne/{campaign_id}/approva",
        data={"csrf_token": csrf_token(client, f"/atti/campagne/{campaign_id}")},
    )
    assert approve.status_code == 302
    assert _read(app, lambda s: s.get(Campaign, campaign_id).status) == "in_corso"
    progress = client.get(f"/atti/campagne/{campaign_id}", headers={"HX-Request": "true"})
    assert 'data-testid="campaign-progress"' in progress.get_data(as_text=True)
    regione = personas.client("regione").get(f"/atti/campagne/{campaign_id}")
    assert regione.status_code == 200 and 'data-testid="stop"' not in regione.get_data(as_text=True)
    assert personas.client("regione").get("/atti/campagne/nuova").status_code == 403


def test_the_template_editor_saves_a_new_version_and_refuses_a_compile_error(app, personas) -> None:
    client = personas.client("admin")
    assert client.get("/atti/modelli").status_code == 200

    def first(s: Any) -> tuple[int, int, str, int]:
        act_type = s.scalars(sa.select(ActType).where(ActType.code == "sollecito")).one()
        t = s.scalars(
            sa.select(ActTemplate).where(ActTemplate.act_type_id == act_type.id).order_by(ActTemplate.id)
        ).first()
        return t.id, t.ente_id, t.source, act_type.id

    template_id, ente_id, source, type_id = _read(app, first)

    def versions(s: Any) -> int:
        return s.scalar(
            sa.select(sa.func.count(ActTemplate.id)).where(
                ActTemplate.act_type_id == type_id, ActTemplate.ente_id == ente_id
            )
        )

    url = f"/atti/modelli/{template_id}"
    page = client.get(url)
    assert page.status_code == 200 and "intestazione()" in page.get_data(as_text=True)
    before = _read(app, versions)
    bad = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "source": "Testo\n\n#importi(\n",
            "valid_from": today_rome().isoformat(),
            "entrata_id": "0",
        },
    )
    assert bad.status_code == 200 and "riga 3" in bad.get_data(as_text=True)
    assert _read(app, versions) == before
    good = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "valid_from": today_rome().isoformat(),
            "source": source + "\nNuovo paragrafo.\n",
            "entrata_id": "0",
        },
    )
    assert good.status_code == 302
    assert _read(app, versions) == before + 1
    preview = client.post(
        "/atti/modelli/anteprima",
        data={"csrf_token": csrf_token(client, url), "source": source, "act_type": "sollecito"},
    )
    assert preview.status_code == 200 and "data:image/png;base64," in preview.get_data(as_text=True)
    broken = client.post(
        "/atti/modelli/anteprima",
        data={"csrf_token": csrf_token(client, url), "source": "#foo(", "act_type": "sollecito"},
    )
    assert "riga 1" in broken.get_data(as_text=True)
    assert personas.client("backoffice").get("/atti/modelli").status_code == 403
