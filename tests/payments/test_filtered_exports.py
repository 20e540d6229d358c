"""Payments lists: a filtered export holds exactly the filtered rows in every format, every export link a
persona sees answers 200, and the call center (no export permission) sees none on any list page."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.payments.support import ACTOR, fdr, open_positions, row
from tests.reports.readers import column_values

FORMATS = ("csv", "xlsx", "ods", "odt", "pdf", "xml")


def _import(app, data: bytes):
    from app.payments.services import import_flow

    with app.app_context():
        summary = import_flow(db.session, data, ACTOR)
        db.session.commit()
        return summary


def links_of(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for href, fmt in re.findall(r'href="([^"]+)" data-export-format="(\w+)"', html):
        found.setdefault(fmt, []).append(href.replace("&amp;", "&"))
    return found


@pytest.fixture
def flow(app) -> tuple[int, list[str], list[str]]:
    """A flow of R01 with three reconciled payments and two that match no debt."""
    with app.app_context():
        positions = open_positions(db.session, 3)
    matched = [f"IURFILT-OK-{i}" for i in range(3)]
    unmatched = [f"IURFILT-NO-{i}" for i in range(2)]
    rows = [row(p.iuv, iur, p.due, index=1) for p, iur in zip(positions, matched, strict=True)]
    rows += [row(f"0{99_000_000_000_000 + i:016d}"[:17], iur, 1_000) for i, iur in enumerate(unmatched)]
    summary = _import(app, fdr(rows))
    return summary.flow_id, matched, unmatched


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_flow_filtered_by_state_exports_exactly_its_rows(personas, flow, fmt) -> None:
    flow_id, matched, unmatched = flow
    client = personas.client("backoffice")
    page = client.get(f"/pagamenti/flussi/{flow_id}?stato=riconciliato").get_data(as_text=True)
    assert 'data-testid="list-count">3 pagamenti</strong> riconciliato' in page
    (href,) = links_of(page)[fmt]
    assert "stato=riconciliato" in href
    response = client.get(href)
    assert response.status_code == 200
    values = column_values(fmt, response.get_data(), "Id pagamento / IUR", "id_pagamento")
    if fmt == "pdf":
        values = [v for v in values if v.startswith("IURFILT-")]
    assert sorted(values) == matched
    unfiltered = client.get(f"/pagamenti/flussi/{flow_id}/pagamenti.csv").get_data()
    assert sorted(column_values("csv", unfiltered, "Id pagamento / IUR", "id_pagamento")) == sorted(
        matched + unmatched
    )


def list_pages(app, flow_id: int) -> list[str]:
    from app.demo.seed import MARIO_ROSSI_CF
    from tests.test_access import taxpayer_id

    with app.app_context():
        mario = taxpayer_id(MARIO_ROSSI_CF)
    return [
        "/posizioni/",
        "/posizioni/?stato=caricata",
        "/contribuenti/?q=Rossi",
        f"/contribuenti/{mario}",
        "/pagamenti/",
        f"/pagamenti/flussi/{flow_id}",
        f"/pagamenti/flussi/{flow_id}?stato=riconciliato",
        "/pagamenti/anomalie?stato=tutte",
        "/pagamenti/rimborsi?stato=tutti",
        "/pagamenti/rendicontazione",
        "/pagamenti/rendicontazione/dettaglio",
        "/pagamenti/riversamento",
        "/elaborazioni/",
        "/carichi/",
    ]


def test_callcenter_sees_no_export_link_on_any_list_page(app, personas, flow) -> None:
    client = personas.client("callcenter")
    seen = 0
    for path in list_pages(app, flow[0]):
        response = client.get(path)
        if response.status_code == 403:
            continue
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        seen += 1
        assert "Esporta" not in html and "data-export-format" not in html, path
        assert not re.search(r'href="[^"]*\.(csv|xlsx|ods|pdf|xml)(\?|")', html), path
    assert seen >= 8


FILE_LINK = re.compile(r'href="([^"]+\.(?:csv|xlsx|ods|pdf|xml)(?:\?[^"]*)?)"')


@pytest.mark.parametrize("persona", ["admin", "backoffice", "sportello", "callcenter", "regione", "regione2"])
def test_every_export_link_shown_answers_200(app, personas, flow, persona) -> None:
    """Any link to a file on a list page, for any persona, downloads it (a link that answers 403 is a bug)."""
    client = personas.client(persona)
    links: set[str] = set()
    for path in list_pages(app, flow[0]):
        response = client.get(path)
        if response.status_code in (403, 404):
            continue
        assert response.status_code == 200, path
        found = FILE_LINK.findall(response.get_data(as_text=True))
        links.update(href.replace("&amp;", "&") for href in found)
    assert links or persona == "callcenter"
    for href in sorted(links):
        response = client.get(href)
        body = response.get_data()  # a streamed export keeps its request open until read
        response.close()
        assert response.status_code == 200, (persona, href, body[:200])
        assert body
