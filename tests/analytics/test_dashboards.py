"""Dashboards (issue 15 point 3): the figures of every summary panel equal one hand-written SQL over the
ledger, scoped per ente; the page draws each chart beside its table; the PDF draws the same charts."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import sqlalchemy as sa

from app.analytics.dashboards import build_dashboard, panel_by_key, rate
from app.analytics.summary import rebuild, years_before
from tests.analytics.conftest import AS_OF, principal

DIRECT = """
SELECT en.code AS entrata, p.year AS anno, count(*) AS posizioni,
       coalesce(sum(l.carico), 0) AS carico, coalesce(sum(l.sgravi), 0) AS sgravi,
       coalesce(sum(l.riscosso), 0) AS riscosso, coalesce(sum(l.residuo), 0) AS residuo
FROM positions p
JOIN entrate en ON en.id = p.entrata_id
LEFT JOIN (
    SELECT position_id,
           coalesce(sum(amount_cents) FILTER (WHERE kind = 'carico'), 0) AS carico,
           -coalesce(sum(amount_cents) FILTER (WHERE kind = 'sgravio'), 0) AS sgravi,
           -coalesce(sum(amount_cents) FILTER (WHERE kind IN ('pagamento', 'rimborso')), 0) AS riscosso,
           sum(amount_cents) AS residuo
    FROM movements GROUP BY position_id
) l ON l.position_id = p.id
WHERE p.ente_id = :ente
GROUP BY en.code, p.year
ORDER BY en.code, p.year
"""


def _direct(session: Any, ente: int) -> list[dict[str, Any]]:
    return [
        {k: (int(v) if k != "entrata" else v) for k, v in row.items()}
        for row in session.execute(sa.text(DIRECT), {"ente": ente}).mappings()
    ]


def test_carico_vs_collected_equals_direct_sql_per_ente(session, r01, r02, ledger) -> None:
    rebuild(session, AS_OF)
    for ente in (r01, r02):
        panels = build_dashboard(session, principal({ente}), today=AS_OF)
        panel = panel_by_key(panels, "carico_riscosso")
        got = [
            {k: r[k] for k in ("entrata", "anno", "posizioni", "carico", "sgravi", "riscosso", "residuo")}
            for r in panel.rows
        ]
        expected = _direct(session, ente)
        assert got == expected and expected
        assert any(r["riscosso"] for r in got) and any(r["sgravi"] for r in got)


def test_collection_rate_and_ageing_equal_direct_sql(session, r01, ledger) -> None:
    rebuild(session, AS_OF)
    panels = build_dashboard(session, principal({r01}), today=AS_OF)
    by_entrata: dict[str, list[int]] = {}
    for row in _direct(session, r01):
        sums = by_entrata.setdefault(row["entrata"], [0, 0, 0])
        sums[0] += row["carico"]
        sums[1] += row["sgravi"]
        sums[2] += row["riscosso"]
    rates = {r["entrata"]: r["tasso"] for r in panel_by_key(panels, "tasso").rows}
    assert rates == {code: rate(c, ca, s) for code, (ca, s, c) in by_entrata.items()}
    # ageing: outstanding with the due date in each bucket
    cut1, cut5 = years_before(AS_OF, 1), years_before(AS_OF, 5)
    direct = session.execute(
        sa.text("""
        SELECT coalesce(sum(m.amount_cents) FILTER (WHERE p.due_date > :cut1), 0),
               coalesce(sum(m.amount_cents) FILTER (WHERE p.due_date <= :cut5), 0),
               coalesce(sum(m.amount_cents), 0)
        FROM positions p JOIN movements m ON m.position_id = p.id WHERE p.ente_id = :ente"""),
        {"cut1": cut1, "cut5": cut5, "ente": r01},
    ).one()
    buckets = panel_by_key(panels, "anzianita").rows
    assert buckets[0]["residuo"] == direct[0]
    assert buckets[-1]["residuo"] == direct[1]
    assert sum(b["residuo"] for b in buckets) == direct[2]


def test_live_panels_equal_direct_sql(session, r01) -> None:
    panels = build_dashboard(session, principal({r01}), today=AS_OF)
    contacts = panel_by_key(panels, "contatti")
    direct = session.execute(
        sa.text("SELECT count(*) FROM contacts WHERE ente_id = :e AND started_dt >= '2026-01-01'"), {"e": r01}
    ).scalar()
    assert sum(r["contatti"] for r in contacts.rows) == direct
    acts = panel_by_key(panels, "atti")
    direct = session.execute(
        sa.text("SELECT count(*) FROM acts WHERE ente_id = :e AND issue_date >= '2026-01-01'"), {"e": r01}
    ).scalar()
    assert sum(r["emessi"] for r in acts.rows) == direct and len(acts.rows) == 12
    assert panel_by_key(panels, "assistenza") is not None


def test_a_registered_provider_adds_its_panel(session, r01, monkeypatch) -> None:
    from app.analytics import dashboards
    from app.reports.exports import Column

    def procedures(session: Any, who: Any) -> dashboards.Panel:
        return dashboards.Panel(
            key="procedure",
            title="Procedure",
            columns=(Column("k", "Tipo"), Column("n", "Numero", "int")),
            rows=[{"k": "fermo", "n": len(who.ente_ids)}],
            label_keys=("k",),
            series=("n",),
        )

    monkeypatch.setattr(dashboards, "_PROVIDERS", {})
    dashboards.register_panel_provider("procedure", procedures)
    panel = panel_by_key(build_dashboard(session, principal({r01}), today=AS_OF), "procedure")
    assert panel is not None and panel.rows == [{"k": "fermo", "n": 1}]


def _charts(html: str) -> dict[str, dict]:
    return {
        m.group(1): json.loads(m.group(2).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&"))
        for m in re.finditer(r'data-testid="chart-(\w+)"\s+data-analytics-chart=\'([^\']*)\'', html)
    }


def _direct_carico(app: Any, code: str) -> int:
    """Outside the clients' requests: a pushed request context would leak `g` (the user) into them."""
    from app.extensions import db
    from tests.analytics.conftest import ente_id

    with app.app_context():
        total = sum(r["carico"] for r in _direct(db.session, ente_id(db.session, code)))
        db.session.remove()
    return total


