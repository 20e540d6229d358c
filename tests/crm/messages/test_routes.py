"""The screens: the card's "Messaggi" section (list, channels and consents, send with preview), the messages
list with filters and exports, templates and rules (administration); roles checked on the server."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.crm.messages.models import Consent, Message, MessageRule, MessageTemplate
from tests.conftest import csrf_token


def _mario_id(app: Any) -> int:
    from app.demo.seed import MARIO_ROSSI_CF
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with app.app_context():
        stmt = sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)
        return db.session.scalars(stmt).one()


def _r01_id(app: Any) -> int:
    from app.enti.models import Ente
    from app.extensions import db

    with app.app_context():
        return db.session.scalars(sa.select(Ente.id).where(Ente.code == "R01")).one()


def test_the_card_has_the_messages_section(app, personas) -> None:
    client = personas.client("sportello")
    html = client.get(f"/contribuenti/{_mario_id(app)}").get_data(as_text=True)
    assert 'id="messaggi"' in html and f'/messaggi/contribuenti/{_mario_id(app)}"' in html


def test_a_send_without_consent_says_why_and_a_consent_then_lets_it_go(app, personas, default_queue) -> None:
    client = personas.client("sportello")
    taxpayer_id = _mario_id(app)
    panel = client.get(f"/messaggi/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert "Canali e consensi" in panel and "Invia messaggio" in panel
    assert "Il contribuente non ha dato il consenso agli SMS" in panel
    token = csrf_token(client, f"/contribuenti/{taxpayer_id}")
    form = {
        "csrf_token": token,
        "ente": str(_r01_id(app)),
        "canale": "pec",
        "finalita": "risposta_richiesta",
        "posizione": "",
        "testo_risposta": "La sua istanza è stata accolta.",
    }
    preview = client.post(f"/messaggi/contribuenti/{taxpayer_id}/anteprima", data=form).get_data(as_text=True)
    assert "Anteprima via PEC" in preview and "La sua istanza è stata accolta." in preview
    refused = client.post(f"/messaggi/contribuenti/{taxpayer_id}/invia", data={**form, "canale": "sms"})
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "Messaggio non inviato: Il contribuente non ha dato il consenso agli SMS." in text
    assert default_queue.count == 0
    consent = client.post(
        f"/messaggi/contribuenti/{taxpayer_id}/consensi",
        data={"csrf_token": token, "canale": "pec", "consenso": "si", "fonte": "sportello", "preferito": "y"},
    )
    assert consent.status_code == 200 and "preferito" in consent.get_data(as_text=True)
    sent = client.post(f"/messaggi/contribuenti/{taxpayer_id}/invia", data={**form, "canale": ""})
    assert "invio via PEC a mario.rossi@pec.esempio.it" in sent.get_data(as_text=True)
    assert default_queue.count == 1
    card = client.get(f"/contribuenti/{taxpayer_id}").get_data(as_text=True)  # the timeline
    assert "Messaggio in coda" in card and "Messaggio non inviato" in card and "Consenso variato" in card
    with app.app_context():
        from app.extensions import db

        statuses = db.session.scalars(
            sa.select(Message.status).where(Message.taxpayer_id == taxpayer_id).order_by(Message.id)
        ).all()
        assert statuses[-2:] == ["rifiutato", "in_coda"]
        stmt = sa.select(Consent).where(Consent.taxpayer_id == taxpayer_id)
        assert db.session.scalars(stmt).one().preferred


def test_roles_are_checked_on_the_server(app, personas) -> None:
    taxpayer_id = _mario_id(app)
    regione = personas.client("regione")
    panel = regione.get(f"/messaggi/contribuenti/{taxpayer_id}").get_data(as_text=True)
    assert "Canali e consensi" in panel and "message-send-form" not in panel and "consent-form" not in panel
    token = csrf_token(regione, f"/contribuenti/{taxpayer_id}")
    response = regione.post(f"/messaggi/contribuenti/{taxpayer_id}/invia", data={"csrf_token": token})
    assert response.status_code == 403
    callcenter = personas.client("callcenter")
    token = csrf_token(callcenter, f"/contribuenti/{taxpayer_id}")
    assert (
        callcenter.post(
            f"/messaggi/contribuenti/{taxpayer_id}/consensi", data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert callcenter.get("/messaggi/modelli").status_code == 403
    assert personas.client("contribuente").get(f"/messaggi/contribuenti/{taxpayer_id}").status_code == 403


def test_the_list_filters_and_exports(app, personas) -> None:
    from app.crm.messages.services import queue_message
    from app.demo.seed import MARIO_ROSSI_CF as CF
    from app.enti.models import Ente
    from app.extensions import db
    from app.taxpayers.models import Taxpayer
    from tests.crm.messages.conftest import ACTOR

    with app.test_request_context():  # no context stays pushed while the clients run (Flask-Login's g)
        mario = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == CF)).one()
        r01 = db.session.scalars(sa.select(Ente).where(Ente.code == "R01")).one()
        queue_message(
            db.session,
            taxpayer=mario,
            ente=r01,
            purpose="risposta_richiesta",
            channel="sms",
            context={"richiesta": {"risposta": "Accolta."}},
            actor=ACTOR,
        )
        db.session.commit()
    client = personas.client("regione")
    html = client.get("/messaggi/?stato=rifiutato&canale=sms&q=" + CF).get_data(as_text=True)
    assert "Il contribuente non ha dato il consenso agli SMS" in html
    other = client.get("/messaggi/?stato=inviato&canale=sms&q=" + CF).get_data(as_text=True)
    assert "consenso agli SMS" not in other
    assert client.get("/messaggi/?stato=nonesiste").status_code == 400
    csv = client.get("/messaggi/esporta.csv?stato=rifiutato").get_data(as_text=True)
    assert CF in csv and "rifiutato" in csv
    other_ente = personas.client("regione2").get("/messaggi/?q=" + CF).get_data(as_text=True)
    assert "consenso agli SMS" not in other_ente


def test_templates_get_a_new_version_with_a_preview_on_the_sample(app, personas) -> None:
    client = personas.client("admin")
    token = csrf_token(client, "/messaggi/modelli")
    assert client.post("/messaggi/modelli/predefiniti", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        from app.extensions import db

        template = db.session.scalars(
            sa.select(MessageTemplate).where(
                MessageTemplate.ente_id == _r01_id(app),
                MessageTemplate.purpose == "promemoria_rata",
                MessageTemplate.channel == "email",
                MessageTemplate.valid_to.is_(None),
            )
        ).one()
        template_id, version = template.id, template.version
    page = client.get(f"/messaggi/modelli/{template_id}")
    assert page.status_code == 200 and "{{ posizione.numero_avviso }}" in page.get_data(as_text=True)
    preview = client.post(
        "/messaggi/modelli/anteprima",
        data={
            "csrf_token": token,
            "oggetto": "Scadenza {{ posizione.scadenza }}",
            "testo": "Gentile {{ contribuente.nome }}, dovuto {{ importo_dovuto }}.",
        },
    ).get_data(as_text=True)
    assert "Scadenza 31/12/2026" in preview and "Gentile Mario Rossi, dovuto 1.234,56 €." in preview
    bad = client.post(
        f"/messaggi/modelli/{template_id}",
        data={
            "csrf_token": token,
            "oggetto": "x",
            "testo": "{{ contribuente.nome ",
            "valido_dal": "2030-01-01",
        },
    )
    assert bad.status_code == 422 and "Testo, riga 1" in bad.get_data(as_text=True)
    good = client.post(
        f"/messaggi/modelli/{template_id}",
        data={
            "csrf_token": token,
            "oggetto": "Promemoria",
            "testo": "Gentile {{ contribuente.nome }}.",
            "valido_dal": "2030-01-01",
        },
    )
    assert good.status_code == 302
    with app.app_context():
        from app.extensions import db

        rows = db.session.scalars(
            sa.select(MessageTemplate)
            .where(
                MessageTemplate.ente_id == _r01_id(app),
                MessageTemplate.purpose == "promemoria_rata",
                MessageTemplate.channel == "email",
            )
            .order_by(MessageTemplate.version)
        ).all()
        assert [r.version for r in rows][-2:] == [version, version + 1]
        assert str(rows[-2].valid_to) == "2030-01-01" and rows[-1].valid_to is None


def test_rules_are_added_and_switched_off(app, personas) -> None:
    client = personas.client("admin")
    token = csrf_token(client, "/messaggi/modelli")
    response = client.post(
        "/messaggi/regole",
        data={
            "csrf_token": token,
            "ente": str(_r01_id(app)),
            "entrata": "",
            "finalita": "promemoria_rata",
            "canali": "email,sms",
            "giorni": "7",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        from app.extensions import db

        rule = db.session.scalars(sa.select(MessageRule).order_by(MessageRule.id.desc())).first()
        assert (rule.channels, rule.days_before, rule.active) == (["email", "sms"], 7, True)
        rule_id = rule.id
    assert client.post(f"/messaggi/regole/{rule_id}/stato", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        from app.extensions import db

        assert db.session.get(MessageRule, rule_id).active is False
    bad = client.post(
        "/messaggi/regole",
        data={
            "csrf_token": token,
            "ente": str(_r01_id(app)),
            "entrata": "",
            "finalita": "promemoria_rata",
            "canali": "fax",
            "giorni": "7",
        },
    )
    assert "Indicare almeno un canale valido." in bad.get_data(as_text=True)
