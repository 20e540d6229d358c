"""The positions list and its exports obey what the user sees: the filters of the list (also after an HTMX
swap), its total count, and only for roles allowed to export."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.reports.readers import column_values
from tests.reports.test_export_pdf_layout import overlapping, words_of

FORMATS = ("csv", "xlsx", "ods", "odt", "pdf", "xml")
HTMX = {"HX-Request": "true"}


def filtered_ids(app, ente: str, state: str) -> list[str]:
    """The positions the backoffice sees with these filters, in the list's order."""
    from app.core.access import Principal
    from app.enti.models import Ente
    from app.extensions import db
    from app.positions.queries import position_rows_stmt

    with app.app_context():
        ids = frozenset(db.session.scalars(sa.select(Ente.id)))
        stmt = position_rows_stmt(Principal("backoffice", ids), ente_code=ente, state=state)
        return [r["id_posizione"] for r in db.session.execute(stmt).mappings()]


@pytest.fixture(scope="module")
def chosen(app) -> tuple[str, str, list[str], list[str]]:
    """A state + ente filter that keeps some positions of R01 and leaves out others (also of that state)."""
    from app.extensions import db
    from app.positions.models import Position

    with app.app_context():
        states = [s for (s,) in db.session.execute(sa.select(Position.state).distinct())]
    best = max(states, key=lambda s: len(filtered_ids(app, "R01", s)))
    everything = filtered_ids(app, None, None)
    return "R01", best, filtered_ids(app, "R01", best), everything


def links_of(html: str) -> dict[str, str]:
    return {
        fmt: href.replace("&amp;", "&")
        for href, fmt in re.findall(r'href="([^"]+)" data-export-format="(\w+)"', html)
    }


def test_the_htmx_fragment_carries_the_filters_into_every_export_link(personas, chosen) -> None:
    ente, state, _ids, _all = chosen
    html = personas.client("backoffice").get(f"/posizioni/?ente={ente}&stato={state}", headers=HTMX)
    text = html.get_data(as_text=True)
    assert html.status_code == 200 and "<html" not in text  # the fragment
    links = links_of(text)
    assert sorted(links) == sorted(FORMATS)
    for href in links.values():
        assert parse_qs(urlsplit(href).query) == {"ente": [ente], "stato": [state]}


def test_the_list_shows_its_total_count(personas, chosen) -> None:
    ente, state, ids, everything = chosen
    client = personas.client("backoffice")
    filtered = client.get(f"/posizioni/?ente={ente}&stato={state}", headers=HTMX).get_data(as_text=True)
    assert f'data-testid="position-count" aria-live="polite">{len(ids)} posizion' in filtered
    whole = client.get("/posizioni/").get_data(as_text=True)
    count = f"{len(everything):,}".replace(",", ".")
    assert f'data-testid="position-count" aria-live="polite">{count} posizioni<' in whole


def test_count_label_plurals(app) -> None:
    with app.test_request_context():
        macro = app.jinja_env.get_template("_macros/ui.html").module.count_label
        assert str(macro(1, "posizione", "posizioni")).strip() == "1 posizione"
        assert str(macro(23, "posizione", "posizioni")).strip() == "23 posizioni"
        assert str(macro(0, "posizione", "posizioni")).strip() == "0 posizioni"
        assert str(macro(4395, "posizione", "posizioni")).strip() == "4.395 posizioni"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_filtered_export_holds_exactly_the_filtered_rows(personas, chosen, fmt) -> None:
    ente, state, ids, everything = chosen
    assert 0 < len(ids) < len(everything)
    client = personas.client("backoffice")
    fragment = client.get(f"/posizioni/?ente={ente}&stato={state}", headers=HTMX).get_data(as_text=True)
    href = links_of(fragment)[fmt]
    response = client.get(href)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    values = column_values(fmt, response.get_data(), "Id posizione", "id_posizione")
    if fmt == "pdf":
        shown = [v for v in values if v in set(everything)]
        assert sorted(shown) == sorted(ids)
        for words in words_of(response.get_data()):
            assert overlapping(words) == []
    else:
        assert values == ids


@pytest.mark.parametrize(
    "query",
    ["ente=%00", "stato=%00", "stato=non_esiste", "ente=R99", "pagina=99999999999999999999999", "pagina=0",
     "pagina=abc"],
)
def test_a_bad_filter_is_a_400_in_italian(personas, query) -> None:
    client = personas.client("backoffice")
    for path in ("/posizioni/", "/posizioni/esporta.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert "non valido" in response.get_data(as_text=True)


def test_callcenter_sees_the_list_but_no_export_link(personas) -> None:
    html = personas.client("callcenter").get("/posizioni/").get_data(as_text=True)
    assert 'data-testid="position-count"' in html
    assert "Esporta" not in html and "esporta." not in html