def test_the_page_draws_each_chart_beside_its_table_scoped(app, personas) -> None:
    client = personas.client("regione")
    html = client.get("/analisi/").get_data(True)
    assert "<script>" not in html and "js/analytics.js" in html and "chart.umd.min.js" in html
    charts = _charts(html)
    assert {"carico_riscosso", "tasso", "anzianita", "atti", "contatti", "assistenza"} <= set(charts)
    assert 'data-testid="table-carico_riscosso"' in html
    # regione sees R01 only: its chart's carico equals R01's direct SQL (the demo summary, refreshed at seed)
    carico = sum(charts["carico_riscosso"]["series"][0]["data"])
    assert carico == _direct_carico(app, "R01")
    other = _charts(personas.client("regione2").get("/analisi/").get_data(True))
    assert sum(other["carico_riscosso"]["series"][0]["data"]) == _direct_carico(app, "R02") != carico
    # an ente out of the user's scope shows nothing of it
    with app.app_context():
        from app.extensions import db
        from tests.analytics.conftest import ente_id

        r02 = ente_id(db.session, "R02")
        db.session.remove()
    html = client.get("/analisi/", query_string={"ente": r02}).get_data(True)
    assert sum(_charts(html)["carico_riscosso"]["series"][0]["data"]) == carico


def test_panel_export_and_pdf(app, personas) -> None:
    client = personas.client("regione")
    body = client.get("/analisi/cruscotto/carico_riscosso.csv").get_data(True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Entrata", "Descrizione", "Anno"]
    response = client.get("/analisi/cruscotto.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    import pdfplumber

    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "Carico e riscosso per entrata e anno" in text and "Anzianità del residuo" in text
    assert client.get("/analisi/cruscotto/nessuno.csv").status_code == 404


def test_personas_and_permissions(personas) -> None:
    assert personas.client("callcenter").get("/analisi/").status_code == 200
    assert personas.client("callcenter").get("/analisi/interrogazioni").status_code == 403
    assert personas.client("contribuente").get("/analisi/").status_code == 403
    assert personas.client(None).get("/analisi/").status_code in (302, 401)


def test_the_refresh_command(app) -> None:
    from app.extensions import db

    with app.app_context():
        result = app.test_cli_runner().invoke(args=["analisi", "aggiorna", "--data", "2026-12-03"])
        assert result.exit_code == 0, result.output
        body = json.loads(result.output)
        count = db.session.scalar(sa.text("SELECT count(*) FROM analytics_position_summary"))
        db.session.remove()
    assert body["rows"] == count > 0 and body["as_of"] == "2026-12-03"
