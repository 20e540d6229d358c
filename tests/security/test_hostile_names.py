"""Hostile names loaded through a carico (the real import service, `run_file` as the worker runs it) render
escaped on every page that shows them, and are neutralised in the CSV/XLSX exports (no cell a spreadsheet
would run as a formula)."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from markupsafe import escape
from openpyxl import load_workbook

from tests.security.conftest import HOSTILE, World

PERSONA = "backoffice_r01"  # the carico with the hostile names is of R01 (and of R02, for the other probes)


def _codice_fiscale(world: World, taxpayer_id: int) -> str:
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    with world.app.app_context():
        return db.session.get(Taxpayer, taxpayer_id).codice_fiscale


def _assert_escaped(html: str, text: str, where: str) -> None:
    assert str(escape(text)) in html, f"{text!r} not shown (escaped) on {where}"
    if any(c in text for c in "<>\""):
        assert text not in html, f"{text!r} rendered raw on {where}"
    assert "<script>alert(1)" not in html and "<img src=x" not in html, where


def _position_list_page_with(client, external_id: str) -> str:
    for page in range(1, 200):
        html = client.get(f"/posizioni/?pagina={page}").get_data(as_text=True)
        if external_id in html:
            return html
        if 'rel="next"' not in html and "pagina=" + str(page + 1) not in html:
            break
    raise AssertionError(f"{external_id} is on no page of the positions list")


@pytest.mark.parametrize("key", list(HOSTILE))
def test_hostile_names_render_escaped_on_every_page(world: World, key: str) -> None:
    text = HOSTILE[key]
    client = world.personas().client(PERSONA)
    taxpayer_id, position_id = world.hostile_taxpayer_ids[key], world.hostile_position_ids[key]
    cf = _codice_fiscale(world, taxpayer_id)
    pages = {
        "card": f"/contribuenti/{taxpayer_id}",
        "search results": f"/contribuenti/?q={cf}",
        "position page": f"/posizioni/{position_id}",
    }
    for where, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_escaped(response.get_data(as_text=True), text, where)
    _assert_escaped(_position_list_page_with(client, f"SONDA-R01-{key}"), text, "positions list")


def test_a_hostile_search_query_is_echoed_escaped(world: World) -> None:
    client = world.personas().client(PERSONA)
    for text in HOSTILE.values():
        html = client.get("/contribuenti/", query_string={"q": text}).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";") for cell in row]


def _export_paths(world: World) -> list[str]:
    taxpayer_id = world.hostile_taxpayer_ids["formula"]
    return [
        "/posizioni/esporta.{fmt}",
        f"/contribuenti/{taxpayer_id}/posizioni.{{fmt}}",
        f"/contribuenti/esporta.{{fmt}}?q={_codice_fiscale(world, taxpayer_id)}",
    ]


def test_hostile_names_are_neutralised_in_csv_exports(world: World) -> None:
    client = world.personas().client(PERSONA)
    for path in _export_paths(world):
        response = client.get(path.format(fmt="csv"))
        assert response.status_code == 200, path
        cells = [c for c in _csv_cells(response.data) if "cmd|" in c]
        assert cells, f"the hostile name is not in {path}"
        formulas = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert not formulas, (path, formulas)
        assert any(c.startswith("'=cmd|") for c in cells), (path, cells)


def test_hostile_names_are_text_cells_in_xlsx_exports(world: World) -> None:
    client = world.personas().client(PERSONA)
    for path in _export_paths(world):
        response = client.get(path.format(fmt="xlsx"))
        assert response.status_code == 200, path
        sheet = load_workbook(io.BytesIO(response.data)).active
        cells = [
            c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "cmd|" in c.value
        ]
        assert cells, f"the hostile name is not in {path}"
        assert all(c.data_type == "s" for c in cells), (path, [(c.coordinate, c.data_type) for c in cells])


def test_the_hostile_rows_went_through_the_import_service(world: World) -> None:
    """They are real rows of a carico (not written into the database by the test)."""
    from app.carichi.models import Carico
    from app.extensions import db
    from app.positions.models import Position

    with world.app.app_context():
        position = db.session.get(Position, world.hostile_position_ids["script"])
        assert position.carico_id is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Carico)) >= 2
