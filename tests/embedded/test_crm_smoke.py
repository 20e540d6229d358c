"""The contact log on the embedded defaults (SQLite): the card's section, a registered contact, the notes
search (substring fallback), the statistics by month (strftime) and a booking (partial unique index)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from app.demo.seed import DEMO_PASSWORD, MARIO_ROSSI_CF
from tests.embedded.test_smoke import embedded_app  # noqa: F401  (the module's SQLite app)

pytestmark = pytest.mark.embedded


def test_contacts_search_statistics_and_booking_on_sqlite(embedded_app: Flask) -> None:  # noqa: F811
    client = embedded_app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(True)).group(1)
    client.post("/login", data={"username": "callcenter", "password": DEMO_PASSWORD, "csrf_token": token})
    results = client.get(f"/contribuenti/?q={MARIO_ROSSI_CF}").get_data(as_text=True)
    taxpayer_id = int(re.search(r'href="/contribuenti/(\d+)"', results).group(1))
    section = client.get(f"/crm/contribuenti/{taxpayer_id}/contatti").get_data(as_text=True)
    assert "Pagamento allo sportello" in section
    form = {k: v for k, v in re.findall(r'name="(ente|csrf_token)"[^>]*value="([^"]+)"', section)}
    topic = re.search(r'<option value="(\d+)">Rateazione</option>', section).group(1)
    response = client.post(
        f"/crm/contribuenti/{taxpayer_id}/contatti",
        data={
            **form,
            "canale": "telefono",
            "direzione": "in",
            "argomento": topic,
            "esito": "risolto",
            "durata": "3",
            "note": "Promemoria zibaldone",
        },
    )
    assert 'data-testid="contact-recorded"' in response.get_data(as_text=True)
    assert "Promemoria zibaldone" in client.get("/contribuenti/?q=zibaldone").get_data(as_text=True)
    stats = client.get("/crm/statistiche?dimensione=periodo").get_data(as_text=True)
    assert str(dt.date.today().year) in stats
    slots = client.get(f"/crm/contribuenti/{taxpayer_id}/appuntamenti").get_data(as_text=True)
    assert "Sportello di Roma" in slots
