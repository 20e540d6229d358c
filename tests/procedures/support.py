"""Helpers of the procedures' tests: a position of the demo taxpayer with a chosen capital and state, the
system's principal, a PRA stub server that validates each request on the adapter's documented contract."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import sqlalchemy as sa

from app.core.audit import Actor

ACTOR = Actor.system("test procedure")
_IDS = itertools.count(1)


def make_position(
    session: Any,
    *,
    capitale_cents: int,
    state: str = "scaduta",
    ente: str = "R01",
    cf: str = "RSSMRA80A01H501U",
    due: dt.date = dt.date(2025, 3, 31),
    sollecito: bool = True,
) -> Any:
    """A TASSA_AUTO position of the taxpayer (an R01 demo taxpayer by default) with a `carico` movement
    and, unless `sollecito` is False, a sollecito sent a month after the due date (L. 160/2019 c. 795: a
    cautelare or esecutiva action on a debt up to 10.000 euro follows one, app/atti/prerequisites.py)."""
    from app.enti.models import Ente, Entrata
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer

    ente_row = session.scalars(sa.select(Ente).where(Ente.code == ente)).one()
    entrata = session.scalars(
        sa.select(Entrata).where(Entrata.ente_id == ente_row.id, Entrata.code == "TASSA_AUTO")
    ).one()
    taxpayer = session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == cf)).one()
    position = Position(
        ente_id=ente_row.id,
        entrata_id=entrata.id,
        taxpayer_id=taxpayer.id,
        external_id=f"PROC-{next(_IDS)}-{dt.datetime.now().timestamp():.0f}",
        year=due.year - 1,
        description="Tassa automobilistica",
        reference="AB123CD",
        due_date=due,
        notified_date=due - dt.timedelta(days=90),
        state=state,
    )
    session.add(position)
    session.flush()
    session.add(
        Movement(
            position_id=position.id,
            component="capitale",
            kind="carico",
            amount_cents=capitale_cents,
            value_date=due - dt.timedelta(days=120),
            source="test",
            booked_dt=dt.datetime.combine(due - dt.timedelta(days=120), dt.time(9), dt.UTC),
        )
    )
    session.flush()
    if sollecito:
        send_sollecito(session, position, due + dt.timedelta(days=30))
    return position


def send_sollecito(session: Any, position: Any, on: dt.date, *, sent: bool = True) -> Any:
    """Issue a sollecito for the position on `on` and (unless `sent` is False) mark it sent by post that day;
    returns the act."""
    from flask import current_app

    from app.atti.services import act_type_by_code, issue_act

    act = issue_act(
        session, position, act_type_by_code(session, "sollecito"), on, ACTOR,
        file_store=current_app.config["FILE_STORE"],
    ).act
    if sent:
        act.status, act.sent_date, act.channel = "inviato", on, "posta"
    session.flush()
    return act


def principal(session: Any) -> Any:
    from app.positions.services import system_principal

    return system_principal(session)


def other_taxpayer_cf(session: Any, ente: str = "R01") -> str:
    """A demo taxpayer of the ente other than Mario Rossi."""
    from app.enti.models import Ente
    from app.taxpayers.models import Taxpayer, TaxpayerEnte

    ente_id = session.scalar(sa.select(Ente.id).where(Ente.code == ente))
    return session.scalars(
        sa.select(Taxpayer.codice_fiscale)
        .join(TaxpayerEnte, TaxpayerEnte.taxpayer_id == Taxpayer.id)
        .where(
            TaxpayerEnte.ente_id == ente_id,
            Taxpayer.codice_fiscale != "RSSMRA80A01H501U",
            Taxpayer.kind == "PF",
        )
        .order_by(Taxpayer.id)
    ).first()


PRA_TOKEN = "pra-test-token"  # noqa: S105  (a stub's)


@contextmanager
def pra_stub(vehicles: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, list[str]]]:
    """A local PRA server answering the adapter's contract (app/registries/pra.py): it refuses (400) any
    request that is not `GET /veicoli?codice_fiscale=<CF>` with the bearer token and JSON accepted. Yields the
    base URL and the list of request paths it served."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            query = parse_qs(url.query)
            seen.append(self.path)
            problems = []
            if url.path != "/veicoli":
                problems.append("path")
            if list(query) != ["codice_fiscale"] or len(query["codice_fiscale"]) != 1:
                problems.append("query")
            if self.headers.get("Authorization") != f"Bearer {PRA_TOKEN}":
                problems.append("auth")
            if "application/json" not in (self.headers.get("Accept") or ""):
                problems.append("accept")
            if problems:
                self._send(400, {"errore": problems})
                return
            cf = query["codice_fiscale"][0]
            if cf not in vehicles:
                self._send(404, {"errore": "nessun veicolo"})
                return
            self._send(
                200, {"codice_fiscale": cf, "data_consultazione": "2026-12-01", "veicoli": vehicles[cf]}
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        thread.join(timeout=5)


def probe_procedure(session: Any, ente_id: int) -> int:
    """A procedure of the ente for the security probe (tests/security): a fermo row on its first position."""
    from app.positions.models import Position
    from app.procedures.models import Procedure, ProcedureStep

    position = session.scalars(
        sa.select(Position).where(Position.ente_id == ente_id).order_by(Position.id)
    ).first()
    procedure = Procedure(
        ente_id=ente_id,
        taxpayer_id=position.taxpayer_id,
        position_id=position.id,
        kind="fermo",
        state="preavviso",
        started_on=dt.date(2026, 11, 2),
        amount_cents=1000,
        details={"vehicle": {"targa": "SONDA01", "fonte": "sonda"}},
        created_by_label="sonda",
    )
    procedure.steps.append(
        ProcedureStep(
            operation="avvio", to_state="preavviso", step_date=dt.date(2026, 11, 2), actor_label="sonda"
        )
    )
    session.add(procedure)
    session.flush()
    return procedure.id
