"""PRA/ACI vehicle lookup: the vehicles registered to a codice fiscale, for a fermo amministrativo.

NO published specification of ACI's PRA service is available to this project (nothing in
../shared/data/specs): this adapter talks to a small documented HTTP contract of our own, to be mapped onto
ACI's real e-service (through PDND) when its contract is obtained. Until then it is what the tests' stub
server and any gateway in front of ACI must answer.

Contract (version "esattoria-pra/1"):

    GET {PRA_API_URL}/veicoli?codice_fiscale=<16 or 11 characters>
    Authorization: Bearer {PRA_API_TOKEN}          (when a token is configured)
    Accept: application/json

    200 {"codice_fiscale": "...", "data_consultazione": "2026-12-03",
         "veicoli": [{"targa": "AB123CD", "tipo": "autovettura", "marca": "FIAT", "modello": "PANDA",
                      "data_immatricolazione": "2019-03-01", "intestatario_dal": "2019-03-01",
                      "gravami": ["fermo"]}]}       (gravami: liens already registered, may be empty)
    404 no vehicle known for the codice fiscale (same as an empty list)
    4xx/5xx otherwise: PraUnavailable with the status

The answer is kept on the procedure with its date and source ("PRA/ACI, consultazione del <date>").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

CONTRACT = "esattoria-pra/1"
_CF = re.compile(r"^(?:[A-Z0-9]{16}|[0-9]{11})$")
_PLATE = re.compile(r"^[A-Z0-9]{5,8}$")


class PraUnavailable(RuntimeError):
    """The PRA service is not configured, unreachable or answered with an error (message in Italian)."""


@dataclass(frozen=True, slots=True)
class Vehicle:
    plate: str
    kind: str
    make: str
    model: str
    registered_on: str | None = None
    owner_since: str | None = None
    liens: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {
            "targa": self.plate,
            "tipo": self.kind,
            "marca": self.make,
            "modello": self.model,
            "data_immatricolazione": self.registered_on,
            "intestatario_dal": self.owner_since,
            "gravami": list(self.liens),
        }

    @property
    def label(self) -> str:
        return f"{self.plate} · {self.kind} {self.make} {self.model}".strip()


@dataclass(frozen=True, slots=True)
class Lookup:
    codice_fiscale: str
    consulted_on: dt.date
    vehicles: tuple[Vehicle, ...]

    @property
    def source(self) -> str:
        return f"PRA/ACI, consultazione del {self.consulted_on:%d/%m/%Y}"


def _vehicle(row: dict[str, Any]) -> Vehicle:
    plate = str(row.get("targa", "")).upper().replace(" ", "")
    if not _PLATE.match(plate):
        raise PraUnavailable(f"Risposta del PRA non valida: targa «{plate}».")
    return Vehicle(
        plate=plate,
        kind=str(row.get("tipo") or "veicolo"),
        make=str(row.get("marca") or ""),
        model=str(row.get("modello") or ""),
        registered_on=row.get("data_immatricolazione"),
        owner_since=row.get("intestatario_dal"),
        liens=tuple(str(x) for x in row.get("gravami") or ()),
    )


class PraClient:
    def __init__(
        self,
        base_url: str | None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def from_config(cls, config: Any) -> PraClient:
        return cls(config.get("PRA_API_URL"), config.get("PRA_API_TOKEN"))

    @property
    def configured(self) -> bool:
        return bool(self.base_url)

    def vehicles(self, codice_fiscale: str, *, today: dt.date | None = None) -> Lookup:
        cf = codice_fiscale.strip().upper()
        if not _CF.match(cf):
            raise PraUnavailable("Codice fiscale non valido per la consultazione del PRA.")
        if not self.configured:
            raise PraUnavailable("Consultazione del PRA non configurata (PRA_API_URL).")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.get(
                    f"{self.base_url}/veicoli", params={"codice_fiscale": cf}, headers=headers
                )
        except httpx.HTTPError as exc:
            raise PraUnavailable(f"Il PRA non risponde ({type(exc).__name__}).") from None
        day = today or dt.date.today()
        if response.status_code == 404:
            return Lookup(cf, day, ())
        if response.status_code != 200:
            raise PraUnavailable(f"Il PRA ha risposto con errore {response.status_code}.")
        try:
            body = response.json()
            rows = body["veicoli"]
            if not isinstance(rows, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise PraUnavailable("Risposta del PRA non valida.") from None
        consulted = body.get("data_consultazione")
        try:
            day = dt.date.fromisoformat(consulted) if consulted else day
        except ValueError:
            raise PraUnavailable("Risposta del PRA non valida: data di consultazione.") from None
        return Lookup(cf, day, tuple(_vehicle(r) for r in rows))
