"""The delivery screens: who sees them, the outcome upload (a bad file refused whole with line and field,
a good one applied), the navigation entry only for the roles that may use it."""

from __future__ import annotations

import io

import sqlalchemy as sa

from app.atti.delivery import services
from app.atti.delivery.models import ActOutcome
from app.core.db import utcnow
from app.positions.amounts import today_rome
from tests.atti.delivery.conftest import ACTOR, r01
from tests.conftest import csrf_token

PAGES = ("/atti/recapito/", "/atti/recapito/esiti", "/atti/recapito/lista-lavoro")


def test_only_admin_and_back_office_reach_the_delivery_screens(personas) -> None:
    for username in ("admin", "backoffice"):
        client = personas.client(username)
        for path in PAGES:
            assert client.get(path).status_code == 200, (username, path)
        assert 'href="/atti/recapito/"' in client.get("/atti/recapito/esiti").get_data(as_text=True)
    for username in ("regione", "contribuente"):
        client = personas.client(username)
        for path in PAGES:
            assert client.get(path).status_code == 403, (username, path)
    assert personas.client(None).get(PAGES[0]).status_code in (302, 401)


def test_outcome_upload_refuses_a_bad_file_and_applies_a_good_one(session, store, issue, personas) -> None:
    today = today_rome()
    acts = issue(2)
    services.create_print_batch(
        session, r01(session), acts, ACTOR, file_store=str(store), today=today, now=utcnow()
    )
    session.commit()
    client = personas.client("backoffice")
    path = "/atti/recapito/esiti"

    def upload(text: str) -> tuple[int, str]:
        data = {
            "ente_id": str(r01(session).id),
            "csrf_token": csrf_token(client, path),
            "file": (io.BytesIO(text.encode()), "esiti.csv"),
        }
        answer = client.post(path, data=data, content_type="multipart/form-data")
        return answer.status_code, answer.get_data(as_text=True)

    header = "id_atto;esito;data_esito;data_cad\n"
    status, html = upload(header + f"{acts[0].id};notificato;{today}\n{acts[1].id};notificato;2020-01-01\n")
    assert status == 422 and "riga 3, campo data_esito" in html and "nessun esito applicato" in html
    session.expire_all()
    assert {a.status for a in acts} == {"inviato"}
    status, html = upload(header + f"{acts[0].id};notificato;{today}\n{acts[1].id};irreperibile;{today}\n")
    assert status == 200 and "1 atti notificati" in html.replace("\n", " ").replace("  ", " "), html
    session.expire_all()
    assert [a.status for a in acts] == ["notificato", "non_notificato"]
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ActOutcome)
            .where(ActOutcome.act_id.in_([a.id for a in acts]))
        )
        == 2
    )
