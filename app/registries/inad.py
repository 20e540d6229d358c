"""INAD (Indice nazionale dei domicili digitali, art. 6-quater CAD): the domicilio digitale of a taxpayer.

Contract: /work/shared/data/specs/inad/inad_extraction.yaml ("INAD - Domicilio Digitale" 1.0.0-SNAPSHOT):
`GET /extract/{codice_fiscale}?practicalReference=...` with the PDND voucher as bearer; 200
`Response_Request_Digital_Address` = {codiceFiscale, since, digitalAddress [{digitalAddress,
practicedProfession, usageInfo {motivation, dateEndValidity}}]}; 404 = no domicilio digitale;
400/401/403/500/503 `Errore`.

The address kept is the first one elected as a person or ente (no `practicedProfession`), else the first
one; an address whose `usageInfo.dateEndValidity` is past is ceased and skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from app.registries.pdnd import EService, PdndSettings, RegistryError, call

NAME = "INAD"


@dataclass(frozen=True, slots=True)
class InadAnswer:
    found: bool
    address: str | None = None
    since: str | None = None
    profession: str | None = None


def _when(value: Any) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_answer(body: dict[str, Any], now: dt.datetime) -> InadAnswer:
    usable = []
    for item in body.get("digitalAddress") or []:
        end = _when((item.get("usageInfo") or {}).get("dateEndValidity"))
        if item.get("digitalAddress") and (end is None or end > now):
            usable.append(item)
    if not usable:
        return InadAnswer(found=False, since=body.get("since"))
    chosen = next((i for i in usable if not i.get("practicedProfession")), usable[0])
    return InadAnswer(
        found=True,
        address=str(chosen["digitalAddress"]),
        since=body.get("since"),
        profession=chosen.get("practicedProfession"),
    )


def fetch(
    client: httpx.Client,
    settings: PdndSettings,
    service: EService,
    codice_fiscale: str,
    *,
    reference: str,
    user_id: str,
    now: dt.datetime,
) -> InadAnswer:
    response = call(
        client,
        settings,
        service,
        "GET",
        f"/extract/{quote(codice_fiscale, safe='')}",
        user_id=user_id,
        params={"practicalReference": reference},
    )
    if response.status_code == 404:
        return InadAnswer(found=False)
    if response.status_code != 200:
        detail = ""
        try:
            body = response.json()
            detail = str(body.get("detail") or "")[:300] if isinstance(body, dict) else ""
        except ValueError:
            pass
        kind = "richiesta rifiutata" if response.status_code < 500 else "servizio non disponibile"
        raise RegistryError(
            f"{NAME}: {kind} (HTTP {response.status_code})" + (f": {detail}" if detail else "") + "."
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise RegistryError(f"{NAME}: risposta non leggibile.") from exc
    if not isinstance(body, dict):
        raise RegistryError(f"{NAME}: risposta non valida.")
    return parse_answer(body, now)
