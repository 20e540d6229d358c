"""The visura aggregata of communications (down to the single act and its PDF) and the visura degli incassi
(issue 15 point 1): isolation between enti, totals, exports in every format."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from app.reports.exports import FORMATS


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))


def test_communications_by_type_state_outcome_and_the_drill_down_to_the_act(personas, issued) -> None:
    client = personas.client("regione")
    rows = _csv(client.get("/monitor/comunicazioni.csv", query_string={"tipo": "ingiunzione"}))
    assert rows and {r["Ente"] for r in rows} == {"R01"}  # nothing of R02
    notified = [r for r in rows if r["Stato"] == "notificato" and r["Esito della notifica"] == "notificato"]
    assert notified and sum(int(r["Atti"]) for r in notified) >= 1
    html = client.get("/monitor/comunicazioni", query_string={"tipo": "ingiunzione"}).get_data(as_text=True)
    assert "Notificato (consegnato)" in html and 'data-testid="drill-down"' in html
    # the drill-down: the single act, linked to its page and its PDF
    query = {"tipo": "ingiunzione", "stato": "notificato", "esito": "notificato"}
    acts = _csv(client.get("/monitor/comunicazioni/atti.csv", query_string=query))
    assert issued.r01_protocol in {a["Protocollo"] for a in acts}
    assert issued.r02_protocol not in {a["Protocollo"] for a in acts}
    page = client.get("/monitor/comunicazioni/atti", query_string=query).get_data(as_text=True)
    assert f"/atti/{issued.r01_act_id}/pdf" in page
    pdf = client.get(f"/atti/{issued.r01_act_id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # the other Regione user sees its own act, never this one
    other = personas.client("regione2")
    theirs = _csv(other.get("/monitor/comunicazioni/atti.csv"))
    assert {a["Protocollo"] for a in theirs} >= {issued.r02_protocol}
    assert issued.r01_protocol not in {a["Protocollo"] for a in theirs}
    assert {r["Ente"] for r in _csv(other.get("/monitor/comunicazioni.csv"))} == {"R02"}
    assert other.get(f"/atti/{issued.r01_act_id}/pdf").status_code == 404
    # an act not notified yet: "nessun esito"
    none_yet = _csv(other.get("/monitor/comunicazioni/atti.csv", query_string={"esito": "nessuno"}))
    assert issued.r02_protocol in {a["Protocollo"] for a in none_yet}


def test_collections_are_scoped_and_match_the_rendicontazione(app, personas) -> None:
    from app.core.access import principal_of
    from app.extensions import db
    from app.payments import reports
    from tests.conftest import user_by_name

    client = personas.client("regione")
    payments = _csv(client.get("/monitor/incassi.csv"))
    assert payments and {p["Ente"] for p in payments} == {"R01"}
    totals = _csv(client.get("/monitor/incassi/totali.csv"))
    got = sum(int(t["Importo riscosso"].replace(".", "")) for t in totals if t["Importo riscosso"])
    with app.app_context():
        principal = principal_of(user_by_name("regione"))
        stmt = reports.collected_stmt(principal, ("ente",), reports.Filters())
        expected = sum(int(r.importo_cents) for r in db.session.execute(stmt))
        direct = db.session.scalar(
            sa.text(
                "SELECT COALESCE(SUM(a.amount_cents), 0) FROM payment_allocations a "
                "JOIN enti e ON e.id = a.ente_id WHERE e.code = 'R01'"
            )
        )
    assert got == expected == int(direct) > 0
    html = client.get("/monitor/incassi").get_data(as_text=True)
    assert "/pagamenti/rendicontazione/dettaglio?" in html
    theirs = _csv(personas.client("regione2").get("/monitor/incassi.csv"))
    assert {p["Ente"] for p in theirs} <= {"R02"}
    assert not {p["Id pagamento / IUR"] for p in theirs} & {p["Id pagamento / IUR"] for p in payments}
    # filters: a channel, a period
    channel = payments[0]["Canale"]
    by_channel = _csv(client.get("/monitor/incassi.csv", query_string={"canale": channel}))
    assert by_channel and {p["Canale"] for p in by_channel} == {channel}
    assert _csv(client.get("/monitor/incassi.csv", query_string={"al": "1990-01-01"})) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_visure_export_in_every_format(personas, issued, fmt) -> None:
    client = personas.client("regione")
    for url in (
        "/monitor/comunicazioni",
        "/monitor/comunicazioni/atti",
        "/monitor/incassi",
        "/monitor/incassi/totali",
    ):
        response = client.get(f"{url}.{fmt}")
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        assert len(response.data) > 100
