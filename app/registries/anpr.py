"""ANPR e-service C001 "servizioNotifica" through PDND: a person's residence (and death) before notifying.

Contract: /work/shared/data/specs/anpr/C001-servizioNotifica.yaml (OpenAPI 3.0.3, `POST /anpr-service-e002`,
ModI AUDIT_REST_02 + INTEGRITY_REST_02):

- request `RichiestaE002` = {idOperazioneClient (numeric, increasing), criteriRicerca {codiceFiscale},
  datiRichiesta {dataRiferimentoRichiesta YYYY-MM-DD, motivoRichiesta (the case reference), casoUso "C001"}};
- answer 200 `RispostaE002OK` = {idOperazioneANPR, listaSoggetti {datiSoggetto [TipoDatiSoggettiEnte]},
  listaAnomalie}; 400/404/500 `RispostaKO` = {idOperazioneANPR, listaErrori [TipoErroriAnomalia]}.

The residence is the first `residenza` with an Italian `indirizzo` (toponimo, numero civico, CAP, comune and
its province). The spec has no field of its own for the death: it is read from the subject's
`infoSoggettoEnte` entry whose `chiave` names the death ("dataDecesso", "Data decesso"...) with its
`valoreData` (decision recorded in the README row "Verifiche anagrafiche"). A residence abroad is
reported, not written (the card's country is an ISO code, ANPR gives the ISTAT state code).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.registries.pdnd import EService, PdndSettings, RegistryError, call

PATH = "/anpr-service-e002"
CASO_USO = "C001"
NAME = "ANPR C001"


@dataclass(frozen=True, slots=True)
class Residence:
    street: str
    cap: str | None
    comune: str
    provincia: str | None
    since: dt.date | None

    @property
    def one_line(self) -> str:
        place = " ".join(p for p in (self.cap, self.comune) if p)
        return f"{self.street}, {place}" + (f" ({self.provincia})" if self.provincia else "")


@dataclass(slots=True)
class AnprAnswer:
    found: bool
    operation_id: str | None = None
    residence: Residence | None = None
    abroad: str | None = None  # a residence abroad, as text
    deceased_date: dt.date | None = None
    anomalies: list[str] = field(default_factory=list)


def operation_id() -> str:
    """idOperazioneClient: numeric and increasing (microseconds since the epoch)."""
    return str(time.time_ns() // 1000)


def build_request(codice_fiscale: str, reference: str, on: dt.date) -> dict[str, Any]:
    return {
        "idOperazioneClient": operation_id(),
        "criteriRicerca": {"codiceFiscale": codice_fiscale},
        "datiRichiesta": {
            "dataRiferimentoRichiesta": on.isoformat(),
            "motivoRichiesta": reference,
            "casoUso": CASO_USO,
        },
    }


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _text(*parts: Any) -> str:
    return " ".join(str(p).strip() for p in parts if p and str(p).strip())


def _residence(item: dict[str, Any]) -> Residence | None:
    address = item.get("indirizzo") or {}
    comune = (address.get("comune") or {}).get("nomeComune")
    toponimo = address.get("toponimo") or {}
    civico = address.get("numeroCivico") or {}
    street = _text(toponimo.get("specie"), toponimo.get("denominazioneToponimo"))
    number = _text(civico.get("numero"), civico.get("lettera"), civico.get("esponente1"))
    if not (street and comune):
        return None
    cap = address.get("cap")
    provincia = (address.get("comune") or {}).get("siglaProvinciaIstat")
    return Residence(
        street=_text(street, number)[:250],
        cap=cap if cap and len(cap) == 5 and cap.isdigit() else None,
        comune=str(comune)[:120],
        provincia=str(provincia)[:2].upper() if provincia else None,
        since=_date(item.get("dataDecorrenzaResidenza")),
    )


def _abroad(item: dict[str, Any]) -> str | None:
    estero = (item.get("localitaEstera") or {}).get("indirizzoEstero") or {}
    if not estero:
        return None
    toponimo = estero.get("toponimo") or {}
    localita = estero.get("localita") or {}
    return (
        _text(
            toponimo.get("denominazione"),
            toponimo.get("numeroCivico"),
            estero.get("cap"),
            localita.get("descrizioneLocalita"),
            localita.get("descrizioneStato"),
        )
        or None
    )


def _is_death(key: Any) -> bool:
    return "decess" in str(key or "").lower().replace("_", "").replace(" ", "")


def parse_answer(body: dict[str, Any]) -> AnprAnswer:
    subjects = ((body.get("listaSoggetti") or {}).get("datiSoggetto")) or []
    anomalies = [
        _text(a.get("codiceErroreAnomalia"), a.get("testoErroreAnomalia"))
        for a in body.get("listaAnomalie") or []
    ]
    if not subjects:
        return AnprAnswer(found=False, operation_id=body.get("idOperazioneANPR"), anomalies=anomalies)
    subject = subjects[0]
    answer = AnprAnswer(found=True, operation_id=body.get("idOperazioneANPR"), anomalies=anomalies)
    for item in subject.get("residenza") or []:
        if answer.residence is None:
            answer.residence = _residence(item)
        if answer.abroad is None:
            answer.abroad = _abroad(item)
    for info in subject.get("infoSoggettoEnte") or []:
        if _is_death(info.get("chiave")):
            answer.deceased_date = _date(info.get("valoreData")) or answer.deceased_date
    return answer


def _errors(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("listaErrori") if isinstance(body, dict) else None
    texts = [_text(e.get("codiceErroreAnomalia"), e.get("testoErroreAnomalia")) for e in errors or []]
    return "; ".join(t for t in texts if t)[:300]


def fetch(
    client: httpx.Client,
    settings: PdndSettings,
    service: EService,
    codice_fiscale: str,
    *,
    reference: str,
    user_id: str,
    on: dt.date,
) -> AnprAnswer:
    """Ask ANPR; a subject ANPR does not know is `found=False`; anything else unexpected is RegistryError."""
    response = call(
        client,
        settings,
        service,
        "POST",
        PATH,
        user_id=user_id,
        json_body=build_request(codice_fiscale, reference, on),
    )
    if response.status_code == 404:
        return AnprAnswer(found=False)
    if response.status_code != 200:
        detail = _errors(response)
        kind = "richiesta rifiutata" if response.status_code < 500 else "errore del servizio"
        raise RegistryError(
            f"{NAME}: {kind} (HTTP {response.status_code})" + (f": {detail}" if detail else "") + "."
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise RegistryError(f"{NAME}: risposta non leggibile.") from exc
    if not isinstance(body, dict):
        raise RegistryError(f"{NAME}: risposta non valida.")
    return parse_answer(body)
